//go:build js && wasm

package wasm_test

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/triplesync/triplesync/wasm"
)

func TestWebSocketEcho(t *testing.T) {
	if *echoURL == "" {
		t.Skip("no -echo endpoint")
	}
	ctx := context.Background()
	c, err := (&wasm.WebSocket{URL: *echoURL}).Dial(ctx)
	require.NoError(t, err)
	big := bytes.Repeat([]byte("x"), 1<<20)
	frames := [][]byte{[]byte(`{"op":"init"}`), []byte(`"héllo ✓"`), big}
	for _, f := range frames {
		require.NoError(t, c.WriteFrame(ctx, f))
	}
	for i, want := range frames {
		got, err := c.ReadFrame(ctx)
		require.NoError(t, err)
		assert.True(t, bytes.Equal(want, got), "frame %d: %d bytes, want %d", i, len(got), len(want))
	}
	// The server closes: the read says how.
	require.NoError(t, c.WriteFrame(ctx, []byte("close-please")))
	_, err = c.ReadFrame(ctx)
	var ce *wasm.CloseError
	require.True(t, errors.As(err, &ce), "ReadFrame after the server closed: %v", err)
	assert.Equal(t, 4000, ce.Code)
	assert.ErrorIs(t, err, wasm.ErrConnClosed)
	assert.Error(t, c.WriteFrame(ctx, []byte("late")))
	assert.NoError(t, c.Close())
}

func TestWebSocketClose(t *testing.T) {
	if *echoURL == "" {
		t.Skip("no -echo endpoint")
	}
	ctx := context.Background()
	c, err := (&wasm.WebSocket{URL: *echoURL}).Dial(ctx)
	require.NoError(t, err)
	require.NoError(t, c.Close())
	_, err = c.ReadFrame(ctx)
	assert.ErrorIs(t, err, wasm.ErrConnClosed)
}

func TestWebSocketDialFails(t *testing.T) {
	_, err := (&wasm.WebSocket{URL: "ws://127.0.0.1:1/runtime/session"}).Dial(context.Background())
	assert.ErrorIs(t, err, wasm.ErrConnClosed, "dial a closed port")
	_, err = (&wasm.WebSocket{URL: "ws://[bad"}).Dial(context.Background())
	assert.Error(t, err)
}
