//go:build !(js && wasm)

package e2e

import (
	"fmt"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"

	"github.com/triplesync/triplesync/wasm/internal/browsertest"
)

// TestDemoTabsOfflineSync: two tabs of one browser (one IndexedDB) lose
// the server and both keep editing, one toggling a todo the other made
// before; one tab reloads while offline and shows its own pending writes
// and the other tab's (each tab loads every pending mutation at start;
// the tab that stays open sees the other's only once synced).
// Each tab's reactor numbers its mutations from its own counter, so the
// reloaded tab holds mutations of equal Seq, and it makes more. When the
// server is back every write reaches Postgres exactly once, though the
// reloaded tab re-sends the other's, and both tabs show the same list.
func TestDemoTabsOfflineSync(t *testing.T) {
	e := newEnv(t)
	url := e.URL() + "?maxBackoffMs=300"
	br := browsertest.Start(t, "")
	a := br.Tab()
	openDemo(a, url)
	b := br.NewTab(t)
	openDemo(b, url)
	addTodo(a, "shared")
	for _, p := range []*browsertest.Page{a, b} {
		p.Wait(hasTodo("shared", ptr(false)), listState)
	}
	a.Wait(`document.querySelector("#pending").textContent === ""`, `document.querySelector("#pending").textContent`)

	e.stop()
	for _, p := range []*browsertest.Page{a, b} {
		p.Wait(`document.body.dataset.status === "offline"`, `document.body.dataset.status`)
	}
	// Nine writes between them, so that the reloaded tab has enough
	// pending mutations for the reactor to prune the replay.
	click(b, `li[data-title="shared"] input[type=checkbox]`)
	ownA, ownB := map[string]bool{"shared": false}, map[string]bool{"shared": true}
	for _, n := range []string{"one", "two", "three", "four"} {
		addTodo(a, "a "+n)
		addTodo(b, "b "+n)
		ownA["a "+n], ownB["b "+n] = false, false
	}
	a.Wait(shows(ownA), listState)
	b.Wait(shows(ownB), listState)

	// a reloads offline: the cached list with every pending mutation in
	// IndexedDB replayed over it, b's as well as its own.
	a.Do(chromedp.Reload())
	all := map[string]bool{}
	maps.Copy(all, ownA)
	maps.Copy(all, ownB)
	a.Wait(shows(all), listState)
	assert.Equal(t, "true", browsertest.MustEval[string](a, `document.body.dataset.fromCache`), "the list comes from the cache")
	assert.NotEqual(t, "online", browsertest.MustEval[string](a, `document.body.dataset.status`))
	// More writes from both, the reloaded tab numbering its own after
	// everything it loaded, b going on from its own count.
	addTodo(a, "a five")
	click(a, `li[data-title="b one"] input[type=checkbox]`)
	addTodo(b, "b five")
	all["a five"], all["b one"], all["b five"] = false, true, false
	a.Wait(hasTodo("a five", ptr(false))+" && "+hasTodo("b one", ptr(true)), listState)
	b.Wait(hasTodo("b five", ptr(false)), listState)

	e.start()
	want := map[string]int{}
	for title := range all {
		want[title] = 1
	}
	waitPostgres(t, e, want)
	for _, p := range []*browsertest.Page{a, b} {
		p.Wait(`document.body.dataset.status === "online" && document.body.dataset.fromCache === "false" && `+
			`document.querySelector("#pending").textContent === "" && `+shows(all), listState)
		assert.Empty(t, browsertest.MustEval[string](p, `document.querySelector("#error").textContent`))
	}
	assert.Equal(t, browsertest.MustEval[string](a, listState), browsertest.MustEval[string](b, listState), "both tabs show the same list")
	assert.Equal(t, want, todoTitles(t, e), "each write applied exactly once")
	assert.Equal(t, 2, doneCount(t, e), "both toggles reached Postgres")
	// Every mutation is one transaction, applied once: the first add, then
	// ten adds and two toggles offline.
	assert.Equal(t, 13, mutationCount(t, e), "transactions with a mutation id")
	// Every pending record leaves IndexedDB once confirmed and shown, b's
	// by both tabs.
	waitStoredMutations(t, a, 0)
}

// shows is a JS expression: the list is exactly todos (title → done).
func shows(todos map[string]bool) string {
	out := fmt.Sprintf(`document.querySelectorAll("#todos li").length === %d`, len(todos))
	for _, title := range slices.Sorted(maps.Keys(todos)) {
		out += " && " + hasTodo(title, ptr(todos[title]))
	}
	return out
}

// waitStoredMutations waits until the demo's IndexedDB holds n pending
// mutation records.
func waitStoredMutations(t *testing.T, p *browsertest.Page, n int) {
	t.Helper()
	const count = `new Promise((resolve, reject) => {
		const r = indexedDB.open("triplesync_demo-todos_v1");
		r.onerror = () => reject(r.error);
		r.onsuccess = () => {
			const db = r.result;
			const c = db.transaction("mutations").objectStore("mutations").count();
			c.onsuccess = () => { db.close(); resolve(c.result); };
			c.onerror = () => { db.close(); reject(c.error); };
		};
	})`
	deadline := time.Now().Add(browserTimeout)
	for {
		got := browsertest.MustEval[int](p, count)
		if got == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("IndexedDB holds %d pending mutations, want %d", got, n)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
