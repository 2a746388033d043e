//go:build js && wasm

package wasm

import (
	"context"
	"sync"
	"syscall/js"

	"github.com/triplesync/triplesync/internal/errs"
	"github.com/triplesync/triplesync/reactor"
)

// WebSocket is the browser's [reactor.Transport]: the JS WebSocket through
// syscall/js. It is much smaller in the wasm binary than a Go WebSocket
// library (no net/http), and the browser does the framing, pings and TLS.
type WebSocket struct {
	// URL is the server's endpoint, ws://host/runtime/session.
	URL string
}

var (
	_ reactor.Transport = (*WebSocket)(nil)
	_ reactor.Conn      = (*wsConn)(nil)
)

// Dial implements [reactor.Transport]: it opens a WebSocket and waits for
// its open event, or its close event (the server is unreachable), or ctx.
func (t *WebSocket) Dial(ctx context.Context) (reactor.Conn, error) {
	ws, err := construct("WebSocket", t.URL)
	if err != nil {
		return nil, errs.Wrap("wasm: websocket "+t.URL, err)
	}
	c := &wsConn{ws: ws, wake: make(chan struct{}, 1), opened: make(chan struct{})}
	ws.Set("onopen", c.funcs.add(func(js.Value, []js.Value) any {
		close(c.opened)
		return nil
	}))
	ws.Set("onmessage", c.funcs.add(func(_ js.Value, args []js.Value) any {
		data := arg(args, 0).Get("data")
		c.mu.Lock()
		c.queue = append(c.queue, bytesFromJS(data))
		c.mu.Unlock()
		c.signal()
		return nil
	}))
	ws.Set("onclose", c.funcs.add(func(_ js.Value, args []js.Value) any {
		ev := arg(args, 0)
		c.mu.Lock()
		if c.err == nil {
			c.err = &CloseError{Code: ev.Get("code").Int(), Reason: ev.Get("reason").String()}
		}
		c.mu.Unlock()
		c.signal()
		// Nothing follows a close event: let the callbacks go.
		for _, ev := range []string{"onopen", "onmessage", "onclose"} {
			ws.Set(ev, js.Null())
		}
		c.funcs.release()
		return nil
	}))
	// onerror is always followed by onclose, which carries the code.
	select {
	case <-c.opened:
		return c, nil
	case <-c.wake:
		c.mu.Lock()
		err := c.err
		c.mu.Unlock()
		c.Close()
		if err == nil {
			err = ErrConnClosed
		}
		return nil, errs.Wrap("wasm: websocket "+t.URL, err)
	case <-ctx.Done():
		c.Close()
		return nil, ctx.Err()
	}
}

func construct(class string, args ...any) (v js.Value, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = recovered(r)
		}
	}()
	return js.Global().Get(class).New(args...), nil
}

// wsConn is one open WebSocket. The JS callbacks only append to the queue
// and signal; ReadFrame waits on its own goroutine.
type wsConn struct {
	ws     js.Value
	funcs  handlers
	opened chan struct{}
	wake   chan struct{} // capacity 1: a frame arrived or the socket closed

	mu     sync.Mutex
	queue  [][]byte
	err    error // why it closed; nil while open
	closed bool  // Close was called
}

func (c *wsConn) signal() {
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// ReadFrame implements [reactor.Conn].
func (c *wsConn) ReadFrame(ctx context.Context) ([]byte, error) {
	for {
		c.mu.Lock()
		if len(c.queue) > 0 {
			f := c.queue[0]
			c.queue[0] = nil
			c.queue = c.queue[1:]
			more := len(c.queue) > 0
			c.mu.Unlock()
			if more {
				c.signal()
			}
			return f, nil
		}
		err := c.err
		c.mu.Unlock()
		if err != nil {
			c.signal() // other readers see it too
			return nil, err
		}
		select {
		case <-c.wake:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// WriteFrame implements [reactor.Conn]: the browser queues the frame
// (WebSocket.send does not block).
func (c *wsConn) WriteFrame(ctx context.Context, frame []byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	err := c.err
	c.mu.Unlock()
	if err != nil {
		return err
	}
	if _, err := call(c.ws, "send", string(frame)); err != nil {
		return errs.Wrap("wasm: websocket send", err)
	}
	return nil
}

// Close implements [reactor.Conn].
func (c *wsConn) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	if c.err == nil {
		c.err = ErrConnClosed
	}
	c.mu.Unlock()
	_, _ = call(c.ws, "close", 1000)
	c.signal()
	// The close event may still come: the handlers stay until then, and
	// only record what has already been recorded.
	return nil
}
