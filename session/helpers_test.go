package session_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"os"
	"runtime/pprof"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/require"

	"github.com/triplesync/triplesync/internal/wire"
	"github.com/triplesync/triplesync/query"
	"github.com/triplesync/triplesync/session"
	"github.com/triplesync/triplesync/store"
)

// fakeBackend is a session.Backend over an in-memory store.Snapshot (a
// domain seam, STYLE.md T4): Transact applies the steps and hands the
// resulting change straight to the server's Apply, as the WAL would.
// The integration tests in internal/server use Postgres and the real WAL.
type fakeBackend struct {
	mu        sync.Mutex
	snap      *store.Snapshot
	tx        store.TxID
	mutations map[string]store.TxID
	srv       *session.Server

	// ReadFn, when set, replaces Read (to inject failures).
	ReadFn func(ctx context.Context, fn func(src query.Source) error) error
	// reads counts Read calls.
	reads int
}

var _ session.Backend = (*fakeBackend)(nil)

func newFakeBackend(tb testing.TB, attrs ...store.Attr) *fakeBackend {
	tb.Helper()
	return &fakeBackend{snap: store.NewSnapshot(store.MustNewAttrs(attrs...)), mutations: map[string]store.TxID{}}
}

func (f *fakeBackend) Read(ctx context.Context, fn func(src query.Source) error) error {
	f.mu.Lock()
	snap := f.snap
	f.reads++
	readFn := f.ReadFn
	f.mu.Unlock()
	if readFn != nil {
		return readFn(ctx, fn)
	}
	return fn(query.SnapshotSource(snap))
}

func (f *fakeBackend) snapshot() *store.Snapshot {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.snap
}

// defineQuietly adds attr to the database without telling the server, as
// a definition the WAL has not delivered (or skipped) would.
func (f *fakeBackend) defineQuietly(tb testing.TB, attr store.Attr) {
	tb.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	next, err := f.snap.Apply([]store.Step{{Op: store.OpAddAttr, A: attr.ID, Attr: attr}}, 1)
	require.NoError(tb, err)
	f.snap = next
}

func (f *fakeBackend) Reads() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.reads
}

func (f *fakeBackend) LoadAttrs(context.Context) (*store.Attrs, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.snap.Attrs(), nil
}

func (f *fakeBackend) Transact(ctx context.Context, req session.TransactRequest) (session.TransactResult, error) {
	f.mu.Lock()
	if tx, ok := f.mutations[req.MutationID]; ok && req.MutationID != "" {
		f.mu.Unlock()
		return session.TransactResult{TxID: tx, Duplicate: true}, nil
	}
	before := f.snap
	after, err := before.Apply(req.Steps, req.Now)
	if err != nil {
		f.mu.Unlock()
		return session.TransactResult{}, err
	}
	change := diffSnapshots(before, after)
	if req.Check != nil {
		for _, c := range writeChecks(before, after, change) {
			if err := req.Check(c); err != nil {
				f.mu.Unlock()
				return session.TransactResult{}, fmt.Errorf("check %s %s: %w", c.Action, c.Namespace, err)
			}
		}
	}
	f.tx++
	change.TxID = f.tx
	f.snap = after
	if req.MutationID != "" {
		f.mutations[req.MutationID] = f.tx
	}
	f.mu.Unlock()
	if err := f.srv.Apply(ctx, session.Committed{Change: change, CommitTime: time.Now()}); err != nil {
		return session.TransactResult{}, err
	}
	return session.TransactResult{TxID: change.TxID}, nil
}

// sqlWrite applies steps without a tx-id, as a plain SQL write does.
func (f *fakeBackend) sqlWrite(tb testing.TB, steps ...store.Step) {
	tb.Helper()
	f.mu.Lock()
	after, err := f.snap.Apply(steps, 1)
	require.NoError(tb, err)
	change := diffSnapshots(f.snap, after)
	f.snap = after
	f.mu.Unlock()
	require.NoError(tb, f.srv.Apply(context.Background(), session.Committed{Change: change}))
}

// diffSnapshots is the change between two snapshots, as the WAL would
// decode it (inserts and deletes; attribute inserts, updates and deletes).
func diffSnapshots(before, after *store.Snapshot) store.Change {
	var c store.Change
	old := map[store.TripleKey]store.Triple{}
	for _, t := range before.Triples() {
		old[t.Key()] = t
	}
	for _, t := range after.Triples() {
		if o, ok := old[t.Key()]; ok && o == t {
			delete(old, t.Key())
			continue
		}
		at, _ := after.Attrs().ByID(t.A)
		c.Triples = append(c.Triples, store.TripleChange{Op: store.OpInsert, New: t, NewFlags: at.Flags()})
	}
	for _, t := range before.Triples() {
		if _, gone := old[t.Key()]; gone {
			at, _ := before.Attrs().ByID(t.A)
			c.Triples = append(c.Triples, store.TripleChange{Op: store.OpDelete, Old: t, OldFlags: at.Flags()})
		}
	}
	oldAttrs := map[store.AttrID]store.Attr{}
	for _, a := range before.Attrs().List() {
		oldAttrs[a.ID] = a
	}
	for _, a := range after.Attrs().List() {
		o, ok := oldAttrs[a.ID]
		delete(oldAttrs, a.ID)
		switch {
		case !ok:
			c.Attrs = append(c.Attrs, store.AttrChange{Op: store.OpInsert, New: a})
		case o != a:
			c.Attrs = append(c.Attrs, store.AttrChange{Op: store.OpUpdate, Old: o, New: a})
		}
	}
	for _, a := range oldAttrs {
		c.Attrs = append(c.Attrs, store.AttrChange{Op: store.OpDelete, Old: a})
	}
	return c
}

// writeChecks lists the entities a change writes, as pg's Check hook
// would see them.
func writeChecks(before, after *store.Snapshot, c store.Change) []session.WriteCheck {
	type ent struct {
		ns string
		e  store.EntityID
	}
	seen := map[ent]bool{}
	var out []session.WriteCheck
	for _, tc := range c.Triples {
		t, snap := tc.New, after
		if tc.Op == store.OpDelete {
			t, snap = tc.Old, before
		}
		at, _ := snap.Attrs().ByID(t.A)
		k := ent{at.Namespace, t.E}
		if seen[k] {
			continue
		}
		seen[k] = true
		b, a := entityData(before, k.ns, k.e), entityData(after, k.ns, k.e)
		act := "update"
		switch {
		case b == nil:
			act = "create"
		case a == nil:
			act = "delete"
		}
		out = append(out, session.WriteCheck{Namespace: k.ns, Entity: k.e, Action: act, Before: b, After: a})
	}
	return out
}

func entityData(s *store.Snapshot, ns string, e store.EntityID) map[string]any {
	var m map[string]any
	for _, at := range s.Attrs().Namespace(ns) {
		s.ScanEntity(e, at.ID, func(t store.Triple) bool {
			if m == nil {
				m = map[string]any{"id": e.String()}
			}
			m[at.Label] = t.V.Any()
			return true
		})
	}
	return m
}

// id returns a deterministic UUID for tests.
func id(n int) store.EntityID {
	return store.MustParseEntityID(fmt.Sprintf("00000000-0000-4000-8000-%012d", n))
}

// Attributes of the test schema: todos with a title, an owner and done.
var (
	attrTodoID    = store.Attr{ID: id(901), Namespace: "todos", Label: "id", Type: store.TypeString, Unique: true, Indexed: true}
	attrTodoTitle = store.Attr{ID: id(902), Namespace: "todos", Label: "title", Type: store.TypeString, Indexed: true}
	attrTodoOwner = store.Attr{ID: id(903), Namespace: "todos", Label: "owner", Type: store.TypeString, Indexed: true}
	attrTodoDone  = store.Attr{ID: id(904), Namespace: "todos", Label: "done", Type: store.TypeBoolean}
	todoAttrs     = []store.Attr{attrTodoID, attrTodoTitle, attrTodoOwner, attrTodoDone}
)

// todoSteps writes todo n with a title and an owner.
func todoSteps(n int, title string, owner store.EntityID) []store.Step {
	e := id(n)
	return []store.Step{
		{Op: store.OpAddTriple, E: e, A: attrTodoID.ID, V: store.Ref(e)},
		{Op: store.OpAddTriple, E: e, A: attrTodoTitle.ID, V: store.String(title)},
		{Op: store.OpAddTriple, E: e, A: attrTodoOwner.ID, V: store.String(owner.String())},
	}
}

// testServer is a session.Server on an httptest server over a fake backend.
type testServer struct {
	*session.Server
	backend *fakeBackend
	http    *httptest.Server
	url     string
}

func mustOpenServer(tb testing.TB, cfg session.Config, backend *fakeBackend) *testServer {
	tb.Helper()
	cfg.Backend = backend
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	srv, err := session.NewServer(cfg)
	require.NoError(tb, err)
	backend.srv = srv
	require.NoError(tb, srv.Open(context.Background()))
	hs := httptest.NewServer(srv)
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := srv.Close(ctx); err != nil {
			_ = pprof.Lookup("goroutine").WriteTo(os.Stderr, 1)
			tb.Errorf("close: %v", err)
		}
		hs.Close()
	})
	return &testServer{Server: srv, backend: backend, http: hs, url: "ws" + strings.TrimPrefix(hs.URL, "http") + "/runtime/session"}
}

// client is a test WebSocket client.
type client struct {
	tb testing.TB
	ws *websocket.Conn
}

// readTimeout only bounds a test that would otherwise hang: no assertion
// depends on it.
const readTimeout = 20 * time.Second

func dial(tb testing.TB, url string) *client {
	tb.Helper()
	ws, _, err := websocket.DefaultDialer.Dial(url, nil)
	require.NoError(tb, err)
	tb.Cleanup(func() { ws.Close() })
	return &client{tb: tb, ws: ws}
}

// dialInit connects and sends init with token, expecting init-ok.
func dialInit(tb testing.TB, url, token string) (*client, *wire.InitOK) {
	tb.Helper()
	c := dial(tb, url)
	c.send(&wire.Init{ClientEventID: "init", Token: token})
	ok := expect[*wire.InitOK](c)
	return c, ok
}

func (c *client) send(m wire.Message) {
	c.tb.Helper()
	b, err := wire.Encode(nil, m)
	require.NoError(c.tb, err)
	c.sendRaw(string(b))
}

func (c *client) sendRaw(s string) {
	c.tb.Helper()
	require.NoError(c.tb, c.ws.WriteMessage(websocket.TextMessage, []byte(s)))
}

// next reads one frame, returning the message and the frame's size.
func (c *client) next() (wire.Message, int) {
	c.tb.Helper()
	require.NoError(c.tb, c.ws.SetReadDeadline(time.Now().Add(readTimeout)))
	typ, b, err := c.ws.ReadMessage()
	require.NoError(c.tb, err)
	require.Equal(c.tb, websocket.TextMessage, typ)
	m, err := wire.Parse(b)
	require.NoError(c.tb, err, "server sent %s", b)
	return m, len(b)
}

// expect reads the next message and requires it to be a T.
func expect[T wire.Message](c *client) T {
	c.tb.Helper()
	m, _ := c.next()
	t, ok := m.(T)
	if !ok {
		b, _ := json.Marshal(m)
		c.tb.Fatalf("got %s %s, want %T", m.Op(), b, *new(T))
	}
	return t
}

// addQuery subscribes and returns the add-query-ok.
func (c *client) addQuery(qid, q string) *wire.AddQueryOK {
	c.tb.Helper()
	c.send(&wire.AddQuery{ClientEventID: "aq-" + qid, QueryID: qid, Q: json.RawMessage(q)})
	ok := expect[*wire.AddQueryOK](c)
	require.Equal(c.tb, qid, ok.QueryID)
	return ok
}

// transact sends a transact and returns its transact-ok.
func (c *client) transact(mid string, steps []store.Step) *wire.TransactOK {
	c.tb.Helper()
	c.send(&wire.Transact{ClientEventID: "tx-" + mid, MutationID: mid, Steps: steps})
	return expect[*wire.TransactOK](c)
}

// triplesOf returns the set of triple keys of ts.
func keysOf(ts []store.Triple) map[store.TripleKey]store.Triple {
	m := make(map[store.TripleKey]store.Triple, len(ts))
	for _, t := range ts {
		m[t.Key()] = t
	}
	return m
}

// applyComputation applies a computation to a client's triple set, as a
// client does.
func applyComputation(set map[store.TripleKey]store.Triple, c wire.Computation) map[store.TripleKey]store.Triple {
	if c.Full {
		set = map[store.TripleKey]store.Triple{}
	}
	for _, k := range c.Removed {
		delete(set, k)
	}
	for _, t := range c.Added {
		set[t.Key()] = t
	}
	return set
}

// logRecorder is a slog.Handler keeping the errors logged under "err", so
// a test can check why something was logged.
type logRecorder struct {
	mu   sync.Mutex
	errs []error
}

func (h *logRecorder) Enabled(context.Context, slog.Level) bool { return true }
func (h *logRecorder) Handle(_ context.Context, r slog.Record) error {
	r.Attrs(func(a slog.Attr) bool {
		if err, ok := a.Value.Any().(error); ok && a.Key == "err" {
			h.mu.Lock()
			h.errs = append(h.errs, err)
			h.mu.Unlock()
		}
		return true
	})
	return nil
}
func (h *logRecorder) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *logRecorder) WithGroup(string) slog.Handler      { return h }

// logged returns the errors logged so far.
func (h *logRecorder) logged() []error {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]error(nil), h.errs...)
}
