package reactor

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/triplesync/triplesync/query"
	"github.com/triplesync/triplesync/store"
)

// TestPrunedReplayWide holds pruned replay to the specification, every
// pending mutation applied alone and in order (a rejected one skipped),
// over a wider mix than TestPrunedReplayMatchesFull: raw retracts (id
// triples and links too), create and update on absent or existing
// entities (so some mutations are rejected), many-valued and self links,
// ids shared across namespaces, multi-entity mutations, where clauses on
// forward and reverse links, $isNull on links, paths of several hops,
// nested levels, counts and ordered limits, and decisions extended and
// released over several rounds. Seeds 0..999 are replayed each run.
func TestPrunedReplayWide(t *testing.T) {
	ent, attr, attrs := pruneEnt, pruneAttr, pruneAttrs()
	A := func(i int) store.AttrID { return store.AttrID(attr(i)) }
	u := func(i int) string { return ent(100 + i).String() }
	queries := []string{
		`{"todos":{"$":{"where":{"owner":"` + u(4) + `"}}}}`,
		`{"todos":{"$":{"where":{"owner":{"$isNull":true}}},"owner":{}}}`,
		`{"users":{"$":{"where":{"todos":{"$isNull":true}}}}}`,
		`{"users":{"$":{"where":{"bio":"b1"}},"todos":{},"watching":{}}}`,
		`{"todos":{"$":{"where":{"watchers.bio":"b1"}}}}`,
		`{"users":{"todos":{"$":{"where":{"done":true}}}}}`,
		`{"todos":{"$":{"where":{"title":"t1"},"aggregate":"count"}}}`,
		`{"todos":{"$":{"order":{"rank":"asc"},"limit":2},"owner":{"boss":{}}}}`,
		`{"users":{"$":{"where":{"id":"` + u(5) + `"}},"todos":{}}}`,
		`{"todos":{"$":{"where":{"or":[{"owner.bio":"b1"},{"title":"t1"}]}}}}`,
		`{"users":{"$":{"where":{"boss.bio":"b1"}},"reports":{}}}`,
		`{"users":{"$":{"where":{"reports.bio":"b1"}}}}`,
		`{"todos":{"$":{"where":{"tags":{"$isNull":false}}}}}`,
		`{"todos":{"$":{"where":{"owner.todos.title":"t2"}}}}`,
		`{"users":{"$":{"where":{"bio":{"$isNull":true}},"order":{"bio":"asc"},"limit":3}}}`,
		`{"todos":{}}`,
		`{"users":{"$":{"aggregate":"count"}}}`,
	}
	names := []string{"u0", "u1", "u2", "u3"}
	skipped, judged := 0, 0
	fails := 0
	for seed := range uint64(1000) {
		r := rand.New(rand.NewPCG(seed, 11))
		var ops []store.TxOp
		for i := range 10 {
			ops = append(ops, store.TxOp{Action: "create", Namespace: "todos", ID: ent(i), Args: map[string]any{
				"title": fmt.Sprint("t", r.IntN(3)), "rank": float64(r.IntN(8)), "done": r.IntN(2) == 0}})
			if r.IntN(3) > 0 {
				ops = append(ops, store.TxOp{Action: "link", Namespace: "todos", ID: ent(i), Args: map[string]any{"owner": ent(100 + r.IntN(6))}})
			}
			if r.IntN(3) == 0 {
				ops = append(ops, store.TxOp{Action: "link", Namespace: "todos", ID: ent(i), Args: map[string]any{"watchers": ent(100 + r.IntN(6))}})
			}
		}
		for i := range 4 {
			args := map[string]any{"name": names[i]}
			if r.IntN(2) == 0 {
				args["bio"] = fmt.Sprint("b", r.IntN(2))
			}
			ops = append(ops, store.TxOp{Action: "create", Namespace: "users", ID: ent(100 + i), Args: args})
			if r.IntN(2) == 0 {
				ops = append(ops, store.TxOp{Action: "link", Namespace: "users", ID: ent(100 + i), Args: map[string]any{"boss": ent(100 + r.IntN(8))}})
			}
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

		nT, nU := 20+r.IntN(60), 10+r.IntN(40)
		// Odd seeds number every third mutation as the one before, as two
		// tabs sharing a storage do (each counts its own): Seq repeats.
		n, seq, dups := 0, uint64(0), seed%2 == 1
		mode := func() store.Mode {
			return []store.Mode{store.ModeUpsert, store.ModeUpsert, store.ModeCreate, store.ModeUpdate}[r.IntN(4)]
		}
		todo := func() store.EntityID { return ent(r.IntN(nT)) }
		user := func() store.EntityID {
			if r.IntN(5) == 0 {
				return ent(r.IntN(nT))
			}
			return ent(100 + r.IntN(nU))
		}
		step := func() []store.Step {
			switch r.IntN(14) {
			case 0:
				e := todo()
				return []store.Step{{Op: store.OpAddTriple, E: e, A: A(0), V: store.Ref(e), Mode: mode()}, {Op: store.OpAddTriple, E: e, A: A(1), V: store.String(fmt.Sprint("t", r.IntN(3))), Mode: mode()}}
			case 1:
				return []store.Step{{Op: store.OpAddTriple, E: todo(), A: A(2), V: store.Number(float64(r.IntN(8))), Mode: mode()}}
			case 2:
				return []store.Step{{Op: store.OpAddTriple, E: todo(), A: A(3), V: store.Bool(r.IntN(2) == 0), Mode: mode()}}
			case 3:
				return []store.Step{{Op: store.OpAddTriple, E: todo(), A: A(4), V: store.Ref(user()), Mode: mode()}}
			case 4:
				return []store.Step{{Op: store.OpRetractTriple, E: todo(), A: A(4), V: store.Ref(user())}}
			case 5:
				return []store.Step{{Op: store.OpAddTriple, E: todo(), A: A(8), V: store.Ref(user()), Mode: mode()}}
			case 6:
				return []store.Step{{Op: store.OpRetractTriple, E: todo(), A: A(8), V: store.Ref(user())}}
			case 7:
				return []store.Step{{Op: store.OpAddTriple, E: user(), A: A(9), V: store.String(fmt.Sprint("b", r.IntN(2))), Mode: mode()}}
			case 8:
				e := user()
				return []store.Step{{Op: store.OpAddTriple, E: e, A: A(5), V: store.Ref(e), Mode: mode()}}
			case 9:
				e := todo()
				return []store.Step{{Op: store.OpRetractTriple, E: e, A: A(0), V: store.Ref(e)}}
			case 10:
				return []store.Step{{Op: store.OpRetractTriple, E: todo(), A: A(1), V: store.String(fmt.Sprint("t", r.IntN(3)))}}
			case 11:
				return []store.Step{{Op: store.OpAddTriple, E: user(), A: A(10), V: store.Ref(user()), Mode: mode()}}
			case 12:
				return []store.Step{{Op: store.OpAddTriple, E: todo(), A: A(7), V: store.String([]string{"a", "b"}[r.IntN(2)]), Mode: mode()}}
			default:
				if r.IntN(4) == 0 {
					return []store.Step{{Op: store.OpAddTriple, E: user(), A: A(6), V: store.String(names[r.IntN(4)]), Mode: mode()}}
				}
				return []store.Step{{Op: store.OpRetractTriple, E: user(), A: A(9), V: store.String(fmt.Sprint("b", r.IntN(2)))}}
			}
		}
		mut := func() *mutation {
			var st []store.Step
			for range 1 + r.IntN(1+r.IntN(3)) {
				st = append(st, step()...)
			}
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
		text2 := queries[r.IntN(len(queries))]
		_, canon2, _ := QueryID([]byte(text2))
		q2, _ := query.Parse(canon2, attrs)
		served2, _ := query.Eval(query.SnapshotSource(server), q2)
		base2, _ := store.Load(attrs, served2.Triples)
		qs2 := &querySub{text: canon2, base: base2}
		check := func(stage string) bool {
			t.Helper()
			muts2 := c.pruned(qs2, q2, all)
			w2, _ := query.Eval(query.SnapshotSource(replayOneByOne(base2, all)), q2)
			g2, _ := query.Eval(query.SnapshotSource(replayOnto(base2, muts2)), q2)
			if string(w2.AppendJSON(nil)) != string(g2.AppendJSON(nil)) {
				fails++
				t.Errorf("seed %d %s q2: %s\nwant %s\ngot  %s", seed, stage, text2, w2.AppendJSON(nil), g2.AppendJSON(nil))
			}
			muts := c.pruned(qs, q, all)
			judged += len(all)
			skipped += len(all) - len(muts)
			want, err := query.Eval(query.SnapshotSource(replayOneByOne(base, all)), q)
			require.NoError(t, err)
			got, err := query.Eval(query.SnapshotSource(replayOnto(base, muts)), q)
			require.NoError(t, err)
			if string(want.AppendJSON(nil)) != string(got.AppendJSON(nil)) {
				fails++
				if fails < 5 {
					t.Errorf("seed %d %s: %s, %d of %d replayed\nwant %s\ngot  %s", seed, stage, text, len(muts), len(all), want.AppendJSON(nil), got.AppendJSON(nil))
				}
				return false
			}
			return true
		}
		if !check("decided") {
			continue
		}
		ok := true
		for k := range 3 {
			for range 1 + r.IntN(4) {
				all = append(all, mut())
			}
			if ok = check(fmt.Sprint("appended", k)); !ok {
				break
			}
			if r.IntN(2) == 0 {
				all = append(all[:0:0], all...)
				i := r.IntN(len(all))
				all = append(all[:i], all[i+1:]...)
				if ok = check(fmt.Sprint("removed", k)); !ok {
					break
				}
			}
		}
	}
	t.Logf("%d of %d mutations pruned, %d failures", skipped, judged, fails)
}

// replayOneByOne is the specification: each mutation applied alone, in order, skipped if it fails.
func replayOneByOne(s *store.Snapshot, muts []*mutation) *store.Snapshot {
	for _, m := range muts {
		if next, err := s.Apply(m.Steps, m.Created); err == nil {
			s = next
		}
	}
	return s
}
