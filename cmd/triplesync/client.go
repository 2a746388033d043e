package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/triplesync/triplesync/demo"
)

// The browser side of serve: the built client at /client/ and, with
// --dev, the demo at /. The HTTP server in front routes those and hands
// everything else to internal/server, which is given an idle listener.

// DefaultClientDir is where scripts/build-client puts the browser client.
const DefaultClientDir = "dist"

var settingClientDir = setting{"client-dir", "TRIPLESYNC_CLIENT_DIR", "directory of the built browser client (scripts/build-client), served at /client/; empty serves none"}

// serverListener returns the listener internal/server serves on: an idle
// one, since the front server (serveClient) owns ln.
func (m *Main) serverListener(ln net.Listener) net.Listener {
	m.front = &front{ln: ln, idle: &idleListener{addr: ln.Addr(), done: make(chan struct{})}}
	return m.front.idle
}

// serveClient starts the front HTTP server on the real listener, once
// internal/server is open.
func (m *Main) serveClient() {
	f := m.front
	if f == nil {
		return
	}
	dir := m.Config.ClientDir
	if dir != "" {
		if err := demo.CheckClientDir(dir); err != nil {
			m.logger.Warn("browser client not served", logKeyError, err)
			dir = ""
		}
	}
	f.http = &http.Server{
		Handler:           demo.Handler(m.srv, dir, m.Config.Dev),
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(m.logger.Handler(), slog.LevelWarn),
	}
	f.served = make(chan struct{})
	go func() {
		defer close(f.served)
		if err := f.http.Serve(f.ln); !errors.Is(err, http.ErrServerClosed) {
			select {
			case m.serveErr <- fmt.Errorf("serve http: %w", err):
			default:
			}
		}
	}()
}

// closeClient stops the front server (WebSockets it handed over end with
// internal/server's Close), or closes the listener if it never served.
func (m *Main) closeClient(ctx context.Context) error {
	f := m.front
	if f == nil {
		return nil
	}
	if f.http == nil {
		return f.ln.Close()
	}
	err := f.http.Shutdown(ctx)
	<-f.served
	if err != nil {
		return fmt.Errorf("shutdown http: %w", err)
	}
	return nil
}

// front is the HTTP server in front of internal/server.
type front struct {
	ln     net.Listener
	idle   *idleListener
	http   *http.Server
	served chan struct{}
}

// idleListener accepts nothing until closed: internal/server serves on it
// while the front server routes requests to it.
type idleListener struct {
	addr net.Addr
	once sync.Once
	done chan struct{}
}

func (l *idleListener) Accept() (net.Conn, error) {
	<-l.done
	return nil, net.ErrClosed
}

func (l *idleListener) Close() error {
	l.once.Do(func() { close(l.done) })
	return nil
}

func (l *idleListener) Addr() net.Addr { return l.addr }
