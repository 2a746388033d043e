package server_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/triplesync/triplesync/internal/pgtest"
	"github.com/triplesync/triplesync/internal/server"
	"github.com/triplesync/triplesync/internal/wire"
	"github.com/triplesync/triplesync/store"
)

func entity(n int) store.EntityID {
	return store.MustParseEntityID(fmt.Sprintf("00000000-0000-4000-8000-%012d", n))
}

// TestRefreshPaths: two sessions on one query are refreshed by a transact
// from one of them, by a plain SQL write, and by a write through a second
// server instance on the same database (its own slot).
func TestRefreshPaths(t *testing.T) {
	db := pgtest.New(t)
	srv := mustOpen(t, db, "one", sessionConfig(t))
	adminTransact(t, srv, todo(entity(1), "first", alice))

	a1 := dialInit(t, srv, userToken(t, alice))
	a2 := dialInit(t, srv, userToken(t, alice))
	const q = `{"todos":{"$":{"order":{"title":"asc"}}}}`
	set1 := keysOf(a1.addQuery("todos", q).Result)
	set2 := keysOf(a2.addQuery("todos", q).Result)
	require.Len(t, set1, 3, "id, title and owner of alice's todo")
	assert.Equal(t, 1, srv.Sessions().Stats().Queries, "one shared query for both sessions")

	title, _ := srv.Sessions().Attrs().ByName("todos", "title")
	owner, _ := srv.Sessions().Attrs().ByName("todos", "owner")
	todoID, _ := srv.Sessions().Attrs().IDAttr("todos")

	// 1. A transact from one session reaches the other as a refresh.
	e2 := entity(2)
	a1.send(&wire.Transact{ClientEventID: "t1", MutationID: "m-1", Steps: []store.Step{
		{Op: store.OpAddTriple, E: e2, A: todoID.ID, V: store.Ref(e2)},
		{Op: store.OpAddTriple, E: e2, A: title.ID, V: store.String("second")},
		{Op: store.OpAddTriple, E: e2, A: owner.ID, V: store.String(alice.String())},
	}})
	ok := expect[*wire.TransactOK](a1)
	assert.Equal(t, "m-1", ok.MutationID)
	for _, c := range []struct {
		cl  *client
		set *map[store.TripleKey]store.Triple
	}{{a1, &set1}, {a2, &set2}} {
		r, comp, _ := c.cl.refresh("todos")
		assert.GreaterOrEqual(t, r.ProcessedTxID, ok.TxID, "the refresh covers the write")
		*c.set = apply(*c.set, comp)
		assert.Contains(t, *c.set, store.TripleKey{E: e2, A: title.ID, V: store.String("second")})
	}

	// 2. A plain SQL write reaches both.
	conn, err := pgx.Connect(t.Context(), db.DSN)
	require.NoError(t, err)
	defer conn.Close(context.Background())
	_, err = conn.Exec(t.Context(), `UPDATE triples SET value = '"edited by sql"' WHERE entity_id = $1 AND attr_id = $2`, entity(1), title.ID)
	require.NoError(t, err)
	for _, c := range []*client{a1, a2} {
		_, comp, _ := c.refresh("todos")
		require.Len(t, comp.Added, 1)
		assert.Equal(t, store.String("edited by sql"), comp.Added[0].V)
		assert.Equal(t, []store.TripleKey{{E: entity(1), A: title.ID, V: store.String("first")}}, []store.TripleKey(comp.Removed))
	}

	// 3. A write through a second server instance reaches both, and that
	// instance's own sessions.
	srv2 := mustOpen(t, db, "two", sessionConfig(t))
	assert.NotEqual(t, srv.Slot(), srv2.Slot())
	b1 := dialInit(t, srv2, userToken(t, alice))
	set3 := keysOf(b1.addQuery("todos", q).Result)
	tx := adminTransact(t, srv2, todo(entity(3), "third", alice))
	for _, c := range []struct {
		cl  *client
		set map[store.TripleKey]store.Triple
	}{{a1, set1}, {a2, set2}, {b1, set3}} {
		r, comp, _ := c.cl.refresh("todos")
		assert.GreaterOrEqual(t, r.ProcessedTxID, tx)
		set := apply(c.set, comp)
		assert.Contains(t, set, store.TripleKey{E: entity(3), A: title.ID, V: store.String("third")})
		assert.Len(t, set, 9, "three todos")
	}
}

// TestPermissions: a user never receives another user's rows, in a result
// or in a delta, and cannot write them.
func TestPermissions(t *testing.T) {
	db := pgtest.New(t)
	srv := mustOpen(t, db, "one", sessionConfig(t))
	adminTransact(t, srv, todo(entity(1), "alice's", alice), todo(entity(2), "bob's", bob))
	title, _ := srv.Sessions().Attrs().ByName("todos", "title")
	owner, _ := srv.Sessions().Attrs().ByName("todos", "owner")
	todoID, _ := srv.Sessions().Attrs().IDAttr("todos")

	a := dialInit(t, srv, userToken(t, alice))
	b := dialInit(t, srv, userToken(t, bob))
	// Everything alice receives is checked for bob's entities.
	seen := func(ts []store.Triple) {
		for _, tr := range ts {
			assert.NotEqual(t, entity(2), tr.E, "alice received bob's row %v", tr)
			assert.NotEqual(t, entity(3), tr.E, "alice received bob's row %v", tr)
		}
	}
	const q = `{"todos":{"$":{"fields":["title"]}}}`
	res := a.addQuery("mine", q)
	seen(res.Result)
	assert.Len(t, res.Result, 2, "alice's todo: id and title")
	assert.Len(t, b.addQuery("mine", q).Result, 2)

	// Bob writes a todo of his own; then alice writes one, and her refresh
	// (which would carry anything leaked before it) holds only hers.
	e3, e4 := entity(3), entity(4)
	b.send(&wire.Transact{ClientEventID: "b", MutationID: "b-1", Steps: []store.Step{
		{Op: store.OpAddTriple, E: e3, A: todoID.ID, V: store.Ref(e3)},
		{Op: store.OpAddTriple, E: e3, A: title.ID, V: store.String("bob's second")},
		{Op: store.OpAddTriple, E: e3, A: owner.ID, V: store.String(bob.String())},
	}})
	expect[*wire.TransactOK](b)
	a.send(&wire.Transact{ClientEventID: "a", MutationID: "a-1", Steps: []store.Step{
		{Op: store.OpAddTriple, E: e4, A: todoID.ID, V: store.Ref(e4)},
		{Op: store.OpAddTriple, E: e4, A: title.ID, V: store.String("alice's second")},
		{Op: store.OpAddTriple, E: e4, A: owner.ID, V: store.String(alice.String())},
	}})
	expect[*wire.TransactOK](a)
	_, comp, _ := a.refresh("mine")
	assert.Len(t, comp.Added, 2, "alice's new todo, id and title")
	assert.Equal(t, e4, comp.Added[0].E)

	// Alice cannot write bob's todo, nor create one in his name; nothing is
	// written.
	for _, steps := range [][]store.Step{
		{{Op: store.OpAddTriple, E: entity(2), A: title.ID, V: store.String("stolen")}},
		{{Op: store.OpDeleteEntity, E: entity(2), Namespace: "todos"}},
		{
			{Op: store.OpAddTriple, E: entity(5), A: todoID.ID, V: store.Ref(entity(5))},
			{Op: store.OpAddTriple, E: entity(5), A: owner.ID, V: store.String(bob.String())},
		},
	} {
		a.send(&wire.Transact{ClientEventID: "x", MutationID: "a-bad", Steps: steps})
		e := expect[*wire.Error](a)
		assert.Equal(t, wire.CodePermissionDenied, e.Type, "message %q", e.Message)
		assert.Equal(t, http.StatusForbidden, e.Status)
	}
	var out struct {
		Result struct {
			Todos []map[string]any `json:"todos"`
		} `json:"result"`
	}
	require.Equal(t, http.StatusOK, admin(t, srv, "/admin/query", map[string]any{"query": map[string]any{"todos": map[string]any{}}}, &out))
	titles := map[string]string{}
	for _, td := range out.Result.Todos {
		titles[td["id"].(string)] = fmt.Sprint(td["title"])
	}
	assert.Equal(t, map[string]string{
		entity(1).String(): "alice's", entity(2).String(): "bob's",
		entity(3).String(): "bob's second", entity(4).String(): "alice's second",
	}, titles, "the denied writes changed nothing")
	for _, r := range a.skipped {
		for _, c := range r.Computations {
			seen(c.Added)
		}
	}
}

// TestProtocolErrors: bad requests get an error and the session stays
// usable; requests before init are unauthorized.
func TestProtocolErrors(t *testing.T) {
	db := pgtest.New(t)
	scfg := sessionConfig(t)
	scfg.MaxMessageBytes = 8 << 10
	scfg.HardMaxMessageBytes = 1 << 20
	srv := mustOpen(t, db, "one", scfg)
	adminTransact(t, srv, todo(entity(1), "x", alice))

	pre := dial(t, srv)
	pre.sendRaw(`{"op":"add-query","client-event-id":"1","q":{"todos":{}}}`)
	e := expect[*wire.Error](pre)
	assert.Equal(t, wire.CodeUnauthorized, e.Type)
	assert.Equal(t, "1", e.ClientEventID)

	c := dialInit(t, srv, userToken(t, alice))
	tests := []struct {
		name, frame, code string
	}{
		{"malformed json", `{"op":"add-query"`, wire.CodeInvalid},
		{"unknown op", `{"op":"nuke","client-event-id":"2"}`, wire.CodeInvalid},
		{"oversized frame", `{"op":"init","token":"` + strings.Repeat("x", 16<<10) + `"}`, wire.CodeLimit},
		{"invalid query", `{"op":"add-query","q":{"todos":{"$":{"limit":-1}}}}`, wire.CodeInvalid},
		{"unknown namespace", `{"op":"add-query","q":{"users":{}}}`, wire.CodeInvalid},
		{"malformed step", `{"op":"transact","mutation-id":"m","tx-steps":[["add-triple"]]}`, wire.CodeInvalid},
		{"unknown step op", `{"op":"transact","mutation-id":"m","tx-steps":[["drop-table","x"]]}`, wire.CodeInvalid},
		{"unknown attribute", `{"op":"transact","mutation-id":"m","tx-steps":[["add-triple","` + entity(9).String() + `","` + entity(99).String() + `","v"]]}`, wire.CodeInvalid},
		{"schema step from a user", `{"op":"transact","mutation-id":"m","tx-steps":[["delete-attr","` + entity(99).String() + `"]]}`, wire.CodePermissionDenied},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c.tb = t
			c.sendRaw(tt.frame)
			e := expect[*wire.Error](c)
			assert.Equal(t, tt.code, e.Type, "message %q", e.Message)
			assert.Len(t, c.addQuery("probe", `{"todos":{}}`).Result, 3, "the session stays usable")
		})
	}
}

// TestSlowConsumer: a client that never reads does not delay another on
// the same query; once its queue fills it is disconnected and counted.
func TestSlowConsumer(t *testing.T) {
	db := pgtest.New(t)
	scfg := sessionConfig(t)
	scfg.QueueFrames = 64
	srv := mustOpen(t, db, "one", scfg)
	var ops [][]any
	for i := 1; i <= 400; i++ {
		ops = append(ops, todo(entity(i), fmt.Sprintf("%04d %s", i, strings.Repeat("x", 100)), alice))
	}
	adminTransact(t, srv, ops...)
	const q = `{"todos":{}}`

	fast := dialInit(t, srv, userToken(t, alice))
	fast.addQuery("all", q)

	// The slow client reads with a tiny socket buffer and then not at all.
	dialer := websocket.Dialer{NetDial: func(network, addr string) (net.Conn, error) {
		conn, err := net.Dial(network, addr)
		if err == nil {
			err = conn.(*net.TCPConn).SetReadBuffer(4 << 10)
		}
		return conn, err
	}}
	ws, _, err := dialer.Dial(srv.SessionURL(), nil)
	require.NoError(t, err)
	defer ws.Close()
	slow := &client{tb: t, ws: ws}
	slow.send(&wire.Init{Token: userToken(t, alice)})
	// Ask for the whole result again and again, one request at a time,
	// until the server has queued more than the kernel can hold for the
	// connection (the server's largest send buffer and the client's small
	// receive buffer): from then on the slow client's writer is stuck and
	// frames stay in its queue.
	stats := srv.Sessions().Stats
	limit := uint64(tcpWmemMax(t)) + 2<<20
	base := stats().SentBytes
	for i := 0; stats().SentBytes-base < limit; i++ {
		require.Less(t, i, 10000, "the server never queued enough")
		sent := stats().SentFrames
		slow.send(&wire.AddQuery{QueryID: "all", Q: json.RawMessage(q)})
		for stats().SentFrames == sent {
			time.Sleep(time.Millisecond) // wait for the answer to be queued
		}
	}
	require.NotZero(t, stats().QueuedFrames, "the slow client's frames wait in its queue")
	require.Zero(t, stats().SlowConsumers)

	// While the slow client's writer is stuck, the fast client still gets
	// its refresh.
	title, _ := srv.Sessions().Attrs().ByName("todos", "title")
	adminTransact(t, srv, todo(entity(1), "changed", alice))
	_, comp, _ := fast.refresh("all")
	assert.Contains(t, keysOf(comp.Added), store.TripleKey{E: entity(1), A: title.ID, V: store.String("changed")})
	assert.NotZero(t, stats().QueuedFrames, "the slow client is still stuck")

	// More requests overflow its queue: it is disconnected and counted.
	for i := 0; stats().SlowConsumers == 0; i++ {
		require.Less(t, i, 1000, "the slow client was never disconnected")
		sent := stats().SentFrames
		b, _ := wire.Encode(nil, &wire.AddQuery{QueryID: "all", Q: json.RawMessage(q)})
		if ws.WriteMessage(websocket.TextMessage, b) != nil {
			break
		}
		for stats().SentFrames == sent && stats().SlowConsumers == 0 {
			time.Sleep(time.Millisecond) // wait for the request to be handled
		}
	}
	assert.Equal(t, uint64(1), stats().SlowConsumers)
	require.NoError(t, ws.SetReadDeadline(time.Now().Add(readTimeout)))
	for {
		if _, _, err := ws.ReadMessage(); err != nil {
			var ne net.Error
			assert.False(t, errors.As(err, &ne) && ne.Timeout(), "the slow client must be disconnected: %v", err)
			break
		}
	}
	adminTransact(t, srv, todo(entity(1), "again", alice))
	fast.refresh("all") // the fast client is still served
}

// tcpWmemMax is the largest send buffer Linux's autotuning gives a TCP
// socket (net.ipv4.tcp_wmem), 4 MiB when it cannot be read.
func tcpWmemMax(t *testing.T) int {
	b, err := os.ReadFile("/proc/sys/net/ipv4/tcp_wmem")
	if err != nil {
		return 4 << 20
	}
	f := strings.Fields(string(b))
	n, err := strconv.Atoi(f[len(f)-1])
	require.NoError(t, err)
	return n
}

// TestDeltaSize: one attribute of one row of a 1,000-row result changes;
// the refresh costs under 1 KB, and a repeated add-query resynchronises
// with the full result.
func TestDeltaSize(t *testing.T) {
	db := pgtest.New(t)
	srv := mustOpen(t, db, "one", sessionConfig(t))
	var ops [][]any
	for i := 1; i <= 1000; i++ {
		ops = append(ops, todo(entity(i), fmt.Sprintf("todo %04d", i), alice))
	}
	adminTransact(t, srv, ops...)
	c := dialInit(t, srv, userToken(t, alice))
	set := keysOf(c.addQuery("all", `{"todos":{}}`).Result)
	require.Len(t, set, 3000)

	adminTransact(t, srv, []any{"update", "todos", entity(500).String(), map[string]any{"title": "renamed"}})
	_, comp, size := c.refresh("all")
	assert.Len(t, comp.Added, 1)
	assert.Len(t, comp.Removed, 1)
	assert.Less(t, size, 1024, "a one-attribute update in a 1,000-row result must cost < 1 KB; it cost %d", size)
	t.Logf("refresh-ok for a one-attribute update in a 1,000-row result: %d bytes", size)
	set = apply(set, comp)

	full := c.addQuery("all", `{"todos":{}}`)
	assert.Equal(t, keysOf(full.Result), set, "deltas applied give the full result")
}

// TestSchemaChange: a new attribute reaches every session in a refresh-ok
// and can be queried at once.
func TestSchemaChange(t *testing.T) {
	db := pgtest.New(t)
	srv := mustOpen(t, db, "one", sessionConfig(t))
	adminTransact(t, srv, todo(entity(1), "x", alice))
	c := dialInit(t, srv, userToken(t, alice))
	c.addQuery("all", `{"todos":{}}`)
	adminTransact(t, srv, []any{"update", "todos", entity(1).String(), map[string]any{"prio": 3}})
	var attrs []store.Attr
	for attrs == nil {
		m, _ := c.next()
		r, ok := m.(*wire.RefreshOK)
		require.True(t, ok, "got %s", m.Op())
		attrs = r.Attrs
	}
	var labels []string
	for _, a := range attrs {
		labels = append(labels, a.Namespace+"."+a.Label)
	}
	assert.Contains(t, labels, "todos.prio")
	res := c.addQuery("prio", `{"todos":{"$":{"where":{"prio":3}}}}`)
	assert.NotEmpty(t, res.Result)
}

// TestAdminAPI: the admin API's answers and errors; a failed request
// writes nothing.
func TestAdminAPI(t *testing.T) {
	db := pgtest.New(t)
	srv := mustOpen(t, db, "one", sessionConfig(t))
	tx := adminTransact(t, srv,
		[]any{"update", "users", entity(10).String(), map[string]any{"email": "a@example.com", "name": "alice"}},
		todo(entity(1), "first", alice),
	)
	assert.Positive(t, tx)

	var out map[string]any
	code := admin(t, srv, "/admin/query", map[string]any{"query": map[string]any{"users": map[string]any{}}}, &out)
	require.Equal(t, http.StatusOK, code, "%v", out)
	users := out["result"].(map[string]any)["users"].([]any)
	require.Len(t, users, 1)
	assert.Equal(t, "alice", users[0].(map[string]any)["name"])

	tests := []struct {
		name   string
		path   string
		body   string
		token  string
		status int
		typ    string
	}{
		{"no token", "/admin/query", `{"query":{"users":{}}}`, "", 401, wire.CodeUnauthorized},
		{"wrong token", "/admin/query", `{"query":{"users":{}}}`, "nope", 401, wire.CodeUnauthorized},
		{"not json", "/admin/query", `{"query":`, adminToken, 400, wire.CodeInvalid},
		{"unknown field", "/admin/query", `{"q":{}}`, adminToken, 400, wire.CodeInvalid},
		{"invalid query", "/admin/query", `{"query":{"nope":{}}}`, adminToken, 400, wire.CodeInvalid},
		{"unknown action", "/admin/transact", `{"ops":[["frob","users","` + entity(10).String() + `",{}]]}`, adminToken, 400, wire.CodeInvalid},
		{"bad id", "/admin/transact", `{"ops":[["update","users","x",{}]]}`, adminToken, 400, wire.CodeInvalid},
		{"half valid", "/admin/transact", `{"ops":[["update","users","` + entity(11).String() + `",{"name":"bob"}],["update","users",["name","alice"],{"name":"x"}]]}`, adminToken, 400, wire.CodeInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequest(http.MethodPost, srv.URL()+tt.path, strings.NewReader(tt.body))
			require.NoError(t, err)
			if tt.token != "" {
				req.Header.Set("Authorization", "Bearer "+tt.token)
			}
			resp, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			defer resp.Body.Close()
			var e struct{ Type, Message string }
			require.NoError(t, json.NewDecoder(resp.Body).Decode(&e))
			assert.Equal(t, tt.status, resp.StatusCode, "message %q", e.Message)
			assert.Equal(t, tt.typ, e.Type)
			assert.NotEmpty(t, e.Message)
		})
	}
	code = admin(t, srv, "/admin/query", map[string]any{"query": map[string]any{"users": map[string]any{}}}, &out)
	require.Equal(t, http.StatusOK, code)
	assert.Len(t, out["result"].(map[string]any)["users"], 1, "the half-valid request wrote nothing")
}

// TestMetrics: /metrics exposes the named series.
func TestMetrics(t *testing.T) {
	db := pgtest.New(t)
	srv := mustOpen(t, db, "one", sessionConfig(t))
	adminTransact(t, srv, todo(entity(1), "x", alice))
	c := dialInit(t, srv, userToken(t, alice))
	c.addQuery("all", `{"todos":{}}`)
	adminTransact(t, srv, todo(entity(1), "y", alice))
	c.refresh("all")

	resp, err := http.Get(srv.URL() + "/metrics")
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	text := string(body)
	for _, name := range []string{
		"triplesync_sessions 1",
		"triplesync_subscriptions 1",
		"triplesync_queries 1",
		"triplesync_refreshes_total",
		"triplesync_refreshes_unchanged_total",
		"triplesync_pushes_total",
		"triplesync_push_bytes_total",
		"triplesync_slow_consumers_total 0",
		"triplesync_wal_lag_bytes",
		"triplesync_wal_lag_seconds",
		"triplesync_wal_handle_errors_total 0",
		"triplesync_write_to_push_seconds_bucket",
		"triplesync_write_to_push_seconds_count 1",
		"triplesync_processed_tx_id",
		"go_goroutines",
	} {
		assert.Contains(t, text, "\n"+name, "metric %s", name)
	}
}

// TestHealthz: 200 while Postgres answers.
func TestHealthz(t *testing.T) {
	db := pgtest.New(t)
	srv := mustOpen(t, db, "one", sessionConfig(t))
	resp, err := http.Get(srv.URL() + "/healthz")
	require.NoError(t, err)
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.JSONEq(t, `{"status":"ok"}`, string(body))
}

// TestDropSlot: a closed server's slot can be dropped; dropping it twice
// is fine.
func TestDropSlot(t *testing.T) {
	db := pgtest.New(t)
	srv, err := server.New(server.Config{DSN: db.DSN, InstanceID: db.Name + "_drop", Session: sessionConfig(t), Logger: testLogger()})
	require.NoError(t, err)
	require.NoError(t, srv.Open(t.Context()))
	slot := srv.Slot()
	require.NoError(t, srv.Close(context.Background()))
	count := func() int {
		var n int
		conn, err := pgx.Connect(t.Context(), db.DSN)
		require.NoError(t, err)
		defer conn.Close(context.Background())
		require.NoError(t, conn.QueryRow(t.Context(), "SELECT count(*) FROM pg_replication_slots WHERE slot_name = $1", slot).Scan(&n))
		return n
	}
	require.Equal(t, 1, count(), "a permanent slot outlives its server")
	got, err := server.DropSlot(t.Context(), db.DSN, db.Name+"_drop")
	require.NoError(t, err)
	assert.Equal(t, slot, got)
	assert.Equal(t, 0, count())
	_, err = server.DropSlot(t.Context(), db.DSN, db.Name+"_drop")
	assert.NoError(t, err)
}

// TestWALHandleError: the WAL Handle fails because the connection its
// visibility check uses was terminated, as a Postgres restart does; the
// WAL reader ends its connection and streams again, the server keeps
// serving, and the write whose Handle failed still reaches the subscriber
// (issue 9).
func TestWALHandleError(t *testing.T) {
	db := pgtest.New(t)
	srv := mustOpen(t, db, "one", sessionConfig(t))
	adminTransact(t, srv, todo(entity(1), "v0", alice))
	c := dialInit(t, srv, userToken(t, alice))
	set := keysOf(c.addQuery("all", `{"todos":{}}`).Result)
	title, _ := srv.Sessions().Attrs().ByName("todos", "title")
	conn, err := pgx.Connect(t.Context(), db.DSN)
	require.NoError(t, err)
	defer conn.Close(context.Background())
	// Terminating every client backend but this one ends the server's
	// visibility connection (and its pool's): the next Handle fails on
	// it. A few rounds in case the write came first.
	for i := 1; metricValue(t, srv, "triplesync_wal_handle_errors_total") == 0; i++ {
		require.LessOrEqual(t, i, 10, "no Handle error after terminating the pool's connections %d times", i-1)
		_, err := conn.Exec(t.Context(), `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
			WHERE datname = current_database() AND backend_type = 'client backend' AND pid <> pg_backend_pid()`)
		require.NoError(t, err)
		v := store.String(fmt.Sprint("v", i))
		_, err = conn.Exec(t.Context(), `UPDATE triples SET value = to_jsonb($1::text) WHERE entity_id = $2 AND attr_id = $3`,
			fmt.Sprint("v", i), entity(1), title.ID)
		require.NoError(t, err)
		want := store.TripleKey{E: entity(1), A: title.ID, V: v}
		for _, ok := set[want]; !ok; _, ok = set[want] {
			_, comp, _ := c.refresh("all")
			set = apply(set, comp)
		}
	}
	select {
	case err := <-srv.Err():
		t.Fatalf("server stopped: %v", err)
	default:
	}
	assert.Equal(t, float64(0), metricValue(t, srv, "triplesync_wal_resets_total"), "no gap, so no reset")
}

// metricValue reads one unlabelled series from srv's /metrics.
func metricValue(t *testing.T, srv *server.Server, name string) float64 {
	t.Helper()
	resp, err := http.Get(srv.URL() + "/metrics")
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	for _, line := range strings.Split(string(body), "\n") {
		if v, ok := strings.CutPrefix(line, name+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			require.NoError(t, err, line)
			return f
		}
	}
	t.Fatalf("no series %s", name)
	return 0
}
