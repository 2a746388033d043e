//go:build !(js && wasm)

package e2e

import (
	"context"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/triplesync/triplesync/wasm/internal/browsertest"
)

// TestDemoOfflineReloadSync: a page loses the server, keeps editing,
// reloads (its edits and the cached list come back from IndexedDB), and
// when a new server instance starts on the same database and address
// every edit reaches Postgres exactly once; another browser sees them.
func TestDemoOfflineReloadSync(t *testing.T) {
	e := newEnv(t)
	url := e.URL() + "?maxBackoffMs=300"
	p := browsertest.Start(t, "").Tab()
	openDemo(p, url)
	addTodo(p, "online one")
	p.Wait(hasTodo("online one", ptr(false)), listState)
	p.Wait(`document.querySelector("#pending").textContent === ""`, `document.querySelector("#pending").textContent`)

	e.stop()
	p.Wait(`document.body.dataset.status === "offline"`, `document.body.dataset.status`)
	addTodo(p, "offline two")
	addTodo(p, "offline three")
	p.Wait(hasTodo("offline three", ptr(false)), listState)
	click(p, `li[data-title="online one"] input[type=checkbox]`)
	p.Wait(hasTodo("online one", ptr(true)), listState)
	click(p, `li[data-title="offline two"] button.delete`)
	p.Wait(`!(`+hasTodo("offline two", nil)+`)`, listState)
	addTodo(p, "offline four")
	p.Wait(hasTodo("offline four", nil), listState)

	// Reload while the server is down: the page comes from the front
	// server, the todos from IndexedDB (the cached result with the pending
	// writes replayed over it).
	p.Do(chromedp.Reload())
	p.Wait(hasTodo("online one", ptr(true))+" && "+hasTodo("offline three", ptr(false))+" && "+hasTodo("offline four", nil)+
		` && !(`+hasTodo("offline two", nil)+`)`, listState)
	assert.Equal(t, "true", browsertest.MustEval[string](p, `document.body.dataset.fromCache`), "the list comes from the cache")
	assert.NotEqual(t, "online", browsertest.MustEval[string](p, `document.body.dataset.status`))

	e.start()
	p.Wait(`document.body.dataset.status === "online" && document.body.dataset.fromCache === "false"`, listState)
	want := map[string]int{"online one": 1, "offline three": 1, "offline four": 1}
	waitPostgres(t, e, want)

	// Another browser sees the synced list.
	q := browsertest.Start(t, "").Tab()
	openDemo(q, e.URL())
	q.Wait(hasTodo("online one", ptr(true))+" && "+hasTodo("offline three", ptr(false))+" && "+hasTodo("offline four", nil), listState)
	assert.Equal(t, want, todoTitles(t, e), "each write applied exactly once")
	assert.Equal(t, 1, doneCount(t, e), "the toggle made offline reached Postgres")
	// Every mutation the page made is one transaction, applied once.
	assert.Equal(t, 6, mutationCount(t, e), "transactions with a mutation id")
}

// waitPostgres waits until Postgres holds exactly want.
func waitPostgres(t *testing.T, e *env, want map[string]int) {
	t.Helper()
	deadline := time.Now().Add(browserTimeout)
	for {
		got := todoTitles(t, e)
		if assert.ObjectsAreEqual(want, got) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("Postgres holds %v, want %v", got, want)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func queryInt(t *testing.T, e *env, sql string) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), browserTimeout)
	defer cancel()
	conn, err := pgx.Connect(ctx, e.db.DSN)
	require.NoError(t, err)
	defer conn.Close(ctx)
	var n int
	require.NoError(t, conn.QueryRow(ctx, sql).Scan(&n))
	return n
}

func doneCount(t *testing.T, e *env) int {
	return queryInt(t, e, `SELECT count(*) FROM triples t JOIN attrs a ON a.id = t.attr_id
		WHERE a.namespace = 'todos' AND a.label = 'done' AND t.value = 'true'::jsonb`)
}

func mutationCount(t *testing.T, e *env) int {
	return queryInt(t, e, `SELECT count(*) FROM transactions WHERE mutation_id IS NOT NULL`)
}
