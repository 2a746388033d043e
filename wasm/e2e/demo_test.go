//go:build !(js && wasm)

package e2e

import (
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/triplesync/triplesync/wasm/internal/browsertest"
)

// browserTimeout bounds one wait on a page or the server.
const browserTimeout = browsertest.DefaultTimeout

// openDemo opens the demo on a page and waits until it is online.
func openDemo(p *browsertest.Page, url string) {
	p.Do(chromedp.Navigate(url))
	p.Wait(`document.body.dataset.status === "online"`, `document.body.dataset.status`)
}

// addTodo types a title into the demo's form and submits it.
func addTodo(p *browsertest.Page, title string) {
	js(p, fmt.Sprintf(`document.querySelector("#title").value = %s; document.querySelector("#add").requestSubmit()`, strconv.Quote(title)))
}

// hasTodo is a JS expression: the list shows the todo title (done or not).
func hasTodo(title string, done *bool) string {
	sel := fmt.Sprintf(`li[data-title=%s]`, strconv.Quote(title))
	switch {
	case done == nil:
		return fmt.Sprintf(`document.querySelector(%q) !== null`, sel)
	case *done:
		return fmt.Sprintf(`document.querySelector(%q) !== null`, sel+".done")
	}
	return fmt.Sprintf(`document.querySelector(%q) !== null`, sel+":not(.done)")
}

const listState = `Array.from(document.querySelectorAll("#todos li")).map(li => li.dataset.title + (li.classList.contains("done") ? "✓" : "")).join(",") + " status=" + document.body.dataset.status`

// js runs a JS statement on the page.
func js(p *browsertest.Page, stmt string) {
	browsertest.MustEval[any](p, "(() => { "+stmt+"; return null })()")
}

// click clicks the element sel.
func click(p *browsertest.Page, sel string) {
	js(p, fmt.Sprintf(`document.querySelector(%s).click()`, strconv.Quote(sel)))
}

func ptr[T any](v T) *T { return &v }

// TestDemoLiveAcrossBrowsers: two browsers (two profiles, so two
// IndexedDBs) and a second tab of the first (sharing its IndexedDB) on the
// demo see each other's adds, toggles and deletes live, starting from a
// fresh database.
func TestDemoLiveAcrossBrowsers(t *testing.T) {
	e := newEnv(t)
	ba := browsertest.Start(t, "")
	a := ba.Tab()
	b := browsertest.Start(t, "").Tab()
	openDemo(a, e.URL())
	openDemo(b, e.URL())
	a2 := ba.NewTab(t)
	openDemo(a2, e.URL())

	addTodo(a, "milk")
	a.Wait(hasTodo("milk", ptr(false)), listState)
	b.Wait(hasTodo("milk", ptr(false)), listState)

	addTodo(b, "bread")
	a.Wait(hasTodo("bread", nil), listState)

	click(b, `li[data-title="milk"] input[type=checkbox]`)
	a.Wait(hasTodo("milk", ptr(true)), listState)

	click(a, `li[data-title="bread"] button.delete`)
	b.Wait(`!(`+hasTodo("bread", nil)+`)`, listState)
	b.Wait(hasTodo("milk", ptr(true)), listState)
	a2.Wait(hasTodo("milk", ptr(true))+` && !(`+hasTodo("bread", nil)+`)`, listState)

	addTodo(a2, "eggs")
	a.Wait(hasTodo("eggs", nil), listState)
	b.Wait(hasTodo("eggs", nil), listState)
	click(b, `li[data-title="eggs"] button.delete`)
	a2.Wait(`!(`+hasTodo("eggs", nil)+`)`, listState)

	// Postgres holds what both pages show.
	titles := todoTitles(t, e)
	assert.Equal(t, map[string]int{"milk": 1}, titles)
}

// todoTitles reads the todos' titles from Postgres directly, counting
// each: an entity with a todos.title triple is one todo.
func todoTitles(t *testing.T, e *env) map[string]int {
	t.Helper()
	ctx := t.Context()
	conn, err := pgx.Connect(ctx, e.db.DSN)
	require.NoError(t, err)
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, `
		SELECT t.value #>> '{}' FROM triples t JOIN attrs a ON a.id = t.attr_id
		WHERE a.namespace = 'todos' AND a.label = 'title'`)
	require.NoError(t, err)
	out := map[string]int{}
	for rows.Next() {
		var s string
		require.NoError(t, rows.Scan(&s))
		out[s]++
	}
	require.NoError(t, rows.Err())
	return out
}

var _ = time.Second
