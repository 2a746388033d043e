package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"runtime/pprof"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"github.com/triplesync/triplesync/internal/wire"
	"github.com/triplesync/triplesync/store"
)

// dialer is shared by every bench client: loopback, no proxy, small
// buffers (10,000 sessions with the default 4 KiB read and write buffers
// would be 80 MB of client memory alone).
var dialer = &websocket.Dialer{
	NetDialContext:   (&net.Dialer{Timeout: 10 * time.Second}).DialContext,
	HandshakeTimeout: 30 * time.Second,
	ReadBufferSize:   1024,
	WriteBufferSize:  1024,
}

// wsClient is a raw wire-level client: one WebSocket, one live query.
// It decodes every frame it receives (wire.Parse) and reports each number
// value it finds in a refresh-ok's added triples to onValue: the bench's
// writes set an item's "n" to a sequence number, so the value names the
// write. A value delivered this way has been received and decoded, which is
// what "client-applied" means here.
type wsClient struct {
	ws   *websocket.Conn
	done chan struct{}
}

// dialClient opens a session on url, subscribes to q and returns once
// add-query-ok arrived. A reader goroutine then runs until Close: it
// decodes frames for onValue, or with onValue nil only discards them (an
// idle client still reads, so gorilla answers the server's pings).
func dialClient(ctx context.Context, url, q string, onValue func(seq int, at time.Time)) (*wsClient, error) {
	ws, _, err := dialer.DialContext(ctx, url, nil)
	if err != nil {
		return nil, fmt.Errorf("dial: %w", err)
	}
	c := &wsClient{ws: ws, done: make(chan struct{})}
	if err := c.handshake(q); err != nil {
		ws.Close()
		return nil, err
	}
	// The clients' goroutines carry a profile label, so that a
	// -cpuprofile splits into the server's work and the clients'
	// (go tool pprof -tagignore side=client shows the server alone).
	pprof.Do(context.Background(), pprof.Labels("side", "client"), func(context.Context) {
		go c.read(onValue)
	})
	return c, nil
}

func (c *wsClient) send(m wire.Message) error {
	b, err := wire.Encode(nil, m)
	if err != nil {
		return err
	}
	return c.ws.WriteMessage(websocket.TextMessage, b)
}

// expect reads frames up to one of type T, skipping refresh-oks.
func expect[T wire.Message](c *wsClient) (T, error) {
	var zero T
	_ = c.ws.SetReadDeadline(time.Now().Add(60 * time.Second))
	defer c.ws.SetReadDeadline(time.Time{})
	for {
		_, b, err := c.ws.ReadMessage()
		if err != nil {
			return zero, fmt.Errorf("read: %w", err)
		}
		m, err := wire.Parse(b)
		if err != nil {
			return zero, fmt.Errorf("parse %s: %w", b, err)
		}
		if t, ok := m.(T); ok {
			return t, nil
		}
		if e, ok := m.(*wire.Error); ok {
			return zero, fmt.Errorf("server error %s: %s", e.Type, e.Message)
		}
	}
}

func (c *wsClient) handshake(q string) error {
	if err := c.send(&wire.Init{ClientEventID: "init"}); err != nil {
		return fmt.Errorf("send init: %w", err)
	}
	if _, err := expect[*wire.InitOK](c); err != nil {
		return fmt.Errorf("init: %w", err)
	}
	if err := c.send(&wire.AddQuery{ClientEventID: "aq", QueryID: "q", Q: json.RawMessage(q)}); err != nil {
		return fmt.Errorf("send add-query: %w", err)
	}
	if _, err := expect[*wire.AddQueryOK](c); err != nil {
		return fmt.Errorf("add-query: %w", err)
	}
	return nil
}

func (c *wsClient) read(onValue func(seq int, at time.Time)) {
	defer close(c.done)
	for {
		_, b, err := c.ws.ReadMessage()
		if err != nil {
			return
		}
		if onValue == nil {
			continue
		}
		m, err := wire.Parse(b)
		if err != nil {
			continue
		}
		r, ok := m.(*wire.RefreshOK)
		if !ok {
			continue
		}
		at := time.Now()
		for _, comp := range r.Computations {
			for _, t := range comp.Added {
				if f, ok := t.V.AsNumber(); ok && t.V.Kind() == store.KindNumber && f >= 1 {
					onValue(int(f), at)
				}
			}
		}
	}
}

// Close closes the connection and waits for the reader.
func (c *wsClient) Close() {
	c.ws.Close()
	<-c.done
}

// dialMany opens n clients with up to 32 handshakes at a time; query(i) is
// client i's query and onValue(i) its callback (nil for idle clients).
func dialMany(ctx context.Context, url string, n int, query func(i int) string, onValue func(i int) func(int, time.Time)) ([]*wsClient, error) {
	clients := make([]*wsClient, n)
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
	)
	sem := make(chan struct{}, 32)
	for i := range n {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			var cb func(int, time.Time)
			if onValue != nil {
				cb = onValue(i)
			}
			c, err := dialClient(ctx, url, query(i), cb)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				if first == nil {
					first = fmt.Errorf("client %d: %w", i, err)
				}
				return
			}
			clients[i] = c
		}()
	}
	wg.Wait()
	if first != nil {
		closeAll(clients)
		return nil, first
	}
	return clients, nil
}

func closeAll(cs []*wsClient) {
	for _, c := range cs {
		if c != nil {
			c.Close()
		}
	}
}
