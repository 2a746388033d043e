package server

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestHealthzPing(t *testing.T) {
	down := errors.New("connection refused")
	tests := []struct {
		name   string
		fails  int // pings that fail before one succeeds
		method string
		code   int
		body   string
	}{
		{"up", 0, http.MethodGet, http.StatusOK, `{"status":"ok"}`},
		{"one stale connection", 1, http.MethodGet, http.StatusOK, `{"status":"ok"}`},
		{"down", 1000, http.MethodGet, http.StatusServiceUnavailable, `{"status":"unavailable"}`},
		{"wrong method", 0, http.MethodPost, http.StatusMethodNotAllowed, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := New(Config{DSN: "postgres://unused", InstanceID: "x", Logger: slog.New(slog.DiscardHandler)})
			require.NoError(t, err)
			pings := 0
			s.pingFn = func(ctx context.Context) error {
				pings++
				if pings <= tt.fails {
					return down
				}
				return nil
			}
			rec := httptest.NewRecorder()
			s.ServeHTTP(rec, httptest.NewRequest(tt.method, "/healthz", nil))
			assert.Equal(t, tt.code, rec.Code, "%s /healthz", tt.method)
			if tt.body != "" {
				assert.JSONEq(t, tt.body, rec.Body.String())
				assert.Equal(t, "application/json", rec.Header().Get("Content-Type"))
			}
		})
	}
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		ok   bool
	}{
		{"dsn and instance", Config{DSN: "postgres://x", InstanceID: "a"}, true},
		{"dsn and data dir", Config{DSN: "postgres://x", DataDir: "/tmp/x"}, true},
		{"no dsn", Config{InstanceID: "a"}, false},
		{"no instance id nor data dir", Config{DSN: "postgres://x"}, false},
		{"negative status interval", Config{DSN: "postgres://x", InstanceID: "a", WALStatusInterval: -1}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.cfg)
			if tt.ok {
				assert.NoError(t, err)
			} else {
				assert.ErrorIs(t, err, ErrInvalidConfig)
			}
		})
	}
}

func TestInstanceID(t *testing.T) {
	dir := t.TempDir()
	_, err := ReadInstanceID(dir)
	require.Error(t, err)
	id, err := LoadInstanceID(dir)
	require.NoError(t, err)
	assert.Len(t, id, 16)
	again, err := LoadInstanceID(dir)
	require.NoError(t, err)
	assert.Equal(t, id, again, "the id survives restarts")
	read, err := ReadInstanceID(dir)
	require.NoError(t, err)
	assert.Equal(t, id, read)
}

func TestPrecedes(t *testing.T) {
	tests := []struct {
		a, b uint32
		want bool
	}{
		{1, 2, true},
		{2, 1, false},
		{5, 5, false},
		{0xfffffff0, 3, true}, // across wraparound
		{3, 0xfffffff0, false},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, precedes(tt.a, tt.b), "precedes(%d, %d)", tt.a, tt.b)
	}
}

func TestXidSnapshot(t *testing.T) {
	s, err := parseSnapshot("100:110:102,105")
	require.NoError(t, err)
	tests := []struct {
		xid  uint32
		want bool
	}{
		{99, true},   // below xmin
		{100, true},  // not listed as running
		{102, false}, // running
		{104, true},  // completed between xmin and xmax
		{105, false},
		{110, false}, // not yet assigned when the snapshot was taken
		{200, false},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, s.completed(tt.xid), "completed(%d)", tt.xid)
	}
	// 64-bit ids are cut to the WAL's 32 bits; wraparound compares right.
	s, err = parseSnapshot("4294967290:4294967306:")
	require.NoError(t, err)
	assert.True(t, s.completed(4294967295), "just before the wrap")
	assert.True(t, s.completed(5), "after the wrap, below xmax's low half 10")
	assert.False(t, s.completed(10))
	for _, bad := range []string{"", "1:2", "a:2:", "1:2:x"} {
		_, err := parseSnapshot(bad)
		assert.Error(t, err, "parseSnapshot(%q)", bad)
	}
}
