//go:build !(js && wasm)

package e2e

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/triplesync/triplesync/demo"
	"github.com/triplesync/triplesync/internal/perm"
	"github.com/triplesync/triplesync/internal/pgtest"
	"github.com/triplesync/triplesync/internal/server"
	"github.com/triplesync/triplesync/session"
)

var verbose = flag.Bool("server-log", false, "log the triplesync server's events")

func TestMain(m *testing.M) { pgtest.Main(m) }

var (
	distOnce sync.Once
	distDir  string
	distErr  error
)

// clientDir builds the browser client once per test binary.
func clientDir(tb testing.TB) string {
	tb.Helper()
	distOnce.Do(func() {
		_, file, _, _ := runtime.Caller(0)
		root := filepath.Join(filepath.Dir(file), "..", "..")
		dir, err := os.MkdirTemp("", "triplesync-client-")
		if err != nil {
			distErr = err
			return
		}
		cmd := exec.Command("bash", filepath.Join(root, "scripts", "build-client"), "--no-compress", dir)
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			distErr = fmt.Errorf("scripts/build-client: %v\n%s", err, out)
			return
		}
		distDir = dir
	})
	if distErr != nil {
		tb.Fatal(distErr)
	}
	return distDir
}

// env is one test's world: a database, a front HTTP server serving the
// client and the demo, and the triplesync server behind it, which the
// test stops and starts.
type env struct {
	tb    testing.TB
	db    *pgtest.DB
	front *http.Server
	addr  string

	mu      sync.Mutex
	backend *server.Server
	cur     atomic.Pointer[server.Server]
}

func newEnv(tb testing.TB) *env {
	tb.Helper()
	dir := clientDir(tb)
	e := &env{tb: tb, db: pgtest.New(tb)}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(tb, err)
	e.addr = ln.Addr().String()
	proxy := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := e.cur.Load()
		if s == nil {
			http.Error(w, "triplesync server down", http.StatusServiceUnavailable)
			return
		}
		s.ServeHTTP(w, r)
	})
	e.front = &http.Server{Handler: demo.Handler(proxy, dir, true)}
	go e.front.Serve(ln)
	tb.Cleanup(func() {
		e.stop()
		_ = e.front.Close()
	})
	e.start()
	return e
}

// URL is the demo's address.
func (e *env) URL() string { return "http://" + e.addr + "/" }

// WS is the session endpoint through the front server.
func (e *env) WS() string { return "ws://" + e.addr + "/runtime/session" }

// start starts a triplesync server on the test's database (the same slot
// every time, so a restart resumes the WAL where the last one stopped).
func (e *env) start() {
	e.tb.Helper()
	e.mu.Lock()
	defer e.mu.Unlock()
	require.Nil(e.tb, e.backend, "server already running")
	rules, err := perm.ParseRules([]byte(`{}`), true)
	require.NoError(e.tb, err)
	logger := slog.New(slog.DiscardHandler)
	if *verbose {
		logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0") // its own, unused: the front server routes to it
	require.NoError(e.tb, err)
	srv, err := server.New(server.Config{
		DSN:        e.db.DSN,
		Listener:   ln,
		InstanceID: "e2e",
		Session:    session.Config{Dev: true, Rules: rules},
		Logger:     logger,
	})
	require.NoError(e.tb, err)
	ctx, cancel := context.WithTimeout(context.Background(), browserTimeout)
	defer cancel()
	require.NoError(e.tb, srv.Open(ctx))
	e.backend = srv
	e.cur.Store(srv)
}

// stop stops the triplesync server: every WebSocket drops, and dials fail
// until start.
func (e *env) stop() {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.backend == nil {
		return
	}
	e.cur.Store(nil)
	ctx, cancel := context.WithTimeout(context.Background(), browserTimeout)
	defer cancel()
	if err := e.backend.Close(ctx); err != nil && !errors.Is(err, context.Canceled) {
		e.tb.Logf("stop server: %v", err)
	}
	e.backend = nil
}
