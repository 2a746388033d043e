//go:build !(js && wasm)

package e2e

import (
	"flag"
	"fmt"
	"slices"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/triplesync/triplesync/wasm/internal/browsertest"
)

var figures = flag.Bool("client-figures", false, "measure the browser client's start-up (scripts/bench-client)")

// loadMarks reads the page's performance marks: when triplesync.js began
// loading the wasm, when it was compiled and instantiated (Go starts right
// after), when Go handed over its API, and when the demo first rendered a
// cached result. Milliseconds since navigation start.
const loadMarks = `(() => {
  const m = (n) => { const e = performance.getEntriesByName(n); return e.length ? e[0].startTime : null; };
  return { load: m("triplesync:load"), instantiated: m("triplesync:instantiated"), started: m("triplesync:started"),
    open: m("triplesync:open"), storageOpen: m("triplesync:storage-open"), loaded: m("triplesync:loaded"), cached: m("demo:first-cached") };
})()`

// TestClientStartFigures measures, with -client-figures, how long a
// reloaded page takes from starting the wasm to showing a cached result
// (100 todos in IndexedDB, the server down so the cache is all there is),
// and prints the medians of several reloads. It asserts nothing about
// the times.
func TestClientStartFigures(t *testing.T) {
	if !*figures {
		t.Skip("measures only with -client-figures")
	}
	e := newEnv(t)
	p := browsertest.Start(t, "").Tab()
	openDemo(p, e.URL())
	browsertest.MustEval[any](p, `(async () => {
  const { tx, id } = await import("/client/triplesync.js");
  const ops = [];
  for (let i = 0; i < 100; i++) ops.push(tx.todos[id()].update({ title: "todo " + i, done: i % 3 === 0, createdAt: Date.now() + i }));
  const r = await window.db.transact(ops);
  await r.confirmed;
  return null;
})()`)
	p.Wait(`document.querySelectorAll("#todos li").length === 100`, listState)
	e.stop()
	p.Wait(`document.body.dataset.status !== "online"`, `document.body.dataset.status`)

	type marks struct{ Load, Instantiated, Started, Open, StorageOpen, Loaded, Cached float64 }
	var compile, start, total, goInit, idbOpen, load, first []float64
	const reloads = 7
	for range reloads {
		p.Do(chromedp.Reload())
		p.Wait(`performance.getEntriesByName("demo:first-cached").length > 0 && document.querySelectorAll("#todos li").length === 100`, listState)
		m := browsertest.MustEval[marks](p, loadMarks)
		require.NotZero(t, m.Cached)
		compile = append(compile, m.Instantiated-m.Load)
		start = append(start, m.Cached-m.Instantiated)
		total = append(total, m.Cached)
		goInit = append(goInit, m.Started-m.Instantiated)
		idbOpen = append(idbOpen, m.StorageOpen-m.Open)
		load = append(load, m.Loaded-m.StorageOpen)
		first = append(first, m.Cached-m.Loaded)
	}
	med := func(xs []float64) float64 { slices.Sort(xs); return xs[len(xs)/2] }
	fmt.Printf("client start (median of %d reloads, server down, 100 cached todos):\n", reloads)
	fmt.Printf("  fetch+compile+instantiate wasm   %6.1f ms\n", med(compile))
	fmt.Printf("  wasm start -> first cached result %6.1f ms\n", med(start))
	fmt.Printf("  navigation -> first cached result %6.1f ms\n", med(total))
	fmt.Printf("  of which: Go start %.1f ms, IndexedDB open %.1f ms, load %.1f ms, subscribe to callback %.1f ms\n",
		med(goInit), med(idbOpen), med(load), med(first))
}
