package reactor_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/triplesync/triplesync/internal/wire"
	"github.com/triplesync/triplesync/reactor"
	"github.com/triplesync/triplesync/store"
)

// FuzzRecords decodes storage records: no panic, and a record that
// decodes encodes to one that decodes to the same.
func FuzzRecords(f *testing.F) {
	steps, err := json.Marshal([]store.Step{{Op: store.OpDeleteEntity, E: store.EntityID{1, 6: 0x40, 8: 0x80}, Namespace: "todos"}})
	require.NoError(f, err)
	f.Add([]byte(`{"v":1,"id":"m1","seq":3,"steps":` + string(steps) + `,"created":5,"tx-id":7,"confirmed":9}`))
	f.Add([]byte(`{"v":1,"id":"q1","q":{"todos":{}},"triples":[["00000000-0000-4000-8000-000000000001","00000000-0000-4000-8000-000000000002",{"a":[1,null]},12]],"processed-tx-id":4,"last-used":1}`))
	f.Add([]byte(`{"v":2}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var m reactor.Mutation
		if json.Unmarshal(data, &m) == nil {
			b, err := json.Marshal(m)
			require.NoError(t, err)
			var m2 reactor.Mutation
			require.NoError(t, json.Unmarshal(b, &m2))
			if m.Steps == nil {
				m.Steps = []store.Step{}
			}
			if m2.Steps == nil {
				m2.Steps = []store.Step{}
			}
			require.Equal(t, m, m2)
		}
		var q reactor.CachedQuery
		if json.Unmarshal(data, &q) == nil {
			b, err := json.Marshal(q)
			require.NoError(t, err)
			var q2 reactor.CachedQuery
			require.NoError(t, json.Unmarshal(b, &q2))
			require.Equal(t, len(q.Triples), len(q2.Triples))
			require.Equal(t, q.ID, q2.ID)
			require.Equal(t, q.ProcessedTxID, q2.ProcessedTxID)
		}
	})
}

// FuzzStep feeds a core, online with subscriptions and pending
// mutations, any message a server could send: it must never panic, and
// its Ready must always be takeable.
func FuzzStep(f *testing.F) {
	n := newNames()
	attrs := todoAttrs(n)
	t1, title := n.id("t1"), n.id("todos.title")
	qAll := `{"todos":{}}`
	qid, _, err := reactor.QueryID([]byte(qAll))
	require.NoError(f, err)
	seeds := []wire.Message{
		&wire.InitOK{SessionID: "s", Attrs: attrs.List()},
		&wire.AddQueryOK{QueryID: qid, ProcessedTxID: 3, Result: wire.Triples{{E: t1, A: n.id("todos.id"), V: store.Ref(t1), CreatedAt: 1}, {E: t1, A: title, V: store.String("x"), CreatedAt: 1}}},
		&wire.RefreshOK{ProcessedTxID: 5, Computations: []wire.Computation{{QueryID: qid, Added: wire.Triples{{E: t1, A: title, V: store.String("y"), CreatedAt: 2}}, Removed: wire.Keys{{E: t1, A: title, V: store.String("x")}}}}},
		&wire.RefreshOK{ProcessedTxID: 6, Computations: []wire.Computation{{QueryID: qid, Full: true, Added: wire.Triples{{E: t1, A: title, V: store.Number(1), CreatedAt: 2}}}}, Attrs: attrs.List()[:1]},
		&wire.TransactOK{MutationID: "00000000-0000-4000-8000-000000000000", TxID: 9},
		&wire.Error{Status: 400, Type: wire.CodeInvalid, Message: "no", QueryID: qid},
		&wire.Error{Status: 401, Type: wire.CodeUnauthorized, Message: "no"},
		&wire.RemoveQueryOK{QueryID: qid},
	}
	for _, m := range seeds {
		b, err := wire.Encode(nil, m)
		require.NoError(f, err)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		msg, err := wire.Parse(data)
		if err != nil {
			return
		}
		clock := newClock()
		c, err := reactor.NewCore(reactor.Config{Now: clock.Now, Rand: newRand(1)})
		require.NoError(t, err)
		raw, _ := json.Marshal(attrs.List())
		c.Load(&reactor.State{Settings: map[string][]byte{reactor.SettingAttrs: raw}})
		_, err = c.Subscribe([]byte(qAll))
		require.NoError(t, err)
		_, err = c.Subscribe([]byte(`{"todos":{"$":{"where":{"title":"y"},"order":{"title":"desc"},"limit":1}}}`))
		require.NoError(t, err)
		c.ConnOpened()
		drain := func() {
			for c.HasReady() {
				c.Advance(c.Ready())
			}
		}
		require.NoError(t, c.Step(seeds[0]))
		require.NoError(t, c.Step(seeds[1]))
		_, err = c.Transact([]store.TxOp{{Action: "update", Namespace: "todos", ID: t1, Args: map[string]any{"title": "z"}}})
		require.NoError(t, err)
		drain()
		_ = c.Step(msg)
		drain()
		clock.Advance(time.Minute)
		c.Tick()
		drain()
	})
}
