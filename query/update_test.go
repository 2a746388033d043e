package query_test

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/triplesync/triplesync/query"
	"github.com/triplesync/triplesync/query/querytest"
	"github.com/triplesync/triplesync/store"
)

// TestUpdateOracle checks query.Update against a fresh Eval: on random
// schemas, data and queries (most with unpaginated top levels, which
// Update splices; the rest fall back), through random batches of changes
// (values set, copied and removed, links added and removed, entities
// leaving and joining their namespace), Update over the previous result
// gives Eval's tree and page infos, its splices rebuild it from the
// previous pages, and the rows it did not re-evaluate are the previous
// *Entity values.
func TestUpdateOracle(t *testing.T) { updateOracle(t) }

// TestUpdateOracleTinyPlans runs the oracle with the plans' thresholds
// shrunk, so that the rows Update fetches beyond a first page come through
// the ordered plan too, in chunks of one and probing back from the cursor.
func TestUpdateOracleTinyPlans(t *testing.T) {
	defer query.SetTinyPlans()()
	updateOracle(t)
}

func updateOracle(t *testing.T) {
	base := baseSeed(t)
	runs := *oracleRuns
	if testing.Short() {
		runs /= 8
	}
	spliced, checked, fetched := 0, 0, 0
	for i := range runs {
		seed := base + uint64(i)
		g := querytest.NewGen(seed)
		r := rand.New(rand.NewPCG(seed, 7))
		attrs := g.Schema()
		d := g.Data(attrs, 12)
		snap0, err := store.Load(attrs, d.Triples)
		require.NoError(t, err, "seed %d", seed)
		for range 4 {
			text := unpage(r, g.Query(d, 2))
			q, err := query.Parse(text, attrs)
			require.NoError(t, err, "seed %d query %s", seed, text)
			prev, err := query.Eval(query.SnapshotSource(snap0), q)
			require.NoError(t, err)
			old := snap0
			for step := range 6 {
				next, changed := mutate(r, d, old)
				ctx := fmt.Sprintf("seed %d query %s step %d", seed, text, step)
				got, err := query.Update(prev, old, next, q, changed)
				require.NoError(t, err, ctx)
				want, err := query.Eval(query.SnapshotSource(next), q)
				require.NoError(t, err, ctx)
				checked++
				if !assertEqual(t, string(want.AppendJSON(nil)), string(got.AppendJSON(nil)), ctx+"\nUpdate differs from Eval") {
					return
				}
				if !got.SameTree(want) || !want.SameTree(got) {
					t.Fatalf("%s\nSameTree says equal results differ", ctx)
				}
				if got.Triples == nil {
					spliced++
					checkSplices(t, ctx, prev, got)
					if fetchedBeyond(prev, got, changed) {
						fetched++
					}
				}
				prev, old = got, next
			}
		}
	}
	t.Logf("%d updates checked, %d spliced, %d of them fetching rows beyond the previous first page", checked, spliced, fetched)
	if spliced < checked/4 {
		t.Errorf("only %d of %d updates spliced: the test hardly exercises Update", spliced, checked)
	}
	if fetched == 0 && !testing.Short() {
		t.Errorf("no spliced first page fetched rows beyond the previous one: the test does not exercise that")
	}
}

// fetchedBeyond reports whether some first page of got lists an entity
// that neither prev's page nor changed holds: one Update fetched from
// beyond prev's page.
func fetchedBeyond(prev, got *query.Result, changed []store.EntityID) bool {
	for i, p := range got.Tops {
		if !p.Level.Page.HasFirst {
			continue
		}
		for _, e := range p.Entities {
			if !slices.Contains(changed, e.ID) && !slices.ContainsFunc(prev.Tops[i].Entities, func(x *query.Entity) bool { return x.ID == e.ID }) {
				return true
			}
		}
	}
	return false
}

// checkSplices rebuilds got's top pages from prev's through Splices.
func checkSplices(t *testing.T, ctx string, prev, got *query.Result) {
	t.Helper()
	for i, p := range got.Tops {
		runs, ok := p.Splices(prev.Tops[i])
		if !ok {
			t.Fatalf("%s\ntop %d: no splices from the previous page", ctx, i)
		}
		var rebuilt []*query.Entity
		for _, s := range runs {
			if s.From < 0 {
				rebuilt = append(rebuilt, p.Entities[len(rebuilt):len(rebuilt)+s.N]...)
				continue
			}
			rebuilt = append(rebuilt, prev.Tops[i].Entities[s.From:s.From+s.N]...)
		}
		if len(rebuilt) != len(p.Entities) {
			t.Fatalf("%s\ntop %d: splices cover %d entities of %d", ctx, i, len(rebuilt), len(p.Entities))
		}
		for k := range rebuilt {
			if rebuilt[k] != p.Entities[k] {
				t.Fatalf("%s\ntop %d: splices give another entity at %d", ctx, i, k)
			}
		}
	}
}

// unpage drops the window of every top level of most queries, leaving
// some a first page (limit alone).
func unpage(r *rand.Rand, text []byte) []byte {
	if r.Float64() < 0.2 {
		return text
	}
	var m map[string]map[string]any
	if err := json.Unmarshal(text, &m); err != nil {
		panic(err)
	}
	for _, lv := range m {
		if opts, ok := lv["$"].(map[string]any); ok {
			for _, k := range []string{"limit", "first", "offset", "after", "before", "last"} {
				delete(opts, k)
			}
			if _, agg := opts["aggregate"]; !agg && r.IntN(2) == 0 {
				opts["limit"] = r.IntN(8) // a first page
			}
		}
	}
	out, err := json.Marshal(m)
	if err != nil {
		panic(err)
	}
	return out
}

// mutate returns snap with a random batch of changes, and the entities
// whose triples changed (with the targets of changed links), as Update
// wants them.
func mutate(r *rand.Rand, d *querytest.Data, snap *store.Snapshot) (*store.Snapshot, []store.EntityID) {
	attrs := snap.Attrs()
	for {
		ts := snap.Triples()
		var ents []store.EntityID
		for _, es := range d.Entities {
			ents = append(ents, es...)
		}
		ents = append(ents, d.Ghosts...)
		for range 1 + r.IntN(3) {
			if len(ts) == 0 || len(ents) == 0 {
				break
			}
			switch r.IntN(5) {
			case 0: // remove a triple (an id triple too: the entity leaves)
				i := r.IntN(len(ts))
				ts = slices.Delete(ts, i, i+1)
			case 1, 2: // give an entity a value some triple of the attribute has
				src := ts[r.IntN(len(ts))]
				a, _ := attrs.ByID(src.A)
				e := ents[r.IntN(len(ents))]
				if a.Label == store.IDLabel {
					e = src.E
					if id, ok := attrs.IDAttr(a.Namespace); ok && r.IntN(2) == 0 {
						// An entity (a ghost, say) joins the namespace.
						e = ents[r.IntN(len(ents))]
						src.A, src.V = id.ID, store.Ref(e)
					}
				}
				if a.Cardinality == store.CardinalityOne {
					ts = slices.DeleteFunc(ts, func(t store.Triple) bool { return t.E == e && t.A == src.A })
				}
				ts = append(ts, store.Triple{E: e, A: src.A, V: src.V, CreatedAt: src.CreatedAt + 1})
			case 3: // link an entity to another
				var refsAttrs []*store.Attr
				for _, a := range attrs.All() {
					if a.IsRef() {
						refsAttrs = append(refsAttrs, a)
					}
				}
				if len(refsAttrs) == 0 {
					continue
				}
				a := refsAttrs[r.IntN(len(refsAttrs))]
				from, to := ents[r.IntN(len(ents))], ents[r.IntN(len(ents))]
				if a.Cardinality == store.CardinalityOne {
					ts = slices.DeleteFunc(ts, func(t store.Triple) bool { return t.E == from && t.A == a.ID })
				}
				ts = append(ts, store.Triple{E: from, A: a.ID, V: store.Ref(to), CreatedAt: 1})
			case 4: // change a value to null or drop all of an entity's triples
				e := ents[r.IntN(len(ents))]
				ts = slices.DeleteFunc(ts, func(t store.Triple) bool { return t.E == e && r.IntN(2) == 0 })
			}
		}
		next, err := store.Load(attrs, dedupe(ts))
		if err != nil {
			continue // a unique value taken twice, say: draw again
		}
		return next, diff(attrs, snap.Triples(), next.Triples())
	}
}

// dedupe keeps the last triple of each key.
func dedupe(ts []store.Triple) []store.Triple {
	seen := map[store.TripleKey]int{}
	var out []store.Triple
	for _, t := range ts {
		if i, ok := seen[t.Key()]; ok {
			out[i] = t
			continue
		}
		seen[t.Key()] = len(out)
		out = append(out, t)
	}
	return out
}

// diff returns the entities holding a triple in one of a and b but not
// the other (CreatedAt aside), and the targets of such ref triples.
func diff(attrs *store.Attrs, a, b []store.Triple) []store.EntityID {
	in := func(ts []store.Triple) map[store.TripleKey]bool {
		m := map[store.TripleKey]bool{}
		for _, t := range ts {
			m[t.Key()] = true
		}
		return m
	}
	ma, mb := in(a), in(b)
	var out []store.EntityID
	note := func(k store.TripleKey) {
		out = append(out, k.E)
		if at, ok := attrs.ByID(k.A); ok && at.IsRef() {
			if x, ok := k.V.AsEntityID(); ok {
				out = append(out, x)
			}
		}
	}
	for k := range ma {
		if !mb[k] {
			note(k)
		}
	}
	for k := range mb {
		if !ma[k] {
			note(k)
		}
	}
	return out
}

// BenchmarkUpdate measures query.Update after one todo's rank changes,
// against Eval of the same query, over 10,000 todos: the whole sorted
// list, the list with each todo's owner, and a first page of 20 (its last
// todo moving to the front, or its first leaving it for the end: then a
// todo prev did not show must be fetched).
func BenchmarkUpdate(b *testing.B) {
	s := benchStore(b, 100, 100)
	rank := attr("todos", "rank")
	for _, tt := range []struct {
		name, q string
		leave   bool // the page's first todo goes to the end
	}{
		{"sorted-10k", `{"todos":{"$":{"order":{"rank":"asc"}}}}`, false},
		{"sorted-10k-owner", `{"todos":{"$":{"order":{"rank":"asc"}},"owner":{}}}`, false},
		{"first-20", `{"todos":{"$":{"order":{"rank":"asc"},"limit":20}}}`, false},
		{"first-20-leave", `{"todos":{"$":{"order":{"rank":"asc"},"limit":20}}}`, true},
	} {
		q, err := query.Parse([]byte(tt.q), testAttrs)
		require.NoError(b, err)
		prev, err := query.Eval(query.SnapshotSource(s), q)
		require.NoError(b, err)
		e, v := prev.Tops[0].Entities[len(prev.Tops[0].Entities)-1].ID, store.Number(-1)
		if tt.leave {
			e, v = prev.Tops[0].Entities[0].ID, store.Number(1e9)
		}
		next, err := s.Apply([]store.Step{{Op: store.OpAddTriple, E: e, A: rank.ID, V: v}}, 2)
		require.NoError(b, err)
		b.Run(tt.name+"/update", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := query.Update(prev, s, next, q, []store.EntityID{e}); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(tt.name+"/eval", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := query.Eval(query.SnapshotSource(next), q); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
