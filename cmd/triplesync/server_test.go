package main

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestHealthz(t *testing.T) {
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
			pings := 0
			ping := func(ctx context.Context) error {
				pings++
				if pings <= tt.fails {
					return down
				}
				return nil
			}
			s := newServer(slog.New(slog.DiscardHandler), ping)
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
