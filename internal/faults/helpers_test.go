package faults_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"math/rand/v2"
	"net/http"
	"os"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/triplesync/triplesync/internal/perm"
	"github.com/triplesync/triplesync/internal/pgtest"
	"github.com/triplesync/triplesync/internal/server"
	"github.com/triplesync/triplesync/internal/wire"
	"github.com/triplesync/triplesync/session"
	"github.com/triplesync/triplesync/store"
)

// TestMain runs the tests, or, re-executed by TestServerKilled with
// envServeDSN set, a server for that test to kill.
func TestMain(m *testing.M) {
	if os.Getenv(envServeDSN) != "" {
		os.Exit(serveChild())
	}
	pgtest.Main(m)
}

const adminToken = "faults-admin-token"

// itemsQuery is every client's live query: the whole namespace.
const itemsQuery = `{"items":{}}`

// seed returns the seed of a test's randomness: TRIPLESYNC_FAULT_SEED, or
// a fresh one. It is logged so a failure can be replayed.
func seed(tb testing.TB) uint64 {
	tb.Helper()
	s := uint64(time.Now().UnixNano())
	if v := os.Getenv("TRIPLESYNC_FAULT_SEED"); v != "" {
		var err error
		s, err = strconv.ParseUint(v, 10, 64)
		require.NoError(tb, err, "TRIPLESYNC_FAULT_SEED")
	}
	tb.Logf("seed %d (replay with TRIPLESYNC_FAULT_SEED=%d)", s, s)
	return s
}

func testLogger() *slog.Logger {
	if os.Getenv("TRIPLESYNC_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}

// sessionConfig allows everything (dev rules), so clients can be
// anonymous.
func sessionConfig(tb testing.TB) session.Config {
	tb.Helper()
	scfg, err := allowAll()
	require.NoError(tb, err)
	return scfg
}

func allowAll() (session.Config, error) {
	rules, err := perm.ParseRules([]byte(`{}`), true)
	return session.Config{Rules: rules, Dev: true, AdminToken: adminToken}, err
}

// mustOpen starts a server on db with its own instance id (so its own
// slot) and closes it when the test ends.
func mustOpen(tb testing.TB, db *pgtest.DB, instance string, scfg session.Config) *server.Server {
	tb.Helper()
	srv, err := server.New(server.Config{
		DSN:               db.DSN,
		InstanceID:        db.Name + "_" + instance,
		Session:           scfg,
		Logger:            testLogger(),
		WALStatusInterval: time.Second,
	})
	require.NoError(tb, err)
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		require.NoError(tb, srv.Close(ctx))
	})
	require.NoError(tb, srv.Open(tb.Context()))
	// The items namespace and its attributes exist before any client
	// subscribes (an add-query on an unknown namespace is an error).
	require.NoError(tb, adminTransact(tb.Context(), srv,
		[]any{"update", "items", item(0).String(), map[string]any{"n": 0, "title": "seed"}}))
	return srv
}

func item(i int) store.EntityID {
	return store.MustParseEntityID(fmt.Sprintf("00000000-0000-4000-8000-%012d", i))
}

// adminTransact writes ops through srv's admin API. Errors are returned,
// not fatal: fault cases write while things break.
func adminTransact(ctx context.Context, srv *server.Server, ops ...[]any) error {
	b, err := json.Marshal(map[string]any{"ops": ops})
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL()+"/admin/transact", bytes.NewReader(b))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+adminToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("admin transact: %d %s", resp.StatusCode, data)
	}
	return nil
}

// adminPost posts an admin transact body to the server at base.
func adminPost(tb testing.TB, base string, body []byte) error {
	tb.Helper()
	req, err := http.NewRequestWithContext(tb.Context(), http.MethodPost, base+"/admin/transact", bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+adminToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("admin transact: %d %s", resp.StatusCode, data)
	}
	return nil
}

// randomOp is a random write on one of items items: mostly an update of
// n (and a title of size bytes), sometimes a delete.
func randomOp(rng *rand.Rand, items, size int) []any {
	e := item(rng.IntN(items)).String()
	if rng.IntN(5) == 0 {
		return []any{"delete", "items", e}
	}
	title := fmt.Sprintf("t%d", rng.IntN(1000))
	if size > len(title) {
		title += string(bytes.Repeat([]byte{'x'}, size-len(title)))
	}
	return []any{"update", "items", e, map[string]any{"n": rng.IntN(1000), "title": title}}
}

// writer writes random ops through the servers srvs (round robin) until
// n writes succeeded, retrying failed ones; each success calls after(i).
func writer(ctx context.Context, tb testing.TB, rng *rand.Rand, n, size int, after func(i int), srvs ...*server.Server) {
	tb.Helper()
	for i := 0; i < n; {
		op := randomOp(rng, 20, size)
		if err := adminTransact(ctx, srvs[i%len(srvs)], op); err != nil {
			if ctx.Err() != nil {
				tb.Fatalf("writer: %v", ctx.Err())
			}
			time.Sleep(20 * time.Millisecond) // Postgres restarting: retry
			continue
		}
		i++
		time.Sleep(2 * time.Millisecond) // let refreshes interleave with writes
		if after != nil {
			after(i)
		}
	}
}

// truth reads the items namespace's triples straight from Postgres.
func truth(tb testing.TB, dsn string) map[store.TripleKey]bool {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var conn *pgx.Conn
	var err error
	for range 100 { // Postgres may still be restarting
		if conn, err = pgx.Connect(ctx, dsn); err == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	require.NoError(tb, err)
	defer conn.Close(context.Background())
	rows, err := conn.Query(ctx, `SELECT t.entity_id, t.attr_id, t.value::text FROM triples t JOIN attrs a ON a.id = t.attr_id WHERE a.namespace = 'items'`)
	require.NoError(tb, err)
	set := map[store.TripleKey]bool{}
	for rows.Next() {
		var k store.TripleKey
		var v string
		require.NoError(tb, rows.Scan(&k.E, &k.A, &v))
		require.NoError(tb, json.Unmarshal([]byte(v), &k.V))
		set[k] = true
	}
	require.NoError(tb, rows.Err())
	return set
}

// client is a raw wire client holding one live query's result as a set
// of triple keys, applying add-query-oks (the whole result) and
// refresh-oks (deltas) like the reactor does. It reconnects whenever its
// connection drops and re-adds the query, which answers with a full
// result.
type client struct {
	tb   testing.TB
	name string
	url  func() string // the server to (re)connect to
	q    string        // the live query; itemsQuery by default

	mu        sync.Mutex
	set       map[store.TripleKey]bool
	ws        *websocket.Conn
	synced    bool // the set is a server result (add-query-ok seen on this connection)
	reconnect int  // connections made after the first
	errs      []string

	paused   chan struct{} // non-nil: the reader stops before its next read until closed
	onFrame  func(c *client, m wire.Message)
	done     chan struct{}
	stopOnce sync.Once
	stop     chan struct{}
}

func newClient(tb testing.TB, name string, url func() string) *client {
	c := &client{tb: tb, name: name, url: url, q: itemsQuery, set: map[store.TripleKey]bool{}, done: make(chan struct{}), stop: make(chan struct{})}
	tb.Cleanup(c.Close)
	return c
}

// Start runs the client in a goroutine until Close.
func (c *client) Start() *client {
	go c.run()
	return c
}

// Close stops the client and waits for it.
func (c *client) Close() {
	c.stopOnce.Do(func() { close(c.stop) })
	c.mu.Lock()
	if c.ws != nil {
		c.ws.Close()
	}
	c.mu.Unlock()
	<-c.done
}

// Drop closes the client's connection; it reconnects.
func (c *client) Drop() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ws != nil {
		c.ws.Close()
	}
}

// Pause stops the client reading until the returned func is called.
func (c *client) Pause() (resume func()) {
	ch := make(chan struct{})
	c.mu.Lock()
	c.paused = ch
	c.mu.Unlock()
	return func() {
		c.mu.Lock()
		c.paused = nil
		c.mu.Unlock()
		close(ch)
	}
}

func (c *client) stopped() bool {
	select {
	case <-c.stop:
		return true
	default:
		return false
	}
}

func (c *client) run() {
	defer close(c.done)
	first := true
	for !c.stopped() {
		if !first {
			time.Sleep(50 * time.Millisecond)
		}
		ws, _, err := websocket.DefaultDialer.Dial(c.url(), nil)
		if err != nil {
			continue
		}
		c.mu.Lock()
		if !first {
			c.reconnect++
		}
		first = false
		c.ws, c.synced = ws, false
		c.mu.Unlock()
		if c.stopped() {
			ws.Close()
			return
		}
		c.session(ws)
		ws.Close()
	}
}

// session runs one connection: init, add-query, then apply frames until
// the connection ends.
func (c *client) session(ws *websocket.Conn) {
	send := func(m wire.Message) error {
		b, err := wire.Encode(nil, m)
		if err != nil {
			return err
		}
		return ws.WriteMessage(websocket.TextMessage, b)
	}
	if send(&wire.Init{ClientEventID: "init"}) != nil {
		return
	}
	if send(&wire.AddQuery{ClientEventID: "aq", QueryID: "q", Q: json.RawMessage(c.q)}) != nil {
		return
	}
	for {
		c.mu.Lock()
		p := c.paused
		c.mu.Unlock()
		if p != nil {
			<-p
		}
		_, b, err := ws.ReadMessage()
		if err != nil {
			return
		}
		m, err := wire.Parse(b)
		if err != nil {
			c.fail("parse %s: %v", b, err)
			return
		}
		c.mu.Lock()
		switch m := m.(type) {
		case *wire.AddQueryOK:
			c.set = map[store.TripleKey]bool{}
			for _, t := range m.Result {
				c.set[t.Key()] = true
			}
			c.synced = true
		case *wire.RefreshOK:
			for _, comp := range m.Computations {
				if comp.QueryID != "q" {
					continue
				}
				if !c.synced {
					c.mu.Unlock()
					c.fail("refresh-ok before add-query-ok")
					return
				}
				if comp.Full {
					c.set = map[store.TripleKey]bool{}
				}
				for _, k := range comp.Removed {
					if !c.set[k] {
						c.errs = append(c.errs, fmt.Sprintf("delta removes %v, which the client does not hold", k))
					}
					delete(c.set, k)
				}
				// An added triple whose key the client holds is not a
				// duplicate: the row was rewritten (an update re-asserts
				// an entity's id triple, with a new created-at), and the
				// new triple replaces the old.
				for _, t := range comp.Added {
					c.set[t.Key()] = true
				}
			}
		case *wire.Error:
			c.errs = append(c.errs, fmt.Sprintf("server error %s: %s", m.Type, m.Message))
		}
		c.mu.Unlock()
		if c.onFrame != nil {
			c.onFrame(c, m)
		}
	}
}

func (c *client) fail(format string, args ...any) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.errs = append(c.errs, fmt.Sprintf(format, args...))
}

// snapshot returns a copy of the client's set, whether it is synced, and
// the protocol errors it saw.
func (c *client) snapshot() (map[store.TripleKey]bool, bool, []string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return maps.Clone(c.set), c.synced, slices.Clone(c.errs)
}

// waitSynced waits until every client has its first result, so writes
// that follow reach them as refreshes.
func waitSynced(tb testing.TB, clients ...*client) {
	tb.Helper()
	deadline := time.Now().Add(convergeTimeout)
	for _, c := range clients {
		for {
			if _, synced, _ := c.snapshot(); synced {
				break
			}
			require.True(tb, time.Now().Before(deadline), "client %s never got its first result", c.name)
			time.Sleep(10 * time.Millisecond)
		}
	}
}

// convergeTimeout only keeps a broken system from hanging the test; a
// healthy one converges in well under a second.
const convergeTimeout = 30 * time.Second

// requireConverged waits until every client holds exactly Postgres's
// items triples, then checks that no client saw a protocol error (a
// delta removing what it lacks, or a server error).
func requireConverged(tb testing.TB, dsn string, clients ...*client) {
	tb.Helper()
	want := truth(tb, dsn)
	deadline := time.Now().Add(convergeTimeout)
	for _, c := range clients {
		for {
			got, synced, _ := c.snapshot()
			if synced && maps.Equal(got, want) {
				break
			}
			if time.Now().After(deadline) {
				var missing, extra []store.TripleKey
				for k := range want {
					if !got[k] {
						missing = append(missing, k)
					}
				}
				for k := range got {
					if !want[k] {
						extra = append(extra, k)
					}
				}
				tb.Fatalf("client %s did not converge (synced=%v): %d triples, Postgres %d; missing %d %v; extra %d %v",
					c.name, synced, len(got), len(want), len(missing), head(missing), len(extra), head(extra))
			}
			time.Sleep(20 * time.Millisecond)
		}
		_, _, errs := c.snapshot()
		require.Empty(tb, errs, "client %s: protocol errors", c.name)
	}
	// Postgres may have moved on while we waited (nothing writes any
	// more, so it must not have).
	require.Equal(tb, want, truth(tb, dsn), "Postgres changed after the writes ended")
}

func head(ks []store.TripleKey) []store.TripleKey { return ks[:min(len(ks), 3)] }
