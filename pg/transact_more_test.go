package pg_test

import (
	"cmp"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/triplesync/triplesync/pg"
	"github.com/triplesync/triplesync/query/querytest"
	"github.com/triplesync/triplesync/store"
)

// TestTransact_MutationID: a mutation id seen before returns the original
// tx-id, marked Duplicate, and applies nothing, even if the steps would
// now do something else; a new id applies.
func TestTransact_MutationID(t *testing.T) {
	h := newHarness(t, fixtureAttrs)
	ctx := t.Context()
	u := ent(1, 1)
	first, err := h.db.Transact(ctx, pg.TransactRequest{MutationID: "m-1", Steps: []store.Step{add(u, aTags, "a")}})
	require.NoError(t, err)
	assert.False(t, first.Duplicate)
	_, before, err := pg.Dump(ctx, h.db.Pool())
	require.NoError(t, err)

	again, err := h.db.Transact(ctx, pg.TransactRequest{MutationID: "m-1", Steps: []store.Step{add(u, aTags, "b")}})
	require.NoError(t, err)
	assert.Equal(t, pg.TransactResult{TxID: first.TxID, Duplicate: true}, again)
	_, after, err := pg.Dump(ctx, h.db.Pool())
	require.NoError(t, err)
	assert.ElementsMatch(t, before, after, "a replay writes nothing")

	next, err := h.db.Transact(ctx, pg.TransactRequest{MutationID: "m-2", Steps: []store.Step{add(u, aTags, "b")}})
	require.NoError(t, err)
	assert.Greater(t, next.TxID, first.TxID)
	assert.False(t, next.Duplicate)

	// A failed mutation records nothing: its id stays free.
	_, err = h.db.Transact(ctx, pg.TransactRequest{MutationID: "m-3", Steps: []store.Step{add(u, aRank, "x")}})
	require.ErrorIs(t, err, store.ErrWrongType)
	ok, err := h.db.Transact(ctx, pg.TransactRequest{MutationID: "m-3", Steps: []store.Step{add(u, aTags, "c")}})
	require.NoError(t, err)
	assert.False(t, ok.Duplicate)
}

// concurrently runs n transacts at once and returns their results.
func concurrently(t *testing.T, db *pg.DB, n int, req func(i int) pg.TransactRequest) ([]pg.TransactResult, []error) {
	t.Helper()
	res := make([]pg.TransactResult, n)
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			res[i], errs[i] = db.Transact(t.Context(), req(i))
		})
	}
	close(start)
	wg.Wait()
	return res, errs
}

// TestTransact_Concurrent races transacts on one entity and one unique
// value: the result must be that of running them one after the other.
func TestTransact_Concurrent(t *testing.T) {
	const n = 8
	h := newHarness(t, fixtureAttrs)
	ctx := t.Context()
	users := func() map[store.EntityID]map[string]any {
		_, ts, err := pg.Dump(ctx, h.db.Pool())
		require.NoError(t, err)
		out := map[store.EntityID]map[string]any{}
		for _, tr := range ts {
			if out[tr.E] == nil {
				out[tr.E] = map[string]any{}
			}
			a, _ := fixtureAttrs.ByID(tr.A)
			out[tr.E][a.Label] = tr.V.Any()
		}
		return out
	}

	t.Run("merges into one value lose nothing", func(t *testing.T) {
		e := ent(1, 1)
		_, errs := concurrently(t, h.db, n, func(i int) pg.TransactRequest {
			return pg.TransactRequest{Steps: []store.Step{merge(e, aMeta, fmt.Sprintf(`{"k%d":%d}`, i, i))}}
		})
		for _, err := range errs {
			require.NoError(t, err)
		}
		meta := users()[e]["meta"].(map[string]any)
		assert.Len(t, meta, n, "every merge's key: %v", meta)
	})

	t.Run("one unique value, many entities", func(t *testing.T) {
		_, errs := concurrently(t, h.db, n, func(i int) pg.TransactRequest {
			return pg.TransactRequest{Steps: []store.Step{add(ent(2, i), aName, "racer"), add(ent(2, i), aEmail, "race@x")}}
		})
		won := 0
		for _, err := range errs {
			if err == nil {
				won++
				continue
			}
			require.ErrorIs(t, err, store.ErrUniqueViolation)
			var se *store.StepError
			require.ErrorAs(t, err, &se)
			assert.Equal(t, 1, se.Index)
		}
		assert.Equal(t, 1, won, "one transact takes the value")
		holders := 0
		for e, u := range users() {
			if e[1] == 2 {
				holders++
				assert.Equal(t, "race@x", u["email"], "a loser wrote nothing")
			}
		}
		assert.Equal(t, 1, holders)
	})

	t.Run("lookups create one entity", func(t *testing.T) {
		_, errs := concurrently(t, h.db, n, func(i int) pg.TransactRequest {
			return pg.TransactRequest{Steps: []store.Step{{Op: store.OpAddTriple, Lookup: lookup(aEmail, "lk@x"), A: aTags, V: val(fmt.Sprint("t", i))}}}
		})
		for _, err := range errs {
			require.NoError(t, err)
		}
		e := store.LookupEntityID(aEmail, val("lk@x"))
		_, ts, err := pg.Dump(ctx, h.db.Pool())
		require.NoError(t, err)
		tags := 0
		for _, tr := range ts {
			if tr.E == e && tr.A == aTags {
				tags++
			}
			if tr.A == aEmail && tr.V == val("lk@x") {
				assert.Equal(t, e, tr.E)
			}
		}
		assert.Equal(t, n, tags)
	})

	t.Run("one mutation id applies once", func(t *testing.T) {
		e := ent(3, 1)
		res, errs := concurrently(t, h.db, n, func(i int) pg.TransactRequest {
			return pg.TransactRequest{MutationID: "same", Steps: []store.Step{merge(e, aMeta, fmt.Sprintf(`{"k%d":%d}`, i, i))}}
		})
		fresh := 0
		for i, err := range errs {
			require.NoError(t, err)
			assert.Equal(t, res[0].TxID, res[i].TxID, "every send gets the one tx-id")
			if !res[i].Duplicate {
				fresh++
			}
		}
		assert.Equal(t, 1, fresh)
		assert.Len(t, users()[e]["meta"], 1, "applied once")
	})

	t.Run("delete races links into the entity", func(t *testing.T) {
		u := ent(4, 0)
		_, err := h.db.Transact(ctx, pg.TransactRequest{Steps: []store.Step{add(u, aName, "doomed")}})
		require.NoError(t, err)
		_, errs := concurrently(t, h.db, n, func(i int) pg.TransactRequest {
			if i == n/2 {
				return pg.TransactRequest{Steps: []store.Step{del(u, "users")}}
			}
			return pg.TransactRequest{Steps: []store.Step{add(ent(4, i+1), aTitle, "t"), add(ent(4, i+1), aOwner, u)}}
		})
		for _, err := range errs {
			require.NoError(t, err)
		}
		// Serially: todos linked before the delete went with it (cascade);
		// those linked after hold a link to a deleted user. Either way no
		// todo links to u without u's... the delete took every link that
		// was committed before it, so each todo is whole or gone.
		all := users()
		assert.NotContains(t, all, u, "the user is gone")
		for i := range n {
			if i == n/2 {
				continue
			}
			if todo, ok := all[ent(4, i+1)]; ok {
				assert.Equal(t, "t", todo["title"])
				assert.Equal(t, u.String(), todo["owner"])
			}
		}
	})
}

// TestTransact_TxIDs: tx-ids are distinct and grow with each commit.
func TestTransact_TxIDs(t *testing.T) {
	h := newHarness(t, fixtureAttrs)
	res, errs := concurrently(t, h.db, 8, func(i int) pg.TransactRequest {
		return pg.TransactRequest{Steps: []store.Step{add(ent(1, i), aName, "x")}}
	})
	seen := map[store.TxID]bool{}
	var last store.TxID
	for i, err := range errs {
		require.NoError(t, err)
		assert.False(t, seen[res[i].TxID], "tx-id %d given twice", res[i].TxID)
		seen[res[i].TxID] = true
		last = max(last, res[i].TxID)
	}
	next, err := h.db.Transact(t.Context(), pg.TransactRequest{Steps: []store.Step{add(ent(1, 0), aName, "y")}})
	require.NoError(t, err)
	assert.Greater(t, next.TxID, last)
}

// TestTransact_Check: the hook sees each entity's change with its action
// and attributes before and after, and its error rolls everything back.
func TestTransact_Check(t *testing.T) {
	h := newHarness(t, fixtureAttrs)
	ctx := t.Context()
	u, todo, project, other := ent(1, 1), ent(1, 2), ent(1, 3), ent(1, 4)
	run := func(steps ...store.Step) ([]pg.WriteCheck, error) {
		var got []pg.WriteCheck
		_, err := h.db.Transact(ctx, pg.TransactRequest{Steps: steps, Check: func(c pg.WriteCheck) error {
			got = append(got, c)
			return nil
		}})
		return got, err
	}
	id := func(e store.EntityID) string { return e.String() }

	got, err := run(add(u, aName, "ann"), add(u, aTags, "b"), add(u, aTags, "a"), add(other, aName, "o"))
	require.NoError(t, err)
	assert.Equal(t, []pg.WriteCheck{
		{Namespace: "users", Entity: u, Action: pg.ActionCreate,
			After: map[string]any{"id": id(u), "name": "ann", "tags": []any{"a", "b"}}},
		{Namespace: "users", Entity: other, Action: pg.ActionCreate, After: map[string]any{"id": id(other), "name": "o"}},
	}, got)

	got, err = run(add(todo, aTitle, "t"), add(todo, aOwner, u), add(project, aProjectID, project))
	require.NoError(t, err)
	assert.Equal(t, []pg.WriteCheck{
		{Namespace: "projects", Entity: project, Action: pg.ActionCreate, After: map[string]any{"id": id(project)}},
		{Namespace: "todos", Entity: todo, Action: pg.ActionCreate,
			After: map[string]any{"id": id(todo), "title": "t", "owner": id(u)}},
	}, got)

	got, err = run(add(u, aName, "bea"), add(project, aLead, u), add(todo, aOwner, other))
	require.NoError(t, err)
	assert.Equal(t, []pg.WriteCheck{
		{Namespace: "projects", Entity: project, Action: pg.ActionLink, Label: "lead", Target: u,
			Before: map[string]any{"id": id(project)}, After: map[string]any{"id": id(project), "lead": id(u)}},
		{Namespace: "todos", Entity: todo, Action: pg.ActionLink, Label: "owner", Target: other,
			Before: map[string]any{"id": id(todo), "title": "t", "owner": id(u)},
			After:  map[string]any{"id": id(todo), "title": "t", "owner": id(other)}},
		{Namespace: "todos", Entity: todo, Action: pg.ActionUnlink, Label: "owner", Target: u,
			Before: map[string]any{"id": id(todo), "title": "t", "owner": id(u)},
			After:  map[string]any{"id": id(todo), "title": "t", "owner": id(other)}},
		{Namespace: "users", Entity: u, Action: pg.ActionUpdate,
			Before: map[string]any{"id": id(u), "name": "ann", "tags": []any{"a", "b"}},
			After:  map[string]any{"id": id(u), "name": "bea", "tags": []any{"a", "b"}}},
	}, got)

	// Deleting the other user cascades to the todo it owns; the project's
	// link to u is dropped when u goes, and that is the project's unlink.
	_, before, err := pg.Dump(ctx, h.db.Pool())
	require.NoError(t, err)
	refuse := errors.New("no deleting")
	var seen []pg.WriteCheck
	_, err = h.db.Transact(ctx, pg.TransactRequest{Steps: []store.Step{del(other, "users"), del(u, "users")},
		Check: func(c pg.WriteCheck) error {
			seen = append(seen, c)
			if c.Namespace == "todos" {
				return refuse
			}
			return nil
		}})
	require.ErrorIs(t, err, refuse)
	var ce *pg.CheckError
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, pg.ActionDelete, ce.Check.Action)
	assert.Equal(t, todo, ce.Check.Entity)
	assert.Equal(t, []string{"projects unlink", "todos delete"}, actions(seen), "checks up to the refusal, in order")
	_, after, err := pg.Dump(ctx, h.db.Pool())
	require.NoError(t, err)
	assert.ElementsMatch(t, before, after, "a refused transact writes nothing")

	got, err = run(del(other, "users"), del(u, "users"))
	require.NoError(t, err)
	assert.Equal(t, []string{"projects unlink", "todos delete", "users delete", "users delete"}, actions(got))
	assert.Equal(t, map[string]any{"id": id(todo), "title": "t", "owner": id(other)}, got[1].Before)
	assert.Nil(t, got[1].After)
}

func actions(cs []pg.WriteCheck) []string {
	var out []string
	for _, c := range cs {
		out = append(out, c.Namespace+" "+c.Action)
	}
	return out
}

var txRuns = flag.Int("tx.runs", 6, "schemas the differential transact test generates")

// TestTransact_Differential is the oracle test of Transact: random step
// batches over random schemas and data (cascading links, unique and
// indexed attributes, lookups, merges, deletes, attribute steps, and steps
// that must fail) go to Postgres through Transact and to an in-memory
// snapshot through store.Apply; after each batch both must have failed the
// same way or both succeeded, and the tables must hold exactly the
// snapshot's triples, flags and attributes. Seed: -seed or TRIPLESYNC_SEED.
func TestTransact_Differential(t *testing.T) {
	base := baseSeed(t)
	runs := *txRuns
	if testing.Short() {
		runs = 2
	}
	batches, failed := 0, 0
	for i := range runs {
		seed := base + uint64(i)
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			g := querytest.NewGen(seed)
			var list []store.Attr
			for _, a := range g.Schema().List() {
				if a.IsRef() {
					a.OnDeleteCascade = g.R.IntN(2) == 0
				}
				list = append(list, a)
			}
			attrs := store.MustNewAttrs(list...)
			d := g.Data(attrs, 8)
			h := newHarness(t, attrs)
			snap, err := store.Load(attrs, d.Triples)
			require.NoError(t, err)
			require.NoError(t, pg.ImportTriples(t.Context(), h.db.Pool(), attrs, snap.Triples()))
			h.model = snap
			h.requireSame(t)
			sg := &stepGen{r: g.R, h: h}
			for range 30 {
				steps := sg.batch()
				_, err := h.transact(t, steps...)
				batches++
				if err != nil {
					failed++
				}
			}
		})
	}
	t.Logf("%d batches, %d failed as store.Apply failed, tables equal the model after each", batches, failed)
}

// stepGen makes random step batches against the harness's current model.
type stepGen struct {
	r *rand.Rand
	h *harness
}

func (g *stepGen) batch() []store.Step {
	steps := make([]store.Step, 1+g.r.IntN(5))
	for i := range steps {
		steps[i] = g.step()
	}
	return steps
}

func (g *stepGen) pick(n int) int { return g.r.IntN(n) }

func (g *stepGen) entity() store.EntityID {
	ts := g.h.model.Triples()
	if len(ts) > 0 && g.pick(4) > 0 {
		return ts[g.pick(len(ts))].E
	}
	return store.EntityID{0xd, byte(g.pick(6)), 0, 0, 0, 0, 0x40, 0, 0x80}
}

func (g *stepGen) attr(filter func(*store.Attr) bool) *store.Attr {
	var cands []*store.Attr
	for _, a := range g.h.model.Attrs().All() {
		if filter == nil || filter(a) {
			cands = append(cands, a)
		}
	}
	if len(cands) == 0 {
		return nil
	}
	return cands[g.pick(len(cands))]
}

// value returns a value for a: mostly one that fits, often one already
// held by some entity (for unique conflicts), sometimes of the wrong type.
func (g *stepGen) value(a *store.Attr, e store.EntityID) store.Value {
	if a.Label == store.IDLabel {
		return store.Ref(e)
	}
	if g.pick(3) == 0 {
		var held []store.Value
		g.h.model.ScanAttr(a.ID, func(t store.Triple) bool {
			held = append(held, t.V)
			return true
		})
		if len(held) > 0 {
			return held[g.pick(len(held))]
		}
	}
	if a.IsRef() {
		return store.Ref(g.entity())
	}
	pools := map[store.ValueType][]any{
		store.TypeString:  {"a", "b", "ab", "É", "", nil},
		store.TypeNumber:  {1, 2.5, -1, 0, nil},
		store.TypeBoolean: {true, false, nil},
		store.TypeDate:    {1, 1700000000000, "2024-01-02", "2024-01-02T03:04:05Z"},
	}
	pool := []any{"a", "b", "ab", "É", 1, 2.5, -1, true, false, nil, "2024-01-02", map[string]any{"x": 1}, []any{1, "a"}}
	if typed, ok := pools[a.Type]; ok && g.pick(8) > 0 {
		pool = typed
	}
	return val(pool[g.pick(len(pool))])
}

// mode is mostly upsert, sometimes create or update.
func (g *stepGen) mode() store.Mode {
	switch g.pick(8) {
	case 0:
		return store.ModeCreate
	case 1:
		return store.ModeUpdate
	}
	return store.ModeUpsert
}

func (g *stepGen) step() store.Step {
	e := g.entity()
	switch k := g.pick(20); {
	case k < 9:
		a := g.attr(nil)
		st := store.Step{Op: store.OpAddTriple, E: e, A: a.ID, V: g.value(a, e), Mode: g.mode()}
		if u := g.attr(func(x *store.Attr) bool { return x.Unique && x.Namespace == a.Namespace }); u != nil && g.pick(5) == 0 {
			st.E, st.Lookup = store.EntityID{}, &store.LookupRef{A: u.ID, V: g.value(u, e)}
		}
		if a.IsRef() && g.pick(3) == 0 {
			if u := g.attr(func(x *store.Attr) bool { return x.Unique && x.Namespace == a.RefNamespace }); u != nil {
				st.V, st.ValueLookup = store.Null(), &store.LookupRef{A: u.ID, V: g.value(u, g.entity())}
			}
		}
		return st
	case k < 11:
		a := g.attr(func(x *store.Attr) bool { return !x.IsRef() && x.Label != store.IDLabel })
		if a == nil {
			return del(e, "users")
		}
		patches := []string{`{"x":null}`, `{"y":{"z":1}}`, `{"x":2}`, `[3]`, `"s"`}
		return store.Step{Op: store.OpDeepMergeTriple, E: e, A: a.ID, V: val(patches[g.pick(len(patches))]), Mode: g.mode()}
	case k < 14:
		ts := g.h.model.Triples()
		if len(ts) > 0 && g.pick(4) > 0 {
			t := ts[g.pick(len(ts))]
			return store.Step{Op: store.OpRetractTriple, E: t.E, A: t.A, V: t.V}
		}
		a := g.attr(nil)
		return store.Step{Op: store.OpRetractTriple, E: e, A: a.ID, V: g.value(a, e)}
	case k < 17:
		ns := g.h.model.Attrs().Namespaces()
		st := del(e, ns[g.pick(len(ns))])
		if u := g.attr(func(x *store.Attr) bool { return x.Unique && x.Namespace == st.Namespace }); u != nil && g.pick(4) == 0 {
			st.E, st.Lookup = store.EntityID{}, &store.LookupRef{A: u.ID, V: g.value(u, e)}
		}
		return st
	case k < 18 && g.pick(3) == 0:
		return store.Step{Op: store.OpAddTriple, E: e, A: store.AttrID{0xb, byte(g.pick(256))}, V: val(1)}
	default:
		a := *g.attr(nil)
		switch g.pick(3) {
		case 0:
			a.Indexed = !a.Indexed
		case 1:
			if a.Cardinality == store.CardinalityOne && !a.IsRef() {
				a.Unique = !a.Unique
			}
		default:
			n := store.Attr{ID: store.AttrID{0xc, byte(g.pick(256))}, Namespace: a.Namespace, Label: fmt.Sprint("x", g.pick(100)), Indexed: true}
			return store.Step{Op: store.OpAddAttr, A: n.ID, Attr: n}
		}
		return store.Step{Op: store.OpUpdateAttr, A: a.ID, Attr: a}
	}
}

// TestTransact_Serializable races random batches from several goroutines
// over a small set of entities, then replays the committed ones in tx-id
// order through store.Apply: each must apply there too, and the result
// must be exactly the tables. That checks both promises at once —
// concurrent transacts behave as if run one at a time, and tx-ids follow
// that order (the commit order). Seed: -seed or TRIPLESYNC_SEED.
func TestTransact_Serializable(t *testing.T) {
	const workers, perWorker = 6, 15
	seed := baseSeed(t)
	g := querytest.NewGen(seed)
	var list []store.Attr
	for _, a := range g.Schema().List() {
		if a.IsRef() {
			a.OnDeleteCascade = g.R.IntN(2) == 0
		}
		list = append(list, a)
	}
	attrs := store.MustNewAttrs(list...)
	d := g.Data(attrs, 6)
	h := newHarness(t, attrs)
	initial, err := store.Load(attrs, d.Triples)
	require.NoError(t, err)
	require.NoError(t, pg.ImportTriples(t.Context(), h.db.Pool(), attrs, initial.Triples()))
	h.model = initial

	type done struct {
		id    store.TxID
		steps []store.Step
		now   int64
	}
	sg := &stepGen{r: g.R, h: h}
	batches := make([][][]store.Step, workers)
	for w := range batches {
		for range perWorker {
			steps := sg.batch()
			// No attribute steps: each takes the schema lock alone, which
			// serialises everything and tests nothing here.
			steps = slices.DeleteFunc(steps, func(st store.Step) bool {
				return st.Op == store.OpAddAttr || st.Op == store.OpUpdateAttr || st.Op == store.OpDeleteAttr
			})
			batches[w] = append(batches[w], steps)
		}
	}
	var mu sync.Mutex
	var committed []done
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i, steps := range batches[w] {
				now := int64(1800000000000 + w*1000 + i)
				res, err := h.db.Transact(t.Context(), pg.TransactRequest{Steps: steps, Now: now})
				if err != nil {
					var se *store.StepError
					assert.ErrorAs(t, err, &se, "only step errors")
					continue
				}
				mu.Lock()
				committed = append(committed, done{res.TxID, steps, now})
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	slices.SortFunc(committed, func(a, b done) int { return cmp.Compare(a.id, b.id) })
	model := initial
	for _, c := range committed {
		next, err := model.Apply(c.steps, c.now)
		if !assert.NoError(t, err, "tx %d applies in tx-id order", c.id) {
			return
		}
		model = next
	}
	h.model = model
	h.requireSame(t)
	t.Logf("%d of %d batches committed; replayed in tx-id order they give the tables", len(committed), workers*perWorker)
}

// TestTransact_NUL: Postgres's jsonb cannot hold U+0000, which the store
// allows; such a value is refused as an invalid value naming its step.
func TestTransact_NUL(t *testing.T) {
	h := newHarness(t, fixtureAttrs)
	tests := []struct {
		name string
		step store.Step
	}{
		{"string", add(ent(1, 1), aName, "a\x00b")},
		{"inside json", add(ent(1, 1), aMeta, map[string]any{"k": []any{"\x00"}})},
		{"json key", merge(ent(1, 1), aMeta, map[string]any{"\x00": 1})},
		{"lookup", store.Step{Op: store.OpAddTriple, Lookup: lookup(aEmail, "\x00"), A: aName, V: val("n")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := h.db.Transact(t.Context(), pg.TransactRequest{Steps: []store.Step{add(ent(1, 2), aName, "ok"), tt.step}})
			require.ErrorIs(t, err, store.ErrInvalidValue)
			var se *store.StepError
			require.ErrorAs(t, err, &se)
			assert.Equal(t, 1, se.Index)
			h.requireSame(t) // nothing written
		})
	}
	_, err := h.transact(t, add(ent(1, 3), aName, `a\u0000b as text`))
	require.NoError(t, err, "a backslash and 'u0000' are fine")
}
