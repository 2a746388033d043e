package session_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/triplesync/triplesync/internal/perm"
	"github.com/triplesync/triplesync/internal/wire"
	"github.com/triplesync/triplesync/query"
	"github.com/triplesync/triplesync/session"
	"github.com/triplesync/triplesync/store"
)

const adminToken = "admin-secret-admin-secret"

var (
	jwtSecret = []byte("0123456789abcdef0123456789abcdef")
	alice     = store.MustParseEntityID("a11ce000-0000-4000-8000-000000000001")
	bob       = store.MustParseEntityID("b0b00000-0000-4000-8000-000000000002")
)

func token(tb testing.TB, user store.EntityID) string {
	tb.Helper()
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{
		"sub": user.String(), "exp": time.Now().Add(time.Hour).Unix(),
	}).SignedString(jwtSecret)
	require.NoError(tb, err)
	return s
}

// devConfig allows everything, as --dev with no rules file does.
func devConfig(tb testing.TB) session.Config {
	tb.Helper()
	rules, err := perm.ParseRules(nil, true)
	require.NoError(tb, err)
	return session.Config{Rules: rules, Dev: true, AdminToken: adminToken, Verifier: &perm.Verifier{HMACSecret: jwtSecret}}
}

// ownerRules let users see and write only their own todos.
const ownerRules = `{"todos": {"allow": {
	"view":   "auth.id != null && data.owner == auth.id",
	"create": "auth.id != null && newData.owner == auth.id",
	"update": "data.owner == auth.id && newData.owner == auth.id",
	"delete": "data.owner == auth.id"
}}}`

func ownerConfig(tb testing.TB) session.Config {
	tb.Helper()
	rules, err := perm.ParseRules([]byte(ownerRules), false)
	require.NoError(tb, err)
	return session.Config{Rules: rules, AdminToken: adminToken, Verifier: &perm.Verifier{HMACSecret: jwtSecret}}
}

// TestTwoSessionsOneQuery: a transact from one session reaches the other
// as a refresh; the query is shared and runs once for both.
func TestTwoSessionsOneQuery(t *testing.T) {
	ts := mustOpenServer(t, devConfig(t), newFakeBackend(t, todoAttrs...))
	a, _ := dialInit(t, ts.url, "")
	b, _ := dialInit(t, ts.url, "")
	const q = `{"todos":{}}`
	okA := a.addQuery("all", q)
	okB := b.addQuery("all", q)
	assert.Empty(t, okA.Result)
	assert.Empty(t, okB.Result)
	assert.Equal(t, 1, ts.Stats().Queries, "one shared query")
	assert.Equal(t, 2, ts.Stats().Subscriptions)

	reads := ts.backend.Reads()
	txOK := a.transact("m1", todoSteps(1, "milk", alice))
	assert.Equal(t, store.TxID(1), txOK.TxID)
	assert.Equal(t, "m1", txOK.MutationID)

	for _, c := range []*client{a, b} {
		r := expect[*wire.RefreshOK](c)
		assert.Equal(t, store.TxID(1), r.ProcessedTxID)
		require.Len(t, r.Computations, 1)
		comp := r.Computations[0]
		assert.Equal(t, "all", comp.QueryID)
		assert.False(t, comp.Full)
		assert.Len(t, comp.Added, 3, "id, title and owner")
		assert.Empty(t, comp.Removed)
	}
	assert.Equal(t, reads+1, ts.backend.Reads(), "the shared query runs once for both sessions")

	// A retried mutation applies nothing and answers the original tx-id.
	again := a.transact("m1", todoSteps(1, "milk", alice))
	assert.Equal(t, store.TxID(1), again.TxID)
}

// TestSQLWrite: a write without a tx-id (plain SQL) refreshes both
// sessions; the processed tx-id does not move.
func TestSQLWrite(t *testing.T) {
	ts := mustOpenServer(t, devConfig(t), newFakeBackend(t, todoAttrs...))
	a, _ := dialInit(t, ts.url, "")
	b, _ := dialInit(t, ts.url, "")
	a.addQuery("q", `{"todos":{"$":{"where":{"title":"milk"}}}}`)
	b.addQuery("q", `{"todos":{"$":{"where":{"title":"milk"}}}}`)
	ts.backend.sqlWrite(t, todoSteps(7, "milk", bob)...)
	for _, c := range []*client{a, b} {
		r := expect[*wire.RefreshOK](c)
		assert.Equal(t, store.TxID(0), r.ProcessedTxID)
		require.Len(t, r.Computations, 1)
		assert.Len(t, r.Computations[0].Added, 3)
	}
}

// TestOwnWriteOutsideQueries: a session's write that changes none of its
// queries still gets a refresh-ok whose processed-tx-id covers it, so the
// client can drop the pending mutation.
func TestOwnWriteOutsideQueries(t *testing.T) {
	ts := mustOpenServer(t, devConfig(t), newFakeBackend(t, todoAttrs...))
	a, _ := dialInit(t, ts.url, "")
	a.addQuery("q", `{"todos":{"$":{"where":{"title":"milk"}}}}`)
	ok := a.transact("m1", todoSteps(1, "bread", alice))
	r := expect[*wire.RefreshOK](a)
	assert.GreaterOrEqual(t, r.ProcessedTxID, ok.TxID)
	assert.Empty(t, r.Computations)
}

// TestDeltas follows a query through updates, deletes and a resync,
// checking that applying the deltas gives exactly the server's result.
func TestDeltas(t *testing.T) {
	ts := mustOpenServer(t, devConfig(t), newFakeBackend(t, todoAttrs...))
	admin, _ := dialInit(t, ts.url, adminToken)
	c, _ := dialInit(t, ts.url, "")
	const q = `{"todos":{"$":{"order":{"title":"asc"},"limit":2}}}`
	var steps []store.Step
	for i, title := range []string{"a", "b", "c"} {
		steps = append(steps, todoSteps(i+1, title, alice)...)
	}
	admin.transact("seed", steps)
	set := keysOf(c.addQuery("page", q).Result)

	want := func() map[store.TripleKey]store.Triple {
		var res *query.Result
		require.NoError(t, ts.backend.Read(t.Context(), func(src query.Source) error {
			pq, err := query.Parse([]byte(q), ts.Attrs())
			require.NoError(t, err)
			res, err = query.Eval(src, pq)
			return err
		}))
		return keysOf(res.Triples)
	}
	assert.Equal(t, want(), set)

	writes := [][]store.Step{
		{{Op: store.OpAddTriple, E: id(1), A: attrTodoTitle.ID, V: store.String("z")}},  // a leaves the page, c enters
		{{Op: store.OpDeleteEntity, E: id(2), Namespace: "todos"}},                      // b goes
		{{Op: store.OpAddTriple, E: id(3), A: attrTodoTitle.ID, V: store.String("c2")}}, // a value changes in place
	}
	for i, w := range writes {
		admin.transact(fmt.Sprintf("w%d", i), w)
		r := expect[*wire.RefreshOK](c)
		require.Len(t, r.Computations, 1, "write %d", i)
		set = applyComputation(set, r.Computations[0])
		assert.Equal(t, want(), set, "after write %d the client's triples must equal the server's result", i)
	}

	// Asking again with the same query-id gives the full result.
	full := c.addQuery("page", q)
	assert.Equal(t, want(), keysOf(full.Result))
}

// TestDeltaSize: updating one attribute of one row in a 1,000-row result
// costs well under 1 KB on the wire.
func TestDeltaSize(t *testing.T) {
	ts := mustOpenServer(t, devConfig(t), newFakeBackend(t, todoAttrs...))
	admin, _ := dialInit(t, ts.url, adminToken)
	c, _ := dialInit(t, ts.url, "")
	var steps []store.Step
	for i := 1; i <= 1000; i++ {
		steps = append(steps, todoSteps(i, fmt.Sprintf("todo %04d", i), alice)...)
	}
	admin.transact("seed", steps)
	ok := c.addQuery("all", `{"todos":{}}`)
	require.Len(t, ok.Result, 3000)

	admin.transact("one", []store.Step{{Op: store.OpAddTriple, E: id(500), A: attrTodoTitle.ID, V: store.String("renamed")}})
	m, size := c.next()
	r, isRefresh := m.(*wire.RefreshOK)
	require.True(t, isRefresh, "got %s", m.Op())
	require.Len(t, r.Computations, 1)
	assert.Len(t, r.Computations[0].Added, 1)
	assert.Len(t, r.Computations[0].Removed, 1)
	assert.Less(t, size, 1024, "a one-attribute update must cost < 1 KB, got %d bytes", size)
	t.Logf("one-attribute update in a 1000-row result: %d bytes", size)
}

// TestPermissions: a user sees only the rows the view rule allows, in
// results and deltas, and cannot write others' rows.
func TestPermissions(t *testing.T) {
	ts := mustOpenServer(t, ownerConfig(t), newFakeBackend(t, todoAttrs...))
	admin, _ := dialInit(t, ts.url, adminToken)
	a, initA := dialInit(t, ts.url, token(t, alice))
	assert.Equal(t, alice.String(), initA.AuthID)
	b, _ := dialInit(t, ts.url, token(t, bob))

	// fields leaves owner out of the query, so only the view rule reads it.
	const q = `{"todos":{"$":{"fields":["title"]}}}`
	a.addQuery("mine", q)
	b.addQuery("mine", q)
	assert.Equal(t, 2, ts.Stats().Queries, "different users do not share a query")

	a.transact("a1", todoSteps(1, "alice's", alice))
	ra := expect[*wire.RefreshOK](a)
	require.Len(t, ra.Computations, 1)
	b.transact("b1", todoSteps(2, "bob's", bob))
	rb := expect[*wire.RefreshOK](b)
	require.Len(t, rb.Computations, 1)
	for _, tr := range rb.Computations[0].Added {
		assert.Equal(t, id(2), tr.E, "bob sees only his todo")
	}

	// Alice cannot write bob's todo: permission-denied, nothing written.
	a.send(&wire.Transact{ClientEventID: "steal", MutationID: "a2", Steps: []store.Step{
		{Op: store.OpAddTriple, E: id(2), A: attrTodoTitle.ID, V: store.String("mine now")},
	}})
	e := expect[*wire.Error](a)
	assert.Equal(t, wire.CodePermissionDenied, e.Type)
	assert.Equal(t, 403, e.Status)
	assert.Equal(t, "a2", e.MutationID)
	assert.True(t, ts.backend.snapshot().Has(store.TripleKey{E: id(2), A: attrTodoTitle.ID, V: store.String("bob's")}), "bob's title is unchanged")
	// Nor create a todo in bob's name.
	a.send(&wire.Transact{ClientEventID: "forge", MutationID: "a3", Steps: todoSteps(3, "forged", bob)})
	assert.Equal(t, wire.CodePermissionDenied, expect[*wire.Error](a).Type)
	assert.False(t, ts.backend.snapshot().EntityExists(id(3)))

	// Giving bob's todo to alice (an owner change, outside the query's
	// fields) reveals it to her and hides it from bob.
	admin.transact("give", []store.Step{{Op: store.OpAddTriple, E: id(2), A: attrTodoOwner.ID, V: store.String(alice.String())}})
	ra = expect[*wire.RefreshOK](a)
	require.Len(t, ra.Computations, 1)
	for _, tr := range ra.Computations[0].Added {
		assert.Equal(t, id(2), tr.E)
		assert.NotEqual(t, attrTodoOwner.ID, tr.A, "owner is not a returned field")
	}
	rb = expect[*wire.RefreshOK](b)
	require.Len(t, rb.Computations, 1)
	assert.Empty(t, rb.Computations[0].Added)
	assert.NotEmpty(t, rb.Computations[0].Removed)

	// Anonymous sessions see nothing of todos.
	anon, _ := dialInit(t, ts.url, "")
	assert.Empty(t, anon.addQuery("all", `{"todos":{}}`).Result)
}

// TestRulesReload: new rules apply to every live query at once.
func TestRulesReload(t *testing.T) {
	ts := mustOpenServer(t, ownerConfig(t), newFakeBackend(t, todoAttrs...))
	a, _ := dialInit(t, ts.url, token(t, alice))
	a.addQuery("mine", `{"todos":{}}`)
	a.transact("a1", todoSteps(1, "x", alice))
	r := expect[*wire.RefreshOK](a)
	require.Len(t, r.Computations, 1)

	none, err := perm.ParseRules([]byte(`{"todos":{"allow":{"view":"false"}}}`), false)
	require.NoError(t, err)
	ts.SetRules(none)
	r = expect[*wire.RefreshOK](a)
	require.Len(t, r.Computations, 1)
	assert.Empty(t, r.Computations[0].Added)
	assert.Len(t, r.Computations[0].Removed, 3, "everything is hidden now")
}

// TestProtocolErrors: every bad request gets an error of the right type,
// and the session stays usable.
func TestProtocolErrors(t *testing.T) {
	cfg := devConfig(t)
	cfg.MaxMessageBytes = 4 << 10
	cfg.HardMaxMessageBytes = 64 << 10
	cfg.MaxQueries = 2
	cfg.MaxQueryBytes = 1 << 10
	ts := mustOpenServer(t, cfg, newFakeBackend(t, todoAttrs...))

	pre := dial(t, ts.url)
	pre.sendRaw(`{"op":"add-query","client-event-id":"early","q":{"todos":{}}}`)
	e := expect[*wire.Error](pre)
	assert.Equal(t, wire.CodeUnauthorized, e.Type)
	assert.Equal(t, 401, e.Status)
	assert.Equal(t, "early", e.ClientEventID)
	pre.sendRaw(`{"op":"transact","mutation-id":"m","tx-steps":[]}`)
	assert.Equal(t, wire.CodeUnauthorized, expect[*wire.Error](pre).Type)
	pre.sendRaw(`{"op":"init","token":"not-a-jwt"}`)
	assert.Equal(t, wire.CodeUnauthorized, expect[*wire.Error](pre).Type)

	c, _ := dialInit(t, ts.url, "")
	tests := []struct {
		name   string
		frame  string
		code   string
		status int
	}{
		{"malformed json", `{"op":"add-query",`, wire.CodeInvalid, 400},
		{"not an object", `[1,2,3]`, wire.CodeInvalid, 400},
		{"unknown op", `{"op":"drop-database","client-event-id":"x"}`, wire.CodeInvalid, 400},
		{"server op from a client", `{"op":"transact-ok","mutation-id":"m","tx-id":1}`, wire.CodeInvalid, 400},
		{"second init", `{"op":"init","client-event-id":"x"}`, wire.CodeInvalid, 400},
		{"invalid query", `{"op":"add-query","client-event-id":"x","q":{"nope":{}}}`, wire.CodeInvalid, 400},
		{"bad where", `{"op":"add-query","client-event-id":"x","q":{"todos":{"$":{"where":{"title":{"$near":1}}}}}}`, wire.CodeInvalid, 400},
		{"query too large", `{"op":"add-query","client-event-id":"x","q":{"todos":{"$":{"where":{"title":"` + strings.Repeat("x", 2<<10) + `"}}}}}`, wire.CodeLimit, 413},
		{"malformed step", `{"op":"transact","client-event-id":"x","mutation-id":"m","tx-steps":[["add-triple","x"]]}`, wire.CodeInvalid, 400},
		{"unknown attribute", `{"op":"transact","client-event-id":"x","mutation-id":"m","tx-steps":[["add-triple","` + id(1).String() + `","` + id(999).String() + `",1]]}`, wire.CodeInvalid, 400},
		{"wrong type", `{"op":"transact","client-event-id":"x","mutation-id":"m","tx-steps":[["add-triple","` + id(1).String() + `","` + attrTodoDone.ID.String() + `","yes"]]}`, wire.CodeInvalid, 400},
		{"oversized frame", `{"op":"add-query","client-event-id":"big","q":{"todos":{}},"pad":"` + strings.Repeat("x", 8<<10) + `"}`, wire.CodeLimit, 413},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c.tb = t
			c.sendRaw(tt.frame)
			e := expect[*wire.Error](c)
			assert.Equal(t, tt.code, e.Type, "message %q", e.Message)
			assert.Equal(t, tt.status, e.Status)
			assert.NotEmpty(t, e.Message)
			// The session stays usable.
			c.addQuery("probe", `{"todos":{}}`)
		})
	}
	c.tb = t

	// Too many queries.
	c.addQuery("second", `{"todos":{"$":{"limit":1}}}`)
	c.send(&wire.AddQuery{ClientEventID: "third", QueryID: "third", Q: json.RawMessage(`{"todos":{"$":{"limit":2}}}`)})
	e = expect[*wire.Error](c)
	assert.Equal(t, wire.CodeLimit, e.Type)
	assert.Equal(t, 429, e.Status)
	assert.Equal(t, "third", e.QueryID)
	c.send(&wire.RemoveQuery{ClientEventID: "rm", QueryID: "second"})
	assert.Equal(t, "second", expect[*wire.RemoveQueryOK](c).QueryID)
	c.addQuery("third", `{"todos":{"$":{"limit":2}}}`)

	// A frame over the hard limit closes the connection with 1009. The
	// server closes as soon as it reads the frame's header, so the client
	// may see its write or read reset before the close frame arrives.
	_ = c.ws.WriteMessage(websocket.TextMessage, []byte(`{"op":"init","pad":"`+strings.Repeat("x", 128<<10)+`"}`))
	require.NoError(t, c.ws.SetReadDeadline(time.Now().Add(readTimeout)))
	_, _, err := c.ws.ReadMessage()
	require.Error(t, err, "the connection must be closed")
	var ce *websocket.CloseError
	if errors.As(err, &ce) {
		assert.Equal(t, websocket.CloseMessageTooBig, ce.Code)
	}
	var ne net.Error
	assert.False(t, errors.As(err, &ne) && ne.Timeout(), "the server must close the connection, not leave it idle")
}

// TestSchemaSteps: only admins (or dev mode) may change attributes; a
// schema change reaches every session with the new registry.
func TestSchemaSteps(t *testing.T) {
	ts := mustOpenServer(t, ownerConfig(t), newFakeBackend(t, todoAttrs...))
	admin, _ := dialInit(t, ts.url, adminToken)
	user, _ := dialInit(t, ts.url, token(t, alice))
	user.addQuery("mine", `{"todos":{}}`)
	prio := store.Attr{ID: id(905), Namespace: "todos", Label: "prio", Type: store.TypeNumber}
	user.send(&wire.Transact{ClientEventID: "x", MutationID: "u1", Steps: []store.Step{{Op: store.OpAddAttr, A: prio.ID, Attr: prio}}})
	assert.Equal(t, wire.CodePermissionDenied, expect[*wire.Error](user).Type)

	admin.transact("s1", []store.Step{{Op: store.OpAddAttr, A: prio.ID, Attr: prio}})
	_, ok := ts.Attrs().ByName("todos", "prio")
	assert.True(t, ok, "the registry has the new attribute once transact-ok is sent")
	r := expect[*wire.RefreshOK](user)
	require.NotNil(t, r.Attrs)
	assert.Len(t, r.Attrs, len(todoAttrs)+1)
	// The new name resolves at once.
	user.addQuery("prio", `{"todos":{"$":{"where":{"prio":{"$gt":1}}}}}`)
}

// TestRetry: a query run that fails is retried until it succeeds.
func TestRetry(t *testing.T) {
	ts := mustOpenServer(t, devConfig(t), newFakeBackend(t, todoAttrs...))
	admin, _ := dialInit(t, ts.url, adminToken)
	c, _ := dialInit(t, ts.url, "")
	c.addQuery("all", `{"todos":{}}`)
	failures := 2
	ts.backend.mu.Lock()
	ts.backend.ReadFn = func(ctx context.Context, fn func(src query.Source) error) error {
		ts.backend.mu.Lock()
		snap := ts.backend.snap
		fail := failures > 0
		failures--
		ts.backend.mu.Unlock()
		if fail {
			return errors.New("connection refused")
		}
		return fn(query.SnapshotSource(snap))
	}
	ts.backend.mu.Unlock()
	admin.transact("m", todoSteps(1, "x", alice))
	r := expect[*wire.RefreshOK](c)
	require.Len(t, r.Computations, 1)
	assert.Len(t, r.Computations[0].Added, 3)
}

// TestSlowConsumer: a client that never reads is closed and counted,
// while another client on the same query keeps getting its refreshes.
func TestSlowConsumer(t *testing.T) {
	cfg := devConfig(t)
	cfg.QueueFrames = 4
	rec := &logRecorder{}
	cfg.Logger = slog.New(rec)
	ts := mustOpenServer(t, cfg, newFakeBackend(t, todoAttrs...))
	admin, _ := dialInit(t, ts.url, adminToken)
	var steps []store.Step
	for i := 1; i <= 300; i++ {
		steps = append(steps, todoSteps(i, strings.Repeat("t", 200)+fmt.Sprint(i), alice)...)
	}
	admin.transact("seed", steps)

	fast, _ := dialInit(t, ts.url, "")
	fast.addQuery("all", `{"todos":{}}`)
	slow, _ := dialInit(t, ts.url, "")
	// The slow client asks for the big result again and again and never
	// reads: its socket fills, then its queue.
	for i := 0; ts.Stats().SlowConsumers == 0; i++ {
		require.Less(t, i, 100000, "the slow consumer was never cut off")
		b, _ := wire.Encode(nil, &wire.AddQuery{QueryID: "all", Q: json.RawMessage(`{"todos":{}}`)})
		if err := slow.ws.WriteMessage(websocket.TextMessage, b); err != nil {
			break // the server closed it
		}
		if i%50 == 49 {
			// Meanwhile the fast client is served.
			admin.transact(fmt.Sprintf("w%d", i), []store.Step{{Op: store.OpAddTriple, E: id(1), A: attrTodoTitle.ID, V: store.String(fmt.Sprint(i))}})
			r := expect[*wire.RefreshOK](fast)
			require.Len(t, r.Computations, 1)
		}
	}
	assert.Equal(t, uint64(1), ts.Stats().SlowConsumers)
	assert.True(t, slices.ContainsFunc(rec.logged(), func(err error) bool { return errors.Is(err, session.ErrSlowConsumer) }),
		"the session is closed with ErrSlowConsumer")
	admin.transact("after", []store.Step{{Op: store.OpAddTriple, E: id(1), A: attrTodoTitle.ID, V: store.String("after")}})
	require.Len(t, expect[*wire.RefreshOK](fast).Computations, 1)
}

func TestCode(t *testing.T) {
	tests := []struct {
		err  error
		want string
	}{
		{session.ErrUnauthorized, wire.CodeUnauthorized},
		{perm.ErrInvalidToken, wire.CodeUnauthorized},
		{fmt.Errorf("check: %w", perm.ErrDenied), wire.CodePermissionDenied},
		{&store.StepError{Index: 1, Err: store.ErrUniqueViolation}, wire.CodeConflict},
		{&store.StepError{Index: 1, Err: store.ErrNotFound}, wire.CodeNotFound},
		{&store.StepError{Index: 1, Err: store.ErrUnknownAttr}, wire.CodeInvalid},
		{&query.Error{Path: "x", Err: query.ErrUnknownNamespace}, wire.CodeInvalid},
		{session.ErrTooManyQueries, wire.CodeLimit},
		{session.ErrMessageTooLarge, wire.CodeLimit},
		{errors.New("connection reset"), wire.CodeInternal},
		{context.DeadlineExceeded, wire.CodeInternal},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, session.Code(tt.err), "Code(%v)", tt.err)
	}
}

// TestApplyReloadsAttrs: an attribute change that does not apply to the
// registry (here, a clashing name) makes the server reload the registry
// from the backend, and every session hears of it.
func TestApplyReloadsAttrs(t *testing.T) {
	ts := mustOpenServer(t, devConfig(t), newFakeBackend(t, todoAttrs...))
	c, _ := dialInit(t, ts.url, "")
	c.addQuery("all", `{"todos":{}}`)
	// The database has an attribute the server has not heard of yet.
	prio := store.Attr{ID: id(905), Namespace: "todos", Label: "prio", Type: store.TypeNumber}
	ts.backend.defineQuietly(t, prio)

	clash := store.Attr{ID: id(950), Namespace: "todos", Label: "title", Type: store.TypeString}
	require.NoError(t, ts.Apply(t.Context(), session.Committed{Change: store.Change{TxID: 9, Attrs: []store.AttrChange{{Op: store.OpInsert, New: clash}}}}))
	_, ok := ts.Attrs().ByID(clash.ID)
	assert.False(t, ok, "the clashing change is not in the registry")
	_, ok = ts.Attrs().ByID(prio.ID)
	assert.True(t, ok, "the registry was reloaded from the backend")
	assert.Equal(t, store.TxID(9), ts.Processed())
	r := expect[*wire.RefreshOK](c)
	assert.Len(t, r.Attrs, len(todoAttrs)+1, "a schema change pushes the registry")
	assert.Equal(t, store.TxID(9), r.ProcessedTxID)
}

// TestResetReloadsAttrs: a WAL reset (a gap the reader cannot rule out)
// may have skipped attribute changes, so the server reads the registry
// again and pushes it to every session when it differs; a reset that
// finds the registry unchanged pushes none.
func TestResetReloadsAttrs(t *testing.T) {
	ts := mustOpenServer(t, devConfig(t), newFakeBackend(t, todoAttrs...))
	c, _ := dialInit(t, ts.url, "")
	c.addQuery("all", `{"todos":{}}`)

	// A reset that finds the registry unchanged is only a reset.
	require.NoError(t, ts.Apply(t.Context(), session.Committed{Change: store.Change{TxID: 8}, Reset: true}))
	assert.Len(t, ts.Attrs().List(), len(todoAttrs))

	// The gap held a definition the WAL never delivered.
	prio := store.Attr{ID: id(906), Namespace: "todos", Label: "prio", Type: store.TypeNumber}
	ts.backend.defineQuietly(t, prio)

	require.NoError(t, ts.Apply(t.Context(), session.Committed{Change: store.Change{TxID: 9}, Reset: true}))
	_, ok := ts.Attrs().ByID(prio.ID)
	assert.True(t, ok, "the registry was reloaded from the backend")
	// The session hears of it, in the refresh of the second reset or,
	// when the first one's run comes after the registry changed, of the
	// first (then the second has nothing new to send).
	r := expect[*wire.RefreshOK](c)
	if r.Attrs == nil {
		r = expect[*wire.RefreshOK](c)
	}
	assert.Len(t, r.Attrs, len(todoAttrs)+1, "the changed registry is pushed")
}

// TestRetryHoldsProcessed: while one of a session's queries cannot be
// re-run, a refresh-ok must not advance processed-tx-id past the session's
// own write: the client applies the watermark to every query it holds and
// would drop the write's pending mutation from the query still showing its
// old result.
func TestRetryHoldsProcessed(t *testing.T) {
	ts := mustOpenServer(t, devConfig(t), newFakeBackend(t, todoAttrs...))
	c, _ := dialInit(t, ts.url, "")
	c.addQuery("all", `{"todos":{}}`)
	c.addQuery("milk", `{"todos":{"$":{"where":{"title":"milk"}}}}`)
	failures := 1
	ts.backend.mu.Lock()
	ts.backend.ReadFn = func(ctx context.Context, fn func(src query.Source) error) error {
		ts.backend.mu.Lock()
		snap := ts.backend.snap
		fail := failures > 0
		failures--
		ts.backend.mu.Unlock()
		if fail {
			return errors.New("connection refused")
		}
		return fn(query.SnapshotSource(snap))
	}
	ts.backend.mu.Unlock()
	ok := c.transact("m1", todoSteps(1, "milk", alice))

	seen := map[string]bool{}
	for len(seen) < 2 {
		r := expect[*wire.RefreshOK](c)
		for _, comp := range r.Computations {
			seen[comp.QueryID] = true
		}
		if len(seen) < 2 {
			assert.Less(t, r.ProcessedTxID, ok.TxID,
				"a refresh-ok sent while a query's re-run failed claims tx %d processed", r.ProcessedTxID)
		} else {
			assert.GreaterOrEqual(t, r.ProcessedTxID, ok.TxID, "once every query is refreshed the watermark covers the write")
		}
	}
}
