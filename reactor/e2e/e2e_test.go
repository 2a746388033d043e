// Package e2e_test runs Go clients (reactor with wsconn and filestore)
// against the real server: the triplesync binary, built from
// cmd/triplesync, serving on a pgtest database. It needs Postgres (see
// internal/pgtest: skipped without it, unless CI or
// TEST_REQUIRE_POSTGRES) and is skipped under -short. The tests live in
// their own package so the reactor package's tests stay free of
// Postgres and keep running under GOOS=js.
package e2e_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/triplesync/triplesync/internal/pgtest"
	"github.com/triplesync/triplesync/reactor"
	"github.com/triplesync/triplesync/reactor/filestore"
	"github.com/triplesync/triplesync/reactor/wsconn"
	"github.com/triplesync/triplesync/store"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
	buildDir  string
)

// serverBinary builds cmd/triplesync once per test binary.
func serverBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		buildDir, buildErr = os.MkdirTemp("", "triplesync-e2e-")
		if buildErr != nil {
			return
		}
		binPath = filepath.Join(buildDir, "triplesync")
		cmd := exec.Command("go", "build", "-o", binPath, "github.com/triplesync/triplesync/cmd/triplesync")
		out, err := cmd.CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build ./cmd/triplesync: %v\n%s", err, out)
		}
	})
	require.NoError(t, buildErr)
	return binPath
}

// server is a running `triplesync serve` process.
type server struct {
	t    *testing.T
	bin  string
	args []string
	addr string
	cmd  *exec.Cmd
	log  *os.File
}

// startServer runs the server on db with a free port, in dev mode (so
// clients may define attributes), and waits for /healthz.
func startServer(t *testing.T, db *pgtest.DB) *server {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	logf, err := os.Create(filepath.Join(t.TempDir(), "server.log"))
	require.NoError(t, err)
	s := &server{t: t, bin: serverBinary(t), addr: addr, log: logf,
		args: []string{"serve", "--database-url", db.DSN, "--addr", addr, "--dev", "--instance-id", db.Name}}
	s.start()
	t.Cleanup(s.stop)
	return s
}

func (s *server) url() string { return "ws://" + s.addr + "/runtime/session" }

func (s *server) start() {
	t := s.t
	t.Helper()
	s.cmd = exec.Command(s.bin, s.args...)
	s.cmd.Stdout, s.cmd.Stderr = s.log, s.log
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	require.NoError(t, s.cmd.Start())
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	for {
		resp, err := http.Get("http://" + s.addr + "/healthz")
		if err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		select {
		case <-ctx.Done():
			s.stop()
			t.Fatalf("the server did not come up; its log:\n%s", s.logText())
		case <-time.After(50 * time.Millisecond):
		}
	}
	// The serve command must wire the session endpoint.
	resp, err := http.Get("http://" + s.addr + "/runtime/session")
	require.NoError(t, err)
	_ = resp.Body.Close()
	if resp.StatusCode == http.StatusNotFound {
		s.stop()
		t.Fatalf("triplesync serve does not serve /runtime/session; its log:\n%s", s.logText())
	}
}

// stop ends the server with SIGTERM and waits for it.
func (s *server) stop() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = s.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		_ = s.cmd.Process.Kill()
		<-done
	}
	s.cmd = nil
}

func (s *server) logText() string {
	b, _ := os.ReadFile(s.log.Name())
	return string(b)
}

// openClient opens a client on the server with st (a MemStorage when
// nil), defining attributes on first use.
func openClient(t *testing.T, s *server, st reactor.Storage) *reactor.Client {
	t.Helper()
	c, err := reactor.NewClient(reactor.ClientConfig{
		Transport: &wsconn.Dialer{URL: s.url()},
		Storage:   st,
		Config:    reactor.Config{CreateMissingAttrs: true, MinBackoff: 20 * time.Millisecond, MaxBackoff: 200 * time.Millisecond},
		OnError:   func(err error) { t.Logf("client: %v", err) },
	})
	require.NoError(t, err)
	require.NoError(t, c.Open(t.Context()))
	t.Cleanup(func() { _ = c.Close(context.Background()) })
	return c
}

func waitOnline(t *testing.T, c *reactor.Client) {
	t.Helper()
	ch := make(chan reactor.Status, 100)
	defer c.SubscribeStatus(func(s reactor.Status) { ch <- s })()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	for {
		select {
		case s := <-ch:
			if s.State == reactor.StateOnline {
				return
			}
		case <-ctx.Done():
			t.Fatalf("the client never got online (status %v)", c.Status())
		}
	}
}

// subscribe returns a function waiting for a result of q that ok accepts.
func subscribe(t *testing.T, c *reactor.Client, q string) func(ok func(reactor.QueryResult) bool) reactor.QueryResult {
	ch := make(chan reactor.QueryResult, 10_000)
	unsub := c.SubscribeQuery([]byte(q), func(r reactor.QueryResult) { ch <- r })
	t.Cleanup(unsub)
	return func(ok func(reactor.QueryResult) bool) reactor.QueryResult {
		t.Helper()
		ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
		defer cancel()
		var last reactor.QueryResult
		for {
			select {
			case r := <-ch:
				last = r
				if ok(r) {
					return r
				}
			case <-ctx.Done():
				t.Fatalf("no result of %s as wanted; last: %+v", q, last)
			}
		}
	}
}

func titles(r reactor.QueryResult) []string {
	var out []string
	todos, _ := r.Data()["todos"].([]any)
	for _, x := range todos {
		if m, ok := x.(map[string]any); ok {
			s, _ := m["title"].(string)
			out = append(out, s)
		}
	}
	return out
}

func newID(t *testing.T) store.EntityID {
	id, err := store.NewEntityID(rand.Reader)
	require.NoError(t, err)
	return id
}

// Two clients see each other's writes through the server.
func TestTwoClients(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the server")
	}
	db := pgtest.New(t)
	srv := startServer(t, db)
	a := openClient(t, srv, nil)
	b := openClient(t, srv, nil)
	waitOnline(t, a)
	waitOnline(t, b)

	// a's first write defines the attributes it uses.
	t1 := newID(t)
	tx, err := a.Transact([]store.TxOp{{Action: "create", Namespace: "todos", ID: t1, Args: map[string]any{"title": "from a", "n": 1}}})
	require.NoError(t, err)
	_, err = tx.Wait(t.Context())
	require.NoError(t, err, "server log:\n%s", srv.logText())

	q := `{"todos":{"$":{"order":{"title":"asc"}}}}`
	waitA := subscribe(t, a, q)
	waitB := subscribe(t, b, q)
	waitB(func(r reactor.QueryResult) bool { return r.Error == nil && strings.Join(titles(r), ",") == "from a" })
	waitA(func(r reactor.QueryResult) bool { return r.Error == nil && !r.FromCache && len(titles(r)) == 1 })

	tx, err = b.Transact([]store.TxOp{{Action: "update", Namespace: "todos", ID: t1, Args: map[string]any{"title": "from b"}}})
	require.NoError(t, err)
	_, err = tx.Wait(t.Context())
	require.NoError(t, err)
	waitA(func(r reactor.QueryResult) bool { return strings.Join(titles(r), ",") == "from b" })

	t2 := newID(t)
	_, err = a.Transact([]store.TxOp{{Action: "create", Namespace: "todos", ID: t2, Args: map[string]any{"title": "another from a", "n": 2}}})
	require.NoError(t, err)
	waitB(func(r reactor.QueryResult) bool { return strings.Join(titles(r), ",") == "another from a,from b" })
}

// With the server stopped, a client makes 100 writes; its process is
// restarted (a new Client on the same directory); the server comes back;
// all 100 reach Postgres exactly once and in order.
func TestOfflineWritesAcrossRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the server")
	}
	db := pgtest.New(t)
	srv := startServer(t, db)
	dir := t.TempDir()
	open := func() *reactor.Client {
		st, err := filestore.New(dir)
		require.NoError(t, err)
		c, err := reactor.NewClient(reactor.ClientConfig{
			Transport: &wsconn.Dialer{URL: srv.url()},
			Storage:   st,
			Config:    reactor.Config{CreateMissingAttrs: true, MinBackoff: 20 * time.Millisecond, MaxBackoff: 200 * time.Millisecond},
		})
		require.NoError(t, err)
		require.NoError(t, c.Open(t.Context()))
		return c
	}
	q := `{"todos":{"$":{"order":{"n":"asc"}}}}`

	// First run: online, the schema is defined and learnt, the query cached.
	c := open()
	waitOnline(t, c)
	tx, err := c.Transact([]store.TxOp{{Action: "create", Namespace: "todos", ID: newID(t), Args: map[string]any{"title": "first", "n": -1}}})
	require.NoError(t, err)
	_, err = tx.Wait(t.Context())
	require.NoError(t, err, "server log:\n%s", srv.logText())
	wait := subscribe(t, c, q)
	wait(func(r reactor.QueryResult) bool { return !r.FromCache && len(titles(r)) == 1 })
	require.NoError(t, c.Close(t.Context()))

	// The server stops; the second run writes 100 times, offline.
	srv.stop()
	c = open()
	var ids []string
	for i := range 100 {
		tx, err := c.Transact([]store.TxOp{{Action: "create", Namespace: "todos", ID: newID(t),
			Args: map[string]any{"title": fmt.Sprintf("offline %03d", i), "n": i}}})
		require.NoError(t, err)
		ids = append(ids, tx.MutationID())
	}
	wait = subscribe(t, c, q)
	r := wait(func(r reactor.QueryResult) bool { return len(titles(r)) == 101 })
	assert.True(t, r.FromCache, "offline, the result rests on the cache")
	assert.NotEqual(t, reactor.StateOnline, c.Status().State)
	require.NoError(t, c.Close(t.Context()))

	// The server comes back; a third run (a restarted process) sends them.
	srv.start()
	c = open()
	defer c.Close(context.Background())
	wait = subscribe(t, c, q)
	wait(func(r reactor.QueryResult) bool { return !r.FromCache && len(titles(r)) == 101 })

	conn, err := pgx.Connect(t.Context(), db.DSN)
	require.NoError(t, err)
	defer conn.Close(context.Background())
	var got []string
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	for {
		rows, err := conn.Query(ctx, `SELECT mutation_id FROM transactions WHERE mutation_id = ANY($1) ORDER BY id`, ids)
		require.NoError(t, err)
		got, err = pgx.CollectRows(rows, pgx.RowTo[string])
		require.NoError(t, err)
		if len(got) >= len(ids) || ctx.Err() != nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	assert.Equal(t, ids, got, "every offline write reached Postgres once, in order")
	var n int
	require.NoError(t, conn.QueryRow(ctx, `SELECT count(*) FROM transactions`).Scan(&n))
	assert.Equal(t, 101, n, "no write was applied twice")
}
