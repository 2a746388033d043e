package e2e_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/triplesync/triplesync/internal/pgtest"
	"github.com/triplesync/triplesync/reactor"
	"github.com/triplesync/triplesync/reactor/filestore"
	"github.com/triplesync/triplesync/reactor/wsconn"
	"github.com/triplesync/triplesync/store"
)

// A query the server refuses because it names attributes nobody has
// defined yet comes alive without resubscribing once they exist: for
// the client whose write defines them (its confirmation), and for
// another client (the registry the server pushes). Issue #7.
func TestRefusedQueryAskedAgain(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the server")
	}
	db := pgtest.New(t)
	srv := startServer(t, db)
	a := openClient(t, srv, nil)
	b := openClient(t, srv, nil)
	waitOnline(t, a)
	waitOnline(t, b)

	q := `{"todos":{"$":{"where":{"priority":1}}}}`
	waitA := subscribe(t, a, q)
	waitB := subscribe(t, b, q)
	refused := func(r reactor.QueryResult) bool {
		var se *reactor.ServerError
		return errors.As(r.Error, &se) && se.Type == "invalid"
	}
	waitA(refused)
	waitB(refused)

	tx, err := a.Transact([]store.TxOp{{Action: "create", Namespace: "todos", ID: newID(t), Args: map[string]any{"title": "first", "priority": 1}}})
	require.NoError(t, err)
	_, err = tx.Wait(t.Context())
	require.NoError(t, err, "server log:\n%s", srv.logText())

	served := func(r reactor.QueryResult) bool {
		return r.Error == nil && !r.FromCache && strings.Join(titles(r), ",") == "first"
	}
	waitA(served)
	waitB(served)
}

// A page restarts offline with writes pending; the server comes back
// before the page subscribes again, so the writes are sent and confirmed
// first. Subscribing then shows the cached result with them, never
// without (issue #7: the confirmed mutations were dropped, no query being
// subscribed, and the stale cache was shown). wasm's
// TestClientOfflineRestart found it.
func TestConfirmedBeforeSubscribe(t *testing.T) {
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

	// First run: online; the schema is defined, the query cached.
	c := open()
	waitOnline(t, c)
	tx, err := c.Transact([]store.TxOp{{Action: "create", Namespace: "todos", ID: newID(t), Args: map[string]any{"title": "online", "n": 0}}})
	require.NoError(t, err)
	_, err = tx.Wait(t.Context())
	require.NoError(t, err, "server log:\n%s", srv.logText())
	unsub := c.SubscribeQuery([]byte(q), func(reactor.QueryResult) {})
	wait := subscribe(t, c, q)
	wait(func(r reactor.QueryResult) bool { return !r.FromCache && len(titles(r)) == 1 })
	unsub()
	require.NoError(t, c.Close(t.Context()))

	// Second run, offline: three writes wait in storage.
	srv.stop()
	c = open()
	for i := 1; i <= 3; i++ {
		_, err := c.Transact([]store.TxOp{{Action: "create", Namespace: "todos", ID: newID(t), Args: map[string]any{"title": "offline", "n": i}}})
		require.NoError(t, err)
	}
	require.NoError(t, c.Close(t.Context()))

	// Third run: the server is back; the writes are confirmed before the
	// query is subscribed (storage shows each with its tx-id, or gone).
	srv.start()
	c = open()
	defer c.Close(context.Background())
	waitOnline(t, c)
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	for {
		st, err := filestore.New(dir)
		require.NoError(t, err)
		state, err := st.Load(ctx)
		require.NoError(t, err)
		if !slices.ContainsFunc(state.Mutations, func(m reactor.Mutation) bool { return m.TxID == 0 }) {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatalf("the offline writes were never confirmed; server log:\n%s", srv.logText())
		case <-time.After(20 * time.Millisecond):
		}
	}

	var seen []reactor.QueryResult
	wait = subscribe(t, c, q)
	wait(func(r reactor.QueryResult) bool {
		seen = append(seen, r)
		return !r.FromCache
	})
	for _, r := range seen {
		assert.NoError(t, r.Error)
		assert.Equal(t, []string{"online", "offline", "offline", "offline"}, titles(r), "from cache: %v", r.FromCache)
	}
	assert.True(t, seen[0].FromCache, "the cached result comes first")
}

// Two clients on a fresh database write at once with attributes nobody
// has defined: both define todos.id and todos.title, identically, and
// both writes are applied (issue #7: the second was refused as a
// duplicate attribute).
func TestConcurrentDefinitions(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the server")
	}
	db := pgtest.New(t)
	srv := startServer(t, db)
	a := openClient(t, srv, nil)
	b := openClient(t, srv, nil)
	waitOnline(t, a)
	waitOnline(t, b)
	ta, err := a.Transact([]store.TxOp{{Action: "create", Namespace: "todos", ID: newID(t), Args: map[string]any{"title": "from a"}}})
	require.NoError(t, err)
	tb, err := b.Transact([]store.TxOp{{Action: "create", Namespace: "todos", ID: newID(t), Args: map[string]any{"title": "from b"}}})
	require.NoError(t, err)
	_, err = ta.Wait(t.Context())
	require.NoError(t, err, "server log:\n%s", srv.logText())
	_, err = tb.Wait(t.Context())
	require.NoError(t, err, "server log:\n%s", srv.logText())

	q := `{"todos":{"$":{"order":{"title":"asc"}}}}`
	for _, c := range []*reactor.Client{a, b} {
		wait := subscribe(t, c, q)
		wait(func(r reactor.QueryResult) bool {
			return r.Error == nil && !r.FromCache && strings.Join(titles(r), ",") == "from a,from b"
		})
	}
}
