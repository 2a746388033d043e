package reactor

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/triplesync/triplesync/query"
	"github.com/triplesync/triplesync/store"
)

// TestPrunedReplayMatchesFull checks pruning against replaying every
// mutation: for random server stores, queries (where clauses with hops,
// or, $not, $isNull, windows, orders, nested levels, counts) and random
// writes (creates, updates of entities in and out of the result, links
// and unlinks, a unique attribute, now and then a lookup or a delete),
// the query's result over its store with the pruned list replayed must
// equal the result with all of them replayed — after the first decision,
// after more writes are appended to it, and after one leaves the list.
// The test fails if pruning never skips anything.
func TestPrunedReplayMatchesFull(t *testing.T) {
	ent, attrs := pruneEnt, pruneAttrs()
	queries := []string{
		`{"todos":{"$":{"where":{"done":false,"rank":{"$gte":3}},"order":{"title":"asc"},"limit":3}}}`,
		`{"todos":{"$":{"where":{"done":true}}}}`,
		`{"todos":{"$":{"where":{"owner.name":"u1"}},"owner":{}}}`,
		`{"users":{"$":{"where":{"todos.title":"t2"}},"todos":{}}}`,
		`{"todos":{"$":{"where":{"or":[{"rank":{"$gt":4}},{"tags":"b"}]},"fields":["rank"]}},"users":{}}`,
		`{"todos":{"$":{"where":{"rank":{"$isNull":true}}}}}`,
		`{"todos":{"$":{"where":{"title":{"$not":"t1"}},"order":{"rank":"desc"},"limit":4}}}`,
		`{"todos":{"$":{"where":{"title":{"$ne":"t0"}},"aggregate":"count"}}}`,
		`{"todos":{"$":{"order":{"rank":"asc"},"limit":2}}}`,
		`{"users":{"$":{"order":{"name":"asc"}},"todos":{"$":{"where":{"done":false}}}}}`,
	}
	names := []string{"u0", "u1", "u2", "u3"}
	skipped, judged := 0, 0
	for seed := range uint64(400) {
		r := rand.New(rand.NewPCG(seed, 7))
		var ops []store.TxOp
		for i := range 10 {
			ops = append(ops, store.TxOp{Action: "create", Namespace: "todos", ID: ent(i), Args: map[string]any{
				"title": fmt.Sprint("t", r.IntN(3)), "rank": float64(r.IntN(8)), "done": r.IntN(2) == 0}})
			ops = append(ops, store.TxOp{Action: "link", Namespace: "todos", ID: ent(i), Args: map[string]any{"owner": ent(100 + r.IntN(4))}})
		}
		for i := range 4 {
			ops = append(ops, store.TxOp{Action: "create", Namespace: "users", ID: ent(100 + i), Args: map[string]any{"name": names[i]}})
		}
		steps, err := store.Transform(attrs, ops, nil, store.TransformOptions{})
		require.NoError(t, err)
		server, err := store.NewSnapshot(attrs).Apply(steps, 1)
		require.NoError(t, err)

		text := queries[r.IntN(len(queries))]
		_, canon, err := QueryID([]byte(text))
		require.NoError(t, err)
		q, err := query.Parse(canon, attrs)
		require.NoError(t, err)
		served, err := query.Eval(query.SnapshotSource(server), q)
		require.NoError(t, err)
		base, err := store.Load(attrs, served.Triples)
		require.NoError(t, err)

		// Odd seeds number every third mutation as the one before, as two
		// tabs sharing a storage do (each counts its own): Seq repeats.
		n, seq, dups := 0, uint64(0), seed%2 == 1
		rare := r.IntN(4) == 0 // this run may write lookups and deletes
		mut := func() *mutation {
			todo := ent(r.IntN(16)) // 10..15: not on the server
			var op store.TxOp
			switch r.IntN(10) {
			case 0:
				op = store.TxOp{Action: "create", Namespace: "todos", ID: ent(20 + r.IntN(10)), Args: map[string]any{"title": fmt.Sprint("t", r.IntN(3)), "rank": float64(r.IntN(8)), "done": r.IntN(2) == 0}}
			case 1:
				op = store.TxOp{Action: "update", Namespace: "todos", ID: todo, Args: map[string]any{"rank": float64(r.IntN(8))}}
			case 2:
				op = store.TxOp{Action: "update", Namespace: "todos", ID: todo, Args: map[string]any{"title": fmt.Sprint("t", r.IntN(3)), "done": r.IntN(2) == 0}}
			case 3:
				op = store.TxOp{Action: "update", Namespace: "todos", ID: todo, Mode: store.ModeUpdate, Args: map[string]any{"done": r.IntN(2) == 0}}
			case 4:
				op = store.TxOp{Action: "link", Namespace: "todos", ID: todo, Args: map[string]any{"owner": ent(100 + r.IntN(6))}}
			case 5:
				op = store.TxOp{Action: "unlink", Namespace: "todos", ID: todo, Args: map[string]any{"owner": ent(100 + r.IntN(4))}}
			case 6:
				op = store.TxOp{Action: "update", Namespace: "users", ID: ent(100 + r.IntN(6)), Args: map[string]any{"name": names[r.IntN(4)]}}
			case 7:
				op = store.TxOp{Action: "update", Namespace: "todos", ID: todo, Args: map[string]any{"tags": []any{"a", "b"}[r.IntN(2)]}}
			case 8:
				op = store.TxOp{Action: "create", Namespace: "todos", ID: ent(20 + r.IntN(10)), Args: map[string]any{"rank": float64(r.IntN(8))}}
			default:
				switch {
				case rare && r.IntN(2) == 0:
					op = store.TxOp{Action: "delete", Namespace: "todos", ID: todo}
				case rare:
					op = store.TxOp{Action: "link", Namespace: "todos", ID: todo, Args: map[string]any{"owner": store.Lookup{Label: "name", Value: names[r.IntN(4)]}}}
				default:
					op = store.TxOp{Action: "update", Namespace: "todos", ID: todo, Args: map[string]any{"title": "t1"}}
				}
			}
			st, err := store.Transform(attrs, []store.TxOp{op}, nil, store.TransformOptions{})
			require.NoError(t, err)
			if n++; !dups || n%3 != 0 {
				seq++
			}
			return newMutation(Mutation{ID: fmt.Sprint(n), Seq: seq, Steps: st, Created: int64(n)})
		}
		var all []*mutation
		for range 8 + r.IntN(30) {
			all = append(all, mut())
		}

		c := &Core{}
		qs := &querySub{text: canon, base: base}
		check := func(stage string) {
			t.Helper()
			muts := c.pruned(qs, q, all)
			judged += len(all)
			skipped += len(all) - len(muts)
			want, err := query.Eval(query.SnapshotSource(replayOneByOne(base, all)), q)
			require.NoError(t, err)
			got, err := query.Eval(query.SnapshotSource(replayOnto(base, muts)), q)
			require.NoError(t, err)
			require.Equal(t, string(want.AppendJSON(nil)), string(got.AppendJSON(nil)), "seed %d %s: %s, %d of %d replayed", seed, stage, text, len(muts), len(all))
			require.True(t, want.SameTree(got), "seed %d %s: SameTree", seed, stage)
			for _, l := range q.Tops() {
				require.Equal(t, want.Entities(l), got.Entities(l), "seed %d %s: entities", seed, stage)
			}
		}
		check("decided")
		checkPlan(t, c, qs, q, all)
		for range 1 + r.IntN(4) {
			all = append(all, mut())
		}
		check("appended")
		all = append(all[:0:0], all...)
		i := r.IntN(len(all))
		all = append(all[:i], all[i+1:]...)
		check("removed")
	}
	t.Logf("%d of %d mutations pruned", skipped, judged)
	require.Positive(t, skipped, "pruning never skipped a mutation")
	require.Less(t, skipped, judged)
}

// checkPlan checks the shortcuts pruned takes against what they stand
// for: held (either way) lists the entities holds finds in the store,
// and localRows, when it decides, finds the rows whereRows (Eval over
// s0) finds among the groups' entities.
func checkPlan(t *testing.T, c *Core, qs *querySub, q *query.Query, all []*mutation) {
	t.Helper()
	p := planFor(all, qs.base.Attrs())
	if p == nil {
		return
	}
	var want []store.EntityID
	for _, e := range p.ents {
		if holds(qs.base, e, p.refs) {
			want = append(want, e)
		}
	}
	require.Equal(t, want, p.heldSeek(qs.base), "heldSeek")
	require.Equal(t, want, p.heldScan(qs.base), "heldScan")
	require.Equal(t, want, p.held(qs.base), "held")
	for k, e := range p.ents {
		require.Contains(t, p.groups[p.groupOf[k]].ents, e, "groupOf")
	}

	var free []*pruneGroup
	for i := range p.groups {
		if !p.groups[i].pinned {
			free = append(free, &p.groups[i])
		}
	}
	got, ok := localRows(q, free)
	if !ok {
		return
	}
	rows, ok := c.whereRows(qs, q, p.s0)
	require.True(t, ok)
	for _, g := range free {
		for _, e := range g.ents {
			require.Equal(t, rows[e], got[e], "localRows of %v: %s", e, qs.text)
		}
	}
}

// pruneEnt and pruneAttr give the pruning tests' entity and attribute ids.
func pruneEnt(i int) store.EntityID  { return store.EntityID{byte(i + 1), 2, 6: 0x40, 8: 0x80} }
func pruneAttr(i int) store.EntityID { return store.EntityID{0xbb, byte(i), 6: 0x40, 8: 0x80} }

// pruneAttrs is the pruning tests' schema: todos (title, rank, done, tags,
// owner and watchers links to users) and users (a unique name, bio, a boss
// link to users).
func pruneAttrs() *store.Attrs {
	attr := pruneAttr
	return store.MustNewAttrs(
		store.Attr{ID: attr(0), Namespace: "todos", Label: "id", Type: store.TypeString, Unique: true, Indexed: true},
		store.Attr{ID: attr(1), Namespace: "todos", Label: "title", Type: store.TypeString, Indexed: true},
		store.Attr{ID: attr(2), Namespace: "todos", Label: "rank", Type: store.TypeNumber, Indexed: true},
		store.Attr{ID: attr(3), Namespace: "todos", Label: "done", Type: store.TypeBoolean},
		store.Attr{ID: attr(4), Namespace: "todos", Label: "owner", Type: store.TypeRef, RefNamespace: "users", ReverseLabel: "todos"},
		store.Attr{ID: attr(5), Namespace: "users", Label: "id", Type: store.TypeString, Unique: true, Indexed: true},
		store.Attr{ID: attr(6), Namespace: "users", Label: "name", Type: store.TypeString, Unique: true, Indexed: true},
		store.Attr{ID: attr(7), Namespace: "todos", Label: "tags", Type: store.TypeString, Cardinality: store.CardinalityMany},
		store.Attr{ID: attr(8), Namespace: "todos", Label: "watchers", Type: store.TypeRef, RefNamespace: "users", ReverseLabel: "watching", Cardinality: store.CardinalityMany},
		store.Attr{ID: attr(9), Namespace: "users", Label: "bio", Type: store.TypeString, Indexed: true},
		store.Attr{ID: attr(10), Namespace: "users", Label: "boss", Type: store.TypeRef, RefNamespace: "users", ReverseLabel: "reports"},
	)
}
