package wsconn_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/triplesync/triplesync/reactor/wsconn"
)

// server runs handle for every WebSocket connection to an httptest
// server and returns the ws:// URL of its /runtime/session.
func server(t *testing.T, handle func(ws *websocket.Conn)) string {
	t.Helper()
	up := websocket.Upgrader{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/runtime/session" {
			http.NotFound(w, r)
			return
		}
		ws, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer ws.Close()
		handle(ws)
	}))
	t.Cleanup(srv.Close)
	return "ws" + strings.TrimPrefix(srv.URL, "http") + "/runtime/session"
}

func echo(ws *websocket.Conn) {
	for {
		mt, data, err := ws.ReadMessage()
		if err != nil {
			return
		}
		if err := ws.WriteMessage(mt, data); err != nil {
			return
		}
	}
}

func TestRoundTrip(t *testing.T) {
	ctx := t.Context()
	d := &wsconn.Dialer{URL: server(t, echo)}
	c, err := d.Dial(ctx)
	require.NoError(t, err)
	defer c.Close()
	for _, frame := range []string{`{"op":"init"}`, `{"op":"add-query","q":{}}`, strings.Repeat("x", 70_000)} {
		require.NoError(t, c.WriteFrame(ctx, []byte(frame)))
		got, err := c.ReadFrame(ctx)
		require.NoError(t, err)
		assert.Equal(t, frame, string(got))
	}
}

func TestReadLimit(t *testing.T) {
	ctx := t.Context()
	d := &wsconn.Dialer{URL: server(t, echo), MaxMessageBytes: 100}
	c, err := d.Dial(ctx)
	require.NoError(t, err)
	defer c.Close()
	require.NoError(t, c.WriteFrame(ctx, []byte(strings.Repeat("y", 101))))
	_, err = c.ReadFrame(ctx)
	require.ErrorIs(t, err, websocket.ErrReadLimit)
}

// A peer that stops answering pings is given up after two intervals.
func TestDeadPeer(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	release := make(chan struct{})
	d := &wsconn.Dialer{URL: server(t, func(*websocket.Conn) { <-release }), PingInterval: 20 * time.Millisecond}
	defer close(release)
	c, err := d.Dial(ctx)
	require.NoError(t, err)
	defer c.Close()
	_, err = c.ReadFrame(ctx)
	require.Error(t, err)
	require.NoError(t, ctx.Err(), "the read ended because the peer was dead, not because the test timed out")
}

// Pings from the server are answered and keep the connection alive.
func TestServerPings(t *testing.T) {
	ctx := t.Context()
	pongs := make(chan struct{}, 10)
	d := &wsconn.Dialer{URL: server(t, func(ws *websocket.Conn) {
		ws.SetPongHandler(func(string) error { pongs <- struct{}{}; return nil })
		go func() {
			for range 3 {
				_ = ws.WriteControl(websocket.PingMessage, []byte("p"), time.Now().Add(time.Second))
			}
		}()
		echo(ws)
	})}
	c, err := d.Dial(ctx)
	require.NoError(t, err)
	defer c.Close()
	go func() {
		for {
			if _, err := c.ReadFrame(ctx); err != nil {
				return
			}
		}
	}()
	for range 3 {
		select {
		case <-pongs:
		case <-ctx.Done():
			t.Fatal("no pong")
		}
	}
}

func TestCloseAndCancelEndReads(t *testing.T) {
	ctx := t.Context()
	hold := func(ws *websocket.Conn) { _, _, _ = ws.ReadMessage() }
	d := &wsconn.Dialer{URL: server(t, hold)}

	c, err := d.Dial(ctx)
	require.NoError(t, err)
	done := make(chan error, 1)
	go func() { _, err := c.ReadFrame(ctx); done <- err }()
	require.NoError(t, c.Close())
	assert.ErrorIs(t, <-done, wsconn.ErrClosed)
	assert.ErrorIs(t, c.WriteFrame(ctx, []byte("x")), wsconn.ErrClosed)

	c, err = d.Dial(ctx)
	require.NoError(t, err)
	defer c.Close()
	cctx, cancel := context.WithCancel(ctx)
	go func() { _, err := c.ReadFrame(cctx); done <- err }()
	cancel()
	assert.ErrorIs(t, <-done, context.Canceled)
}

// A write blocked on a peer that reads nothing returns when its context is
// cancelled, and the connection is then done with. Run under -race this
// also checks that cancellation touches nothing the write is using (it
// once reset gorilla's write deadline from another goroutine).
func TestCancelEndsBlockedWrite(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	d := &wsconn.Dialer{URL: server(t, func(*websocket.Conn) { <-release })}
	c, err := d.Dial(t.Context())
	require.NoError(t, err)
	defer c.Close()

	ctx, cancel := context.WithCancel(t.Context())
	frame := []byte(strings.Repeat("z", 1<<20))
	done := make(chan error, 1)
	go func() {
		for { // fill the socket buffers until a write blocks
			if err := c.WriteFrame(ctx, frame); err != nil {
				done <- err
				return
			}
		}
	}()
	time.Sleep(100 * time.Millisecond)
	cancel()
	select {
	case err := <-done:
		assert.ErrorIs(t, err, context.Canceled)
	case <-time.After(5 * time.Second):
		t.Fatal("a cancelled write did not return")
	}
	assert.Error(t, c.WriteFrame(t.Context(), []byte("x")), "the connection must be unusable after a cut-short write")
}

func TestDialError(t *testing.T) {
	url := server(t, echo)
	_, err := (&wsconn.Dialer{URL: strings.TrimSuffix(url, "/runtime/session") + "/nope"}).Dial(t.Context())
	var de *wsconn.DialError
	require.True(t, errors.As(err, &de), "%v", err)
	assert.Equal(t, http.StatusNotFound, de.Status)
}
