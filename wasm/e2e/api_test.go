//go:build !(js && wasm)

package e2e

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/triplesync/triplesync/wasm/internal/browsertest"
)

// apiScript exercises the JS API end to end and returns what it saw.
const apiScript = `(async () => {
  const { init, tx, id, lookup, TriplesyncError } = await import("/client/triplesync.js");
  const db = init({ url: %q, appId: "api", createMissingAttrs: true, storage: "memory" });
  const statuses = [];
  db.onStatus((s) => statuses.push(s.state));
  await db.ready;
  const out = {};
  const t1 = id(), u = id();
  out.ops = JSON.stringify(tx.todos["T"].update({ a: 1 }, { upsert: false }).merge({ m: { k: null } }).link({ owner: ["U", lookup("email", "a@b.c")] }).delete().ops);
  const v4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
  out.uuid = v4.test(t1);
  crypto.randomUUID = undefined; // as in an insecure context
  out.uuidFallback = v4.test(id()) && id() !== id();
  delete crypto.randomUUID;

  // On a fresh database the server refuses a query of a namespace nobody
  // has written yet.
  const early = [];
  const stopEarly = db.subscribeQuery({ todos: {} }, (r) => early.push(r.error ? "error:" + r.error.type : (r.data.todos || []).length));

  // One transaction defines todos, then users with a link to todos (a
  // link's target namespace must be known when it is defined).
  const r1 = await db.transact([
    tx.todos[t1].update({ title: "api", n: 1 }),
    tx.users[u].update({ name: "Ann" }),
    tx.users[u].link({ todos: t1 }),
  ]);
  out.mutationId = typeof r1.mutationId === "string" && r1.mutationId.length === 36;
  out.txId = await r1.confirmed;
  stopEarly();
  out.early = early.join(",");

  const seen = [];
  let resolveSeen;
  const seenTitle = new Promise((r) => (resolveSeen = r));
  const stop = db.subscribeQuery({ todos: {} }, (r) => {
    seen.push(r.error ? "error:" + r.error.type : (r.data.todos || []).length);
    if (!r.error && r.data.todos && r.data.todos[0] && r.data.todos[0].title === "api 2") resolveSeen();
  });

  const res = await db.queryOnce({ users: { $: { where: { name: "Ann" } }, todos: {} } }, { timeout: 30000 });
  out.fromCache = res.fromCache;
  out.linkedTitle = res.data.users[0].todos[0].title;
  out.hasPageInfo = !!res.pageInfo && !!res.pageInfo.users;

  try {
    await db.transact(tx.todos["not-a-uuid"].update({ a: 1 }));
    out.badOp = "accepted";
  } catch (e) {
    out.badOp = (e instanceof TriplesyncError) + ":" + e.kind;
  }
  try {
    await db.queryOnce({ nope: {} }, { timeout: 30000 });
    out.badQuery = "accepted";
  } catch (e) {
    out.badQuery = e.kind + ":" + e.type;
  }

  const r3 = await db.transact(tx.todos[t1].update({ title: "api 2" }));
  await r3.confirmed;
  await seenTitle;
  stop();
  out.seen = seen.join(",");
  out.statuses = statuses.join(",");
  await db.close();
  return out;
})()`

// TestJSAPI drives the JS module (triplesync.js) in a page: the tx
// builder with links, transact's confirmation, queryOnce, subscriptions,
// errors of the client and of the server, status events.
func TestJSAPI(t *testing.T) {
	e := newEnv(t)
	p := browsertest.Start(t, "").Tab()
	openDemo(p, e.URL())
	got := browsertest.MustEval[map[string]any](p, fmt.Sprintf(apiScript, e.WS()))
	require.NotNil(t, got)
	assert.Equal(t, true, got["uuid"], "id() is a UUID v4")
	assert.Equal(t, true, got["uuidFallback"], "id() without crypto.randomUUID")
	assert.JSONEq(t, `[
		{"action":"update","namespace":"todos","id":"T","args":{"a":1},"mode":"update"},
		{"action":"merge","namespace":"todos","id":"T","args":{"m":{"k":null}}},
		{"action":"link","namespace":"todos","id":"T","args":{"owner":["U","lookup__email__\"a@b.c\""]}},
		{"action":"delete","namespace":"todos","id":"T"}]`, got["ops"].(string), "the tx builder's ops")
	assert.Equal(t, true, got["mutationId"])
	assert.Greater(t, got["txId"], 0.0)
	assert.Equal(t, false, got["fromCache"])
	assert.Equal(t, "api", got["linkedTitle"])
	assert.Equal(t, true, got["hasPageInfo"])
	assert.Equal(t, "true:client", got["badOp"])
	assert.Equal(t, "server:invalid", got["badQuery"])
	// Subscribed before anything was written, the todos query is refused
	// and stays so (reactor re-adds queries only on reconnect; the demo
	// subscribes again). Subscribed after the first write, it shows the
	// one todo, and its update.
	assert.Equal(t, "error:invalid", got["early"])
	assert.Regexp(t, `^1(,1)*$`, got["seen"])
	assert.Regexp(t, `^connecting(,connecting)*,online.*`, got["statuses"])
}
