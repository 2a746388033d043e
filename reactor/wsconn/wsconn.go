// Package wsconn is the native reactor.Transport: WebSocket connections
// to a triplesync server's /runtime/session, dialled with
// gorilla/websocket. Browsers use their own WebSocket (package wasm),
// since gorilla cannot dial from GOOS=js.
package wsconn

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"github.com/triplesync/triplesync/internal/wire"
	"github.com/triplesync/triplesync/reactor"
)

// Defaults for [Dialer] fields left zero.
const (
	DefaultPingInterval     = 20 * time.Second
	DefaultHandshakeTimeout = 10 * time.Second
	DefaultWriteTimeout     = 10 * time.Second
)

// ErrClosed is returned by reads and writes on a closed connection.
var ErrClosed = errors.New("wsconn: connection closed")

// Dialer dials a server. The zero value is not usable: URL is required.
type Dialer struct {
	// URL is the session endpoint, e.g. ws://localhost:8080/runtime/session.
	URL string
	// Header is sent with the handshake (cookies, an origin).
	Header http.Header
	// MaxMessageBytes bounds the frames read; a larger one ends the
	// connection. Zero: wire.DefaultMaxMessageBytes.
	MaxMessageBytes int64
	// PingInterval is how often the client pings; a connection that
	// brings no frame, ping or pong for two intervals is dead and closed.
	// Zero: DefaultPingInterval.
	PingInterval time.Duration
	// HandshakeTimeout bounds the opening handshake. Zero:
	// DefaultHandshakeTimeout.
	HandshakeTimeout time.Duration
	// WriteTimeout bounds each write. Zero: DefaultWriteTimeout.
	WriteTimeout time.Duration
}

var _ reactor.Transport = (*Dialer)(nil)

// Dial implements [reactor.Transport]. It fails with a *DialError for a
// refused handshake (carrying the HTTP status), or the network's error.
func (d *Dialer) Dial(ctx context.Context) (reactor.Conn, error) {
	if d.URL == "" {
		return nil, errors.New("wsconn: Dialer.URL is required")
	}
	gd := websocket.Dialer{HandshakeTimeout: or(d.HandshakeTimeout, DefaultHandshakeTimeout), Proxy: http.ProxyFromEnvironment}
	ws, resp, err := gd.DialContext(ctx, d.URL, d.Header)
	if err != nil {
		de := &DialError{URL: d.URL, Err: err}
		if resp != nil {
			de.Status = resp.StatusCode
		}
		return nil, de
	}
	if resp != nil && resp.Body != nil {
		_ = resp.Body.Close()
	}
	c := &Conn{
		ws:    ws,
		ping:  or(d.PingInterval, DefaultPingInterval),
		write: or(d.WriteTimeout, DefaultWriteTimeout),
		done:  make(chan struct{}),
	}
	limit := d.MaxMessageBytes
	if limit <= 0 {
		limit = wire.DefaultMaxMessageBytes
	}
	ws.SetReadLimit(limit)
	c.alive()
	ws.SetPongHandler(func(string) error { c.alive(); return nil })
	ws.SetPingHandler(func(data string) error {
		c.alive()
		err := ws.WriteControl(websocket.PongMessage, []byte(data), time.Now().Add(c.write))
		if errors.Is(err, websocket.ErrCloseSent) {
			return nil
		}
		return err
	})
	c.wg.Add(1)
	go c.pinger()
	return c, nil
}

func or(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}

// DialError is a failed dial.
type DialError struct {
	URL    string
	Status int // the HTTP status of a refused handshake; zero when none came
	Err    error
}

// Error implements error.
func (e *DialError) Error() string {
	if e.Status != 0 {
		return fmt.Sprintf("wsconn: dial %s: status %d: %v", e.URL, e.Status, e.Err)
	}
	return fmt.Sprintf("wsconn: dial %s: %v", e.URL, e.Err)
}

// Unwrap returns the cause.
func (e *DialError) Unwrap() error { return e.Err }

// Conn is one WebSocket connection, a [reactor.Conn]. One goroutine may
// read while another writes; Close may be called from any.
type Conn struct {
	ws    *websocket.Conn
	ping  time.Duration
	write time.Duration

	wmu       sync.Mutex // serialises WriteFrame
	closeOnce sync.Once
	done      chan struct{}
	wg        sync.WaitGroup
}

var _ reactor.Conn = (*Conn)(nil)

// alive pushes the read deadline two ping intervals ahead.
func (c *Conn) alive() { _ = c.ws.SetReadDeadline(time.Now().Add(2 * c.ping)) }

// pinger pings every interval until the connection closes.
func (c *Conn) pinger() {
	defer c.wg.Done()
	t := time.NewTicker(c.ping)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			if err := c.ws.WriteControl(websocket.PingMessage, nil, time.Now().Add(c.write)); err != nil {
				_ = c.shutdown()
				return
			}
		case <-c.done:
			return
		}
	}
}

// ReadFrame implements [reactor.Conn]. Cancelling ctx ends the connection
// (gorilla cannot resume a read that timed out).
func (c *Conn) ReadFrame(ctx context.Context) ([]byte, error) {
	stop := context.AfterFunc(ctx, func() { _ = c.ws.SetReadDeadline(time.Now()) })
	defer stop()
	_, data, err := c.ws.ReadMessage()
	if err != nil {
		select {
		case <-c.done:
			return nil, ErrClosed
		default:
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("wsconn: read: %w", err)
	}
	c.alive()
	return data, nil
}

// WriteFrame implements [reactor.Conn]: one text frame, within
// WriteTimeout and ctx. Cancelling ctx during the write ends the
// connection: a frame cut short leaves the stream unusable anyway.
func (c *Conn) WriteFrame(ctx context.Context, frame []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	select {
	case <-c.done:
		return ErrClosed
	default:
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	// gorilla's SetWriteDeadline is a plain field store read by the write
	// itself, so it may only be called here, never from another goroutine;
	// cancellation reaches a blocked write through the socket, whose
	// deadlines and Close are safe from any goroutine.
	_ = c.ws.SetWriteDeadline(time.Now().Add(c.write))
	stop := context.AfterFunc(ctx, func() { _ = c.ws.NetConn().Close() })
	defer stop()
	if err := c.ws.WriteMessage(websocket.TextMessage, frame); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("wsconn: write: %w", err)
	}
	return nil
}

// Close implements [reactor.Conn]: a close frame (best effort), then the
// socket; it waits for the pinger.
func (c *Conn) Close() error {
	err := c.shutdown()
	c.wg.Wait()
	return err
}

// shutdown closes the connection once, without waiting for the pinger
// (which calls it).
func (c *Conn) shutdown() error {
	err := ErrClosed
	c.closeOnce.Do(func() {
		close(c.done)
		_ = c.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(time.Second))
		err = c.ws.Close()
	})
	return err
}
