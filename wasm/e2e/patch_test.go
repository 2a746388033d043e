//go:build !(js && wasm)

package e2e

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/triplesync/triplesync/wasm/internal/browsertest"
)

// patchScript subscribes to a sorted live query over many items, then
// moves, inserts and deletes rows, and after each write checks the
// subscription's data against a model of what it must hold. It counts
// the rows that kept their object across a result (only results sent as
// patches keep them) and returns what it saw.
const patchScript = `(async () => {
  const { init, tx, id } = await import("/client/triplesync.js");
  const db = init({ url: %q, appId: "patch", createMissingAttrs: true, storage: "memory" });
  await db.ready;
  const n = %d, steps = %d;
  let seed = 12345;
  const rnd = (k) => { seed = (seed * 1103515245 + 12345) %% 2147483648; return Math.floor(seed / 65536) %% k; };
  const model = new Map(); // id -> {rank, title}
  const creates = [];
  for (let i = 0; i < n; i++) {
    const e = id();
    model.set(e, { rank: rnd(50), title: "item " + i });
    creates.push(tx.items[e].update(model.get(e)));
  }
  await (await db.transact(creates)).confirmed;

  let cur = null, results = 0, kept = 0;
  const stop = db.subscribeQuery({ items: { $: { order: { rank: "asc" } } } }, (r) => {
    if (r.error) throw r.error;
    const byId = new Map((cur || []).map((row) => [row.id, row]));
    for (const row of r.data.items) if (byId.get(row.id) === row) kept++;
    cur = r.data.items.slice();
    r.data.items.reverse(); // the arrays are the app's to reorder: later patches must not mind
    results++;
  });
  // A first page of the same order, patched the same way.
  let page = null, pageInfo = null;
  const stopPage = db.subscribeQuery({ items: { $: { order: { rank: "asc" }, limit: 25 } } }, (r) => {
    if (r.error) throw r.error;
    page = r.data.items.slice();
    pageInfo = r.pageInfo.items;
  });
  const expected = () => [...model.entries()]
    .map(([id, v]) => ({ id, rank: v.rank, title: v.title }))
    .sort((a, b) => a.rank - b.rank || (a.id < b.id ? -1 : 1));
  const same = (rows, want) => !!rows && rows.length === want.length &&
    want.every((w, i) => rows[i].id === w.id && rows[i].rank === w.rank && rows[i].title === w.title);
  const matches = () => {
    const want = expected();
    return same(cur, want) && same(page, want.slice(0, 25)) && pageInfo.hasNextPage === want.length > 25;
  };
  const until = (what) => new Promise((resolve, reject) => {
    const t0 = performance.now();
    const check = () => {
      if (matches()) return resolve();
      if (performance.now() - t0 > 20000) {
        const want = expected();
        const at = want.findIndex((w, i) => !cur || !cur[i] || cur[i].id !== w.id || cur[i].rank !== w.rank || cur[i].title !== w.title);
        return reject(new Error(what + ": data differs from the model at row " + at + " of " + want.length +
          ": got " + JSON.stringify(cur && cur[at]) + ", want " + JSON.stringify(want[at]) +
          "; first page " + JSON.stringify(page && page.map((r) => r.id)) + " " + JSON.stringify(pageInfo)));
      }
      setTimeout(check, 5);
    };
    check();
  });
  await until("first result");
  const ops = { move: 0, insert: 0, delete: 0, title: 0 };
  for (let s = 0; s < steps; s++) {
    const ids = [...model.keys()];
    const e = ids[rnd(ids.length)];
    let chunk;
    switch (rnd(4)) {
      case 0: { // move a row: a new rank, often an existing one (ties break by id)
        model.get(e).rank = rnd(60) - 5;
        chunk = tx.items[e].update({ rank: model.get(e).rank });
        ops.move++;
        break;
      }
      case 1: { // insert
        const x = id();
        model.set(x, { rank: rnd(50), title: "new " + s });
        chunk = tx.items[x].update(model.get(x));
        ops.insert++;
        break;
      }
      case 2: { // delete
        model.delete(e);
        chunk = tx.items[e].delete();
        ops.delete++;
        break;
      }
      default: { // change a field in place
        model.get(e).title = "title " + s;
        chunk = tx.items[e].update({ title: model.get(e).title });
        ops.title++;
      }
    }
    const r = await db.transact(chunk);
    await until("after step " + s + " (optimistic)");
    await r.confirmed;
    await until("after step " + s + " (confirmed)");
  }
  stop();
  stopPage();
  await db.close();
  return { results, kept, ops: JSON.stringify(ops), rows: cur.length };
})()`

// TestLivePatches checks in Chromium that a live query over many rows
// stays right through the patch path (wasm.Patcher and triplesync.js
// rebuilding each result from the one before): rows moved by a new rank,
// inserted, deleted and changed in place, each checked after the
// optimistic write and after the server's confirmation against a model
// of the sorted result, and its first page of 25 (with hasNextPage). Rows kept across results keep their object,
// which only patches do.
func TestLivePatches(t *testing.T) {
	const n, steps = 400, 40
	e := newEnv(t)
	p := browsertest.Start(t, "").Tab()
	openDemo(p, e.URL())
	got, err := browsertest.Eval[map[string]any](p, fmt.Sprintf(patchScript, e.WS(), n, steps))
	require.NoError(t, err)
	t.Logf("%v", got)
	results, kept := got["results"].(float64), got["kept"].(float64)
	assert.GreaterOrEqual(t, results, float64(steps), "a result per write at least")
	// Each patched result keeps nearly all of the n rows; a whole result
	// keeps none.
	assert.Greater(t, kept, float64(n*steps/4), "rows kept their objects across results: patches were used")
}
