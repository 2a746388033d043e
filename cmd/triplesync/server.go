package main

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"time"
)

// pingTimeout bounds one health check of Postgres.
const pingTimeout = 2 * time.Second

// server is the HTTP side of serve: its routes live on mux, registered in
// routes, where later issues add theirs (the WebSocket endpoint, the admin
// API).
type server struct {
	mux    *http.ServeMux
	logger *slog.Logger

	// ping checks that Postgres answers: the pool's Ping in production.
	ping func(ctx context.Context) error
}

func newServer(logger *slog.Logger, ping func(ctx context.Context) error) *server {
	s := &server{mux: http.NewServeMux(), logger: logger, ping: ping}
	s.routes()
	return s
}

func (s *server) routes() {
	s.mux.HandleFunc("GET /healthz", s.handleHealthz)
}

func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// handleHealthz answers 200 {"status":"ok"} while Postgres answers a ping
// and 503 {"status":"unavailable"} otherwise; the reason goes to the log, not
// to whoever probes. A failed ping is
// tried again while time is left: the first may have drawn a pooled
// connection that died with a Postgres restart.
func (s *server) handleHealthz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), pingTimeout)
	defer cancel()
	err := s.ping(ctx)
	for try := 1; err != nil && try < 3 && ctx.Err() == nil; try++ {
		err = s.ping(ctx)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	if err != nil {
		s.logger.Warn("healthz: postgres does not answer", logKeyError, err)
		w.WriteHeader(http.StatusServiceUnavailable)
		_ = json.NewEncoder(w).Encode(map[string]string{"status": "unavailable"})
		return
	}
	_ = json.NewEncoder(w).Encode(map[string]string{"status": "ok"})
}
