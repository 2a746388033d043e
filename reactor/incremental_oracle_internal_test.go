package reactor

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/triplesync/triplesync/internal/wire"
	"github.com/triplesync/triplesync/query"
	"github.com/triplesync/triplesync/store"
)

// TestIncrementalMatchesEval drives a core with a simulated server through
// random local writes (updates, links and unlinks, lookups, deletes that
// cascade), confirmations with refresh deltas, rejections and other
// clients' writes, and after every input checks each subscribed query's
// result, recomputed incrementally where it can be, against a fresh Eval
// over the query's store with its mutations replayed.
func TestIncrementalMatchesEval(t *testing.T) {
	ent := func(i int) store.EntityID { return store.EntityID{byte(i + 1), 1, 6: 0x40, 8: 0x80} }
	attr := func(i int) store.EntityID { return store.EntityID{0xaa, byte(i), 6: 0x40, 8: 0x80} }
	attrs := store.MustNewAttrs(
		store.Attr{ID: attr(0), Namespace: "todos", Label: "id", Type: store.TypeString, Unique: true, Indexed: true},
		store.Attr{ID: attr(1), Namespace: "todos", Label: "title", Type: store.TypeString},
		store.Attr{ID: attr(2), Namespace: "todos", Label: "rank", Type: store.TypeNumber, Indexed: true},
		store.Attr{ID: attr(3), Namespace: "todos", Label: "owner", Type: store.TypeRef, RefNamespace: "users", ReverseLabel: "todos", OnDeleteCascade: true},
		store.Attr{ID: attr(4), Namespace: "users", Label: "id", Type: store.TypeString, Unique: true, Indexed: true},
		store.Attr{ID: attr(5), Namespace: "users", Label: "name", Type: store.TypeString, Unique: true, Indexed: true},
		store.Attr{ID: attr(6), Namespace: "todos", Label: "tags", Type: store.TypeString, Cardinality: store.CardinalityMany},
	)
	queries := []string{
		`{"todos":{"$":{"order":{"rank":"asc"}}}}`,
		`{"todos":{"$":{"where":{"owner.name":"u1"}},"owner":{}}}`,
		`{"users":{"$":{"order":{"name":"desc"}},"todos":{"$":{"order":{"rank":"desc"}}}}}`,
		`{"todos":{"$":{"where":{"or":[{"rank":{"$gt":3}},{"tags":"b"}]},"fields":["rank"]}},"users":{}}`,
		`{"users":{"$":{"where":{"todos.title":"t2"}}}}`,
		`{"todos":{"$":{"limit":3,"order":{"rank":"asc"}}}}`,
	}
	names := []string{"u0", "u1", "u2"}
	spliced := 0
	for seed := range uint64(60) {
		r := rand.New(rand.NewPCG(seed, 3))
		op := func() store.TxOp {
			todo := ent(r.IntN(8))
			switch r.IntN(9) {
			case 0, 1:
				return store.TxOp{Action: "update", Namespace: "todos", ID: todo, Args: map[string]any{"rank": float64(r.IntN(6))}}
			case 2:
				return store.TxOp{Action: "update", Namespace: "todos", ID: todo, Args: map[string]any{"title": fmt.Sprint("t", r.IntN(3))}}
			case 3:
				return store.TxOp{Action: "link", Namespace: "todos", ID: todo, Args: map[string]any{"owner": ent(100 + r.IntN(3))}}
			case 4:
				return store.TxOp{Action: "link", Namespace: "todos", ID: todo, Args: map[string]any{"owner": store.Lookup{Label: "name", Value: names[r.IntN(3)]}}}
			case 5:
				return store.TxOp{Action: "unlink", Namespace: "todos", ID: todo, Args: map[string]any{"owner": ent(100 + r.IntN(3))}}
			case 6:
				return store.TxOp{Action: "update", Namespace: "users", ID: ent(100 + r.IntN(3)), Args: map[string]any{"name": names[r.IntN(3)]}}
			case 7:
				return store.TxOp{Action: "update", Namespace: "todos", ID: todo, Args: map[string]any{"tags": []any{"a", "b"}[r.IntN(2)]}}
			default:
				if r.IntN(2) == 0 {
					return store.TxOp{Action: "delete", Namespace: "users", ID: ent(100 + r.IntN(3))}
				}
				return store.TxOp{Action: "delete", Namespace: "todos", ID: todo}
			}
		}
		steps := func() []store.Step {
			ops := []store.TxOp{op()}
			if r.IntN(3) == 0 {
				ops = append(ops, op())
			}
			st, err := store.Transform(attrs, ops, nil, store.TransformOptions{})
			require.NoError(t, err)
			return st
		}

		// The server: a store, and the triples it last sent per query.
		server := store.NewSnapshot(attrs)
		for range 12 {
			if next, err := server.Apply(steps(), 1); err == nil {
				server = next
			}
		}
		var txID store.TxID = 1
		sent := map[string]map[store.TripleKey]store.Triple{}
		parsed := map[string]*query.Query{}

		clock := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
		c, err := NewCore(Config{Now: func() time.Time { return clock }, Rand: rand.NewChaCha8([32]byte{byte(seed)})})
		require.NoError(t, err)
		c.Load(nil)
		c.ConnOpened()
		require.NoError(t, c.Step(&wire.InitOK{SessionID: "s", Attrs: attrs.List()}))
		for _, text := range queries {
			_, err := c.Subscribe([]byte(text))
			require.NoError(t, err)
			q, err := query.Parse([]byte(text), attrs)
			require.NoError(t, err)
			res, err := query.Eval(query.SnapshotSource(server), q)
			require.NoError(t, err)
			qid, _, err := QueryID([]byte(text))
			require.NoError(t, err)
			parsed[qid] = q
			sent[qid] = map[store.TripleKey]store.Triple{}
			for _, tr := range res.Triples {
				sent[qid][tr.Key()] = tr
			}
			require.NoError(t, c.Step(&wire.AddQueryOK{QueryID: qid, Result: res.Triples, ProcessedTxID: txID}))
		}
		refresh := func() *wire.RefreshOK {
			m := &wire.RefreshOK{ProcessedTxID: txID}
			for qid, q := range parsed {
				res, err := query.Eval(query.SnapshotSource(server), q)
				require.NoError(t, err)
				now := map[store.TripleKey]store.Triple{}
				comp := wire.Computation{QueryID: qid}
				for _, tr := range res.Triples {
					now[tr.Key()] = tr
					if old, ok := sent[qid][tr.Key()]; !ok || old != tr {
						comp.Added = append(comp.Added, tr)
					}
				}
				for k := range sent[qid] {
					if _, ok := now[k]; !ok {
						comp.Removed = append(comp.Removed, k)
					}
				}
				sent[qid] = now
				if len(comp.Added)+len(comp.Removed) > 0 {
					m.Computations = append(m.Computations, comp)
				}
			}
			return m
		}
		check := func(step int, what string) {
			t.Helper()
			for _, qs := range c.subscribed() {
				if qs.result == nil {
					continue
				}
				q, err := c.parsed(qs)
				require.NoError(t, err)
				want, err := query.Eval(query.SnapshotSource(c.replay(qs)), q)
				require.NoError(t, err)
				if got, exp := string(qs.result.AppendJSON(nil)), string(want.AppendJSON(nil)); got != exp {
					t.Fatalf("seed %d step %d (%s): query %s\n got %s\nwant %s", seed, step, what, qs.text, got, exp)
				}
				if qs.result.Triples == nil {
					spliced++
				}
			}
		}
		for step := range 60 {
			clock = clock.Add(time.Second)
			switch k := r.IntN(10); {
			case k < 5: // a local write
				_, err := c.TransactSteps(steps())
				require.NoError(t, err)
				check(step, "transact")
			case k < 8: // the server takes the oldest unconfirmed write
				var m *mutation
				for _, pm := range c.pending {
					if pm.TxID == 0 {
						m = pm
						break
					}
				}
				if m == nil {
					continue
				}
				next, err := server.Apply(m.Steps, clock.UnixMilli())
				if err != nil {
					c.reject(m.ID, ErrRejected)
					check(step, "reject")
					continue
				}
				server = next
				txID++
				require.NoError(t, c.Step(&wire.TransactOK{MutationID: m.ID, TxID: txID}))
				check(step, "transact-ok")
				require.NoError(t, c.Step(refresh()))
				check(step, "refresh after transact-ok")
			default: // another client writes
				next, err := server.Apply(steps(), clock.UnixMilli())
				if err != nil {
					continue
				}
				server = next
				txID++
				require.NoError(t, c.Step(refresh()))
				check(step, "refresh")
			}
		}
	}
	t.Logf("%d checks of incrementally updated results", spliced)
	require.Greater(t, spliced, 1000, "hardly any result was updated incrementally")
}
