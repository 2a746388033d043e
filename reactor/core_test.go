package reactor_test

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/triplesync/triplesync/internal/wire"
	"github.com/triplesync/triplesync/query"
	"github.com/triplesync/triplesync/reactor"
	"github.com/triplesync/triplesync/store"
)

// The query-id rests on the canonical text query.Query.Text gives, without
// needing the registry: equal queries written differently share it.
func TestQueryID(t *testing.T) {
	n := newNames()
	attrs := todoAttrs(n)
	tests := []struct {
		name string
		a, b string
	}{
		{"spacing", `{"todos":{}}`, ` { "todos" : { } } `},
		{"key order", `{"todos":{"$":{"where":{"title":"x","n":1},"limit":2}}}`, `{"todos":{"$":{"limit":2,"where":{"n":1,"title":"x"}}}}`},
		{"numbers", `{"todos":{"$":{"where":{"n":{"$gt":1.0}},"limit":10}}}`, `{"todos":{"$":{"where":{"n":{"$gt":1e0}},"limit":1e1}}}`},
		{"unicode", `{"todos":{"$":{"where":{"title":"é\u00e9"}}}}`, `{"todos":{"$":{"where":{"title":"éé"}}}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ida, texta, err := reactor.QueryID([]byte(tt.a))
			require.NoError(t, err)
			idb, textb, err := reactor.QueryID([]byte(tt.b))
			require.NoError(t, err)
			assert.Equal(t, ida, idb)
			assert.Equal(t, string(texta), string(textb))
			q, err := query.Parse([]byte(tt.a), attrs)
			require.NoError(t, err)
			assert.Equal(t, q.Text(), string(texta), "QueryID's text is query.Query.Text()")
			assert.Len(t, ida, 33)
		})
	}
	other, _, err := reactor.QueryID([]byte(`{"todos":{"$":{"limit":3}}}`))
	require.NoError(t, err)
	same, _, _ := reactor.QueryID([]byte(tests[0].a))
	assert.NotEqual(t, same, other)
	for _, bad := range []string{``, `[]`, `"x"`, `{`, `{"a":1} x`, `null`} {
		_, _, err := reactor.QueryID([]byte(bad))
		assert.Error(t, err, "QueryID(%q)", bad)
	}
}

func TestBatchMerge(t *testing.T) {
	m := func(id string, seq uint64, tx store.TxID) reactor.Mutation {
		return reactor.Mutation{ID: id, Seq: seq, TxID: tx}
	}
	tests := []struct {
		name       string
		a, b, want reactor.Batch
	}{
		{"later put wins",
			reactor.Batch{PutMutations: []reactor.Mutation{m("m1", 1, 0)}},
			reactor.Batch{PutMutations: []reactor.Mutation{m("m1", 1, 5)}},
			reactor.Batch{PutMutations: []reactor.Mutation{m("m1", 1, 5)}}},
		{"delete after put",
			reactor.Batch{PutMutations: []reactor.Mutation{m("m1", 1, 0), m("m2", 2, 0)}, PutSettings: []reactor.Setting{{Key: "k", Value: []byte("v")}}},
			reactor.Batch{DeleteMutations: []string{"m1"}, DeleteSettings: []string{"k"}},
			reactor.Batch{PutMutations: []reactor.Mutation{m("m2", 2, 0)}, DeleteMutations: []string{"m1"}, DeleteSettings: []string{"k"}}},
		{"put after delete",
			reactor.Batch{DeleteQueries: []string{"q"}},
			reactor.Batch{PutQueries: []reactor.CachedQuery{{ID: "q", ProcessedTxID: 3}}},
			reactor.Batch{PutQueries: []reactor.CachedQuery{{ID: "q", ProcessedTxID: 3}}}},
		{"seq order",
			reactor.Batch{PutMutations: []reactor.Mutation{m("b", 2, 0)}},
			reactor.Batch{PutMutations: []reactor.Mutation{m("a", 3, 0), m("c", 1, 0)}},
			reactor.Batch{PutMutations: []reactor.Mutation{m("c", 1, 0), m("b", 2, 0), m("a", 3, 0)}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.a.Merge(&tt.b)
			assert.Equal(t, tt.want, *got)
			assert.Equal(t, tt.want.Empty(), got.Empty())
		})
	}
	assert.True(t, (&reactor.Batch{}).Merge(&reactor.Batch{}).Empty())
}

func TestNewCoreConfig(t *testing.T) {
	clock := newClock()
	tests := []struct {
		name string
		cfg  reactor.Config
		ok   bool
	}{
		{"complete", reactor.Config{Now: clock.Now, Rand: newRand(1)}, true},
		{"no clock", reactor.Config{Rand: newRand(1)}, false},
		{"no rand", reactor.Config{Now: clock.Now}, false},
		{"backoff upside down", reactor.Config{Now: clock.Now, Rand: newRand(1), MinBackoff: time.Second, MaxBackoff: time.Millisecond}, false},
		{"negative cache limit", reactor.Config{Now: clock.Now, Rand: newRand(1), CacheMaxEntries: -1}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := reactor.NewCore(tt.cfg)
			assert.Equal(t, tt.ok, err == nil, "NewCore: %v", err)
		})
	}
}

// Failed attempts back off exponentially up to the maximum, each delay
// between half and all of its step, and a session resets the count.
func TestBackoff(t *testing.T) {
	clock := newClock()
	c, err := reactor.NewCore(reactor.Config{Now: clock.Now, Rand: newRand(7), MinBackoff: 100 * time.Millisecond, MaxBackoff: 3 * time.Second})
	require.NoError(t, err)
	drain := func() {
		for c.HasReady() {
			c.Advance(c.Ready())
		}
	}
	c.Load(nil)
	drain()
	step := 100 * time.Millisecond
	for attempt := 1; attempt <= 10; attempt++ {
		c.ConnClosed(errors.New("refused"))
		drain()
		st := c.Status()
		require.Equal(t, reactor.StateOffline, st.State)
		require.Equal(t, attempt, st.Attempt)
		d := st.RetryAt.Sub(clock.Now())
		assert.True(t, d > step/2 && d <= step, "attempt %d: delay %v, step %v", attempt, d, step)
		step = min(2*step, 3*time.Second)
		c.Tick()
		assert.Equal(t, reactor.StateOffline, c.Status().State, "not before its time")
		clock.Advance(d)
		c.Tick()
		require.Equal(t, reactor.StateConnecting, c.Status().State)
		drain()
	}
	c.ConnOpened()
	require.NoError(t, c.Step(roundTrip(&wireInitOK)))
	assert.Equal(t, reactor.StateOnline, c.Status().State)
	assert.Zero(t, c.Status().Attempt)
	c.ConnClosed(errors.New("reset"))
	assert.Equal(t, 1, c.Status().Attempt)
}

var wireInitOK = wire.InitOK{SessionID: "s"}

// Confirmed mutations kept only for a cached query nobody subscribes to
// are bounded: past MaxHeldConfirmed the oldest are dropped and the
// cached result that lacks them is forgotten rather than shown without
// them (issue #7).
func TestHeldConfirmedBounded(t *testing.T) {
	n := newNames()
	attrs := todoAttrs(n)
	clock := newClock()
	core, err := reactor.NewCore(reactor.Config{Now: clock.Now, Rand: newRand(1), CacheFlushDelay: -1})
	require.NoError(t, err)
	raw, err := jsonMarshal(attrs.List())
	require.NoError(t, err)
	cachedID, text, err := reactor.QueryID([]byte(`{"todos":{}}`))
	require.NoError(t, err)
	otherID, otherText, err := reactor.QueryID([]byte(`{"todos":{"$":{"where":{"n":1}}}}`))
	require.NoError(t, err)
	t1 := n.id("t1")
	triples := []store.Triple{{E: t1, A: n.id("todos.id"), V: store.Ref(t1), CreatedAt: 1}}
	core.Load(&reactor.State{
		Settings: map[string][]byte{reactor.SettingAttrs: raw},
		Queries: []reactor.CachedQuery{
			{ID: cachedID, Q: text, Triples: triples, ProcessedTxID: 1, LastUsed: clock.Now().UnixMilli()},
			{ID: otherID, Q: otherText, Triples: triples, ProcessedTxID: 1, LastUsed: clock.Now().UnixMilli()},
		},
	})
	core.ConnOpened()
	require.NoError(t, core.Step(&wire.InitOK{SessionID: "s", Attrs: attrs.List()}))
	var deleted []string
	drain := func() {
		for core.HasReady() {
			rd := core.Ready()
			deleted = append(deleted, rd.Batch.DeleteQueries...)
			core.Advance(rd)
		}
	}
	drain()
	total := reactor.MaxHeldConfirmed + 10
	for i := range total {
		id, err := core.Transact([]store.TxOp{{Action: "update", Namespace: "todos", ID: t1, Args: map[string]any{"n": i}}})
		require.NoError(t, err)
		require.NoError(t, core.Step(&wire.TransactOK{MutationID: id, TxID: store.TxID(2 + i)}))
		drain()
		if i < reactor.MaxHeldConfirmed {
			require.Len(t, core.Pending(), i+1, "kept for the cached queries, older than each write")
			require.Empty(t, deleted)
		}
	}
	assert.Empty(t, core.Pending(), "once the cached queries are forgotten, nothing needs the writes")
	assert.ElementsMatch(t, []string{cachedID, otherID}, deleted)
}

// Attributes a client defines get ids derived from their namespace and
// label, the same on every client, so two clients defining the same one
// send identical add-attrs, which the server accepts both (issue #7).
func TestTransactStableAttrIDs(t *testing.T) {
	n := newNames()
	attrs := todoAttrs(n)
	raw, err := jsonMarshal(attrs.List())
	require.NoError(t, err)
	define := func(seed uint64) []store.Step {
		core, err := reactor.NewCore(reactor.Config{Now: newClock().Now, Rand: newRand(seed), CreateMissingAttrs: true})
		require.NoError(t, err)
		core.Load(&reactor.State{Settings: map[string][]byte{reactor.SettingAttrs: raw}})
		_, err = core.Transact([]store.TxOp{{Action: "update", Namespace: "todos", ID: n.id("t1"), Args: map[string]any{"priority": 1, "title": "x"}}})
		require.NoError(t, err)
		_, err = core.Transact([]store.TxOp{{Action: "update", Namespace: "todos", ID: n.id("t2"), Args: map[string]any{"priority": 2}}})
		require.NoError(t, err)
		p := core.Pending()
		require.Len(t, p, 2)
		return append(p[0].Steps, p[1].Steps...)
	}
	a, b := define(1), define(2)
	require.Equal(t, a, b, "the same steps from two clients")
	require.Equal(t, store.OpAddAttr, a[0].Op)
	prio := a[0].Attr
	assert.Equal(t, "priority", prio.Label)
	assert.Equal(t, prio.ID, a[0].A)
	var wrote int
	for _, s := range a[1:] {
		if s.A == prio.ID {
			wrote++
		}
		_, known := attrs.ByID(s.A)
		assert.True(t, known || s.A == prio.ID, "step %+v names an attribute nobody defined", s)
	}
	assert.Equal(t, 2, wrote, "both writes name the defined attribute")
}
