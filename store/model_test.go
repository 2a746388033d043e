package store_test

import (
	"cmp"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/triplesync/triplesync/store"
)

// model is the naive twin of Snapshot: a map of triples and a linear scan
// for every question. TestApplyMatchesModel runs both on the same random
// batches. It follows the rules documented on Snapshot.Apply, in the same
// order of checks, so the two fail on the same step with the same error.
type model struct {
	attrs   *store.Attrs
	ts      map[store.TripleKey]int64 // triple → created at
	created map[string]bool           // ns + entity brought in by the current batch
	now     int64
}

func newModel(attrs *store.Attrs) *model {
	return &model{attrs: attrs, ts: map[store.TripleKey]int64{}}
}

func (m *model) clone() *model {
	c := &model{attrs: m.attrs, ts: make(map[store.TripleKey]int64, len(m.ts))}
	for k, v := range m.ts {
		c.ts[k] = v
	}
	return c
}

// apply returns the model after steps, or the receiver, the failing index
// and the error.
func (m *model) apply(steps []store.Step, now int64) (*model, int, error) {
	w := m.clone()
	w.created, w.now = map[string]bool{}, now
	for i := range steps {
		if err := w.step(&steps[i]); err != nil {
			return m, i, err
		}
	}
	return w, -1, nil
}

func (m *model) triples() []store.Triple {
	out := make([]store.Triple, 0, len(m.ts))
	for k, at := range m.ts {
		out = append(out, store.Triple{E: k.E, A: k.A, V: k.V, CreatedAt: at})
	}
	return sortedTriples(out)
}

func (m *model) step(st *store.Step) error {
	switch st.Op {
	case store.OpAddTriple, store.OpDeepMergeTriple:
		return m.write(st)
	case store.OpRetractTriple:
		a, ok := m.attrs.ByID(st.A)
		if !ok {
			return store.ErrUnknownAttr
		}
		e, ok, err := m.entity(st, a.Namespace, false)
		if !ok || err != nil {
			return err
		}
		v, ok, err := m.value(st, a, false)
		if !ok || err != nil {
			return err
		}
		if v, err = a.Check(v); err != nil {
			return err
		}
		delete(m.ts, store.TripleKey{E: e, A: a.ID, V: v})
		return nil
	case store.OpDeleteEntity:
		e, ok, err := m.entity(st, st.Namespace, false)
		if !ok || err != nil {
			return err
		}
		m.deleteEntity(e, st.Namespace, map[string]bool{})
		return nil
	case store.OpUpdateAttr:
		return m.updateAttr(st.Attr)
	case store.OpDeleteAttr:
		for k := range m.ts {
			if k.A == st.A {
				delete(m.ts, k)
			}
		}
		m.attrs = rebuild(m.attrs, st.A, nil)
		return nil
	case store.OpAddAttr:
		if old, ok := m.attrs.ByID(st.Attr.ID); ok {
			if *old == st.Attr {
				return nil
			}
			return store.ErrInvalidAttr
		}
		m.attrs = rebuild(m.attrs, st.Attr.ID, &st.Attr)
		return nil
	}
	return store.ErrMalformedStep
}

// rebuild returns attrs without id, plus a if given.
func rebuild(attrs *store.Attrs, id store.AttrID, a *store.Attr) *store.Attrs {
	var list []store.Attr
	for _, x := range attrs.All() {
		if x.ID != id {
			list = append(list, *x)
		}
	}
	if a != nil {
		list = append(list, *a)
	}
	out, err := store.NewAttrs(list...)
	if err != nil {
		return nil
	}
	return out
}

func (m *model) write(st *store.Step) error {
	a, ok := m.attrs.ByID(st.A)
	if !ok {
		return store.ErrUnknownAttr
	}
	isMerge := st.Op == store.OpDeepMergeTriple
	if isMerge && (a.IsRef() || a.Label == store.IDLabel || a.Cardinality != store.CardinalityOne) {
		return store.ErrWrongType
	}
	create := st.Mode != store.ModeUpdate
	e, ok, err := m.entity(st, a.Namespace, create)
	if err != nil {
		return err
	}
	if !ok {
		return store.ErrNotFound
	}
	exists := m.inNS(e, a.Namespace)
	if st.Mode == store.ModeCreate && exists && !m.created[a.Namespace+e.String()] {
		return store.ErrExists
	}
	if st.Mode == store.ModeUpdate && !exists {
		return store.ErrNotFound
	}
	v, ok, err := m.value(st, a, create)
	if err != nil {
		return err
	}
	if !ok {
		return store.ErrNotFound
	}
	if isMerge {
		var cur store.Value
		for k := range m.ts {
			if k.E == e && k.A == a.ID {
				cur = k.V
			}
		}
		if v, err = store.MergeValues(cur, v); err != nil {
			return err
		}
	}
	if v, err = a.Check(v); err != nil {
		return err
	}
	return m.set(e, a, v, isMerge)
}

func (m *model) entity(st *store.Step, ns string, create bool) (store.EntityID, bool, error) {
	if st.Lookup == nil {
		return st.E, true, nil
	}
	return m.resolve(st.Lookup, ns, create)
}

func (m *model) value(st *store.Step, a *store.Attr, create bool) (store.Value, bool, error) {
	if st.ValueLookup == nil {
		return st.V, true, nil
	}
	ns := a.RefNamespace
	if a.Label == store.IDLabel {
		ns = a.Namespace
	} else if !a.IsRef() {
		return store.Value{}, false, store.ErrInvalidLookup
	}
	e, ok, err := m.resolve(st.ValueLookup, ns, create)
	return store.Ref(e), ok, err
}

func (m *model) resolve(l *store.LookupRef, ns string, create bool) (store.EntityID, bool, error) {
	la, ok := m.attrs.ByID(l.A)
	if !ok {
		return store.EntityID{}, false, store.ErrUnknownAttr
	}
	if !la.Unique || la.Namespace != ns {
		return store.EntityID{}, false, store.ErrInvalidLookup
	}
	v, err := la.Check(l.V)
	if err != nil {
		return store.EntityID{}, false, err
	}
	for k := range m.ts {
		if k.A == la.ID && k.V == v {
			return k.E, true, nil
		}
	}
	if !create {
		return store.EntityID{}, false, nil
	}
	e := store.LookupEntityID(la.ID, v)
	return e, true, m.set(e, la, v, false)
}

func (m *model) inNS(e store.EntityID, ns string) bool {
	for k := range m.ts {
		if a, _ := m.attrs.ByID(k.A); k.E == e && a.Namespace == ns {
			return true
		}
	}
	return false
}

func (m *model) set(e store.EntityID, a *store.Attr, v store.Value, keep bool) error {
	if a.Label == store.IDLabel && v != store.Ref(e) {
		return store.ErrWrongType
	}
	if a.Unique {
		for k := range m.ts {
			if k.A == a.ID && k.V == v && k.E != e {
				return store.ErrUniqueViolation
			}
		}
	}
	if !m.inNS(e, a.Namespace) {
		m.created[a.Namespace+e.String()] = true
	}
	k := store.TripleKey{E: e, A: a.ID, V: v}
	if a.Cardinality == store.CardinalityOne {
		at := m.now
		for o, oat := range m.ts {
			if o.E == e && o.A == a.ID && o != k {
				if keep {
					at = oat
				}
				delete(m.ts, o)
			}
		}
		if _, has := m.ts[k]; !has {
			m.ts[k] = at
		}
	} else if _, has := m.ts[k]; !has {
		m.ts[k] = m.now
	}
	if id, ok := m.attrs.IDAttr(a.Namespace); ok && a.Label != store.IDLabel {
		if _, has := m.ts[store.TripleKey{E: e, A: id.ID, V: store.Ref(e)}]; !has {
			return m.set(e, id, store.Ref(e), false)
		}
	}
	return nil
}

func (m *model) deleteEntity(e store.EntityID, ns string, seen map[string]bool) {
	if seen[ns+e.String()] {
		return
	}
	seen[ns+e.String()] = true
	var cascade []store.TripleKey
	for k := range m.ts {
		a, _ := m.attrs.ByID(k.A)
		if k.E == e && a.Namespace == ns {
			delete(m.ts, k)
		}
		if a.IsRef() && k.V == store.Ref(e) && a.RefNamespace == ns {
			delete(m.ts, k)
			if a.OnDeleteCascade {
				cascade = append(cascade, k)
			}
		}
	}
	for _, k := range cascade {
		a, _ := m.attrs.ByID(k.A)
		m.deleteEntity(k.E, a.Namespace, seen)
	}
}

func (m *model) updateAttr(a store.Attr) error {
	if err := a.Validate(); err != nil {
		return err
	}
	if _, ok := m.attrs.ByID(a.ID); !ok {
		return store.ErrUnknownAttr
	}
	next := rebuild(m.attrs, a.ID, &a)
	if next == nil {
		return store.ErrInvalidAttr
	}
	var keys []store.TripleKey
	for k := range m.ts {
		if k.A == a.ID {
			keys = append(keys, k)
		}
	}
	slices.SortFunc(keys, func(x, y store.TripleKey) int { return cmp.Or(x.E.Compare(y.E), store.Compare(x.V, y.V)) })
	out := map[store.TripleKey]int64{}
	perEntity := map[store.EntityID]int{}
	holder := map[store.Value]store.EntityID{}
	for _, k := range keys {
		v, err := a.Check(k.V)
		if err != nil {
			return err
		}
		n := store.TripleKey{E: k.E, A: k.A, V: v}
		if _, dup := out[n]; dup {
			continue
		}
		out[n] = m.ts[k]
		if perEntity[k.E]++; a.Cardinality == store.CardinalityOne && perEntity[k.E] > 1 {
			return store.ErrCardinality
		}
		if h, dup := holder[v]; a.Unique && dup && h != k.E {
			return store.ErrUniqueViolation
		}
		holder[v] = k.E
	}
	for _, k := range keys {
		delete(m.ts, k)
	}
	for k, at := range out {
		m.ts[k] = at
	}
	m.attrs = next
	return nil
}

// sentinel returns the package sentinel err wraps.
func sentinel(err error) error {
	for _, s := range []error{store.ErrWrongType, store.ErrUnknownAttr, store.ErrUniqueViolation, store.ErrMalformedStep,
		store.ErrNotFound, store.ErrExists, store.ErrInvalidAttr, store.ErrInvalidLookup, store.ErrCardinality, store.ErrInvalidValue} {
		if errors.Is(err, s) {
			return s
		}
	}
	return err
}

// testSeed returns TRIPLESYNC_SEED if set, else a fixed seed, and logs it.
func testSeed(t *testing.T) uint64 {
	seed := uint64(1)
	if s := os.Getenv("TRIPLESYNC_SEED"); s != "" {
		n, err := strconv.ParseUint(s, 10, 64)
		require.NoError(t, err, "TRIPLESYNC_SEED")
		seed = n
	}
	t.Logf("seed %d (set TRIPLESYNC_SEED to replay)", seed)
	return seed
}

// stepGen draws random steps over a small world, so that they collide.
type stepGen struct {
	r     *rand.Rand
	attrs *store.Attrs
}

func (g *stepGen) entity() store.EntityID { return eid(1 + g.r.IntN(6)) }

func (g *stepGen) value(a *store.Attr, e store.EntityID) store.Value {
	if g.r.IntN(12) == 0 { // a value of any type, often the wrong one
		return []store.Value{store.Null(), store.Bool(true), num(1), str("a"), mustValueNoT(`{"a":1}`), ref(g.entity())}[g.r.IntN(6)]
	}
	if a.Label == store.IDLabel {
		if g.r.IntN(8) == 0 {
			return ref(g.entity())
		}
		return ref(e)
	}
	switch a.Type {
	case store.TypeString:
		return str([]string{"a", "b", "c", "2024-01-01"}[g.r.IntN(4)])
	case store.TypeNumber:
		return num(float64(g.r.IntN(3)))
	case store.TypeBoolean:
		return store.Bool(g.r.IntN(2) == 0)
	case store.TypeDate:
		return []store.Value{num(0), str("1970-01-01"), str("2024-01-01T00:00:00Z")}[g.r.IntN(3)]
	case store.TypeRef:
		return ref(g.entity())
	}
	return g.object()
}

func (g *stepGen) object() store.Value {
	return mustValueNoT([]string{`{"a":1}`, `{"b":{"c":2}}`, `{"a":null,"b":{"d":3}}`, `[1]`, `{"b":null}`}[g.r.IntN(5)])
}

func (g *stepGen) pick() *store.Attr {
	all := g.attrs.All()
	if g.r.IntN(30) == 0 {
		return &store.Attr{ID: attrID(0xfff), Namespace: "users", Label: "ghost"}
	}
	return all[g.r.IntN(len(all))]
}

func (g *stepGen) emailLookup() *store.LookupRef {
	return &store.LookupRef{A: aUsersEmail, V: str([]string{"a", "b", "c"}[g.r.IntN(3)])}
}

func (g *stepGen) step() store.Step {
	a := g.pick()
	e := g.entity()
	st := store.Step{E: e, A: a.ID}
	switch n := g.r.IntN(100); {
	case n < 45:
		st.Op = store.OpAddTriple
		st.Mode = store.Mode([]int{0, 0, 0, 0, 1, 2}[g.r.IntN(6)])
		st.V = g.value(a, e)
	case n < 55:
		st.Op = store.OpDeepMergeTriple
		st.Mode = store.Mode([]int{0, 0, 0, 2}[g.r.IntN(4)])
		st.V = g.object()
	case n < 75:
		st.Op = store.OpRetractTriple
		st.V = g.value(a, e)
	case n < 85:
		return store.Step{Op: store.OpDeleteEntity, E: e, Namespace: []string{"users", "todos", "nodes"}[g.r.IntN(3)]}
	case n < 93:
		return g.attrStep()
	default:
		// a value lookup on a link, or an id triple by lookup
		st.Op = store.OpAddTriple
		if g.r.IntN(2) == 0 {
			st.A = []store.AttrID{aTodosOwner, aTodosWatchers}[g.r.IntN(2)]
		} else {
			st.A, st.E, st.Lookup = aUsersID, store.EntityID{}, g.emailLookup()
		}
		st.ValueLookup = g.emailLookup()
		return st
	}
	if a.Namespace == "users" && g.r.IntN(5) == 0 {
		st.E, st.Lookup = store.EntityID{}, g.emailLookup()
	}
	return st
}

func (g *stepGen) attrStep() store.Step {
	switch g.r.IntN(5) {
	case 0:
		a := store.Attr{ID: aUsersName, Namespace: "users", Label: "name", Type: store.TypeString, Unique: g.r.IntN(2) == 0}
		return store.Step{Op: store.OpUpdateAttr, A: a.ID, Attr: a}
	case 1:
		a := store.Attr{ID: aUsersTags, Namespace: "users", Label: "tags", Type: store.TypeString, Indexed: true,
			Cardinality: store.Cardinality(g.r.IntN(2))}
		return store.Step{Op: store.OpUpdateAttr, A: a.ID, Attr: a}
	case 2:
		a := store.Attr{ID: aUsersAge, Namespace: "users", Label: "age", Type: []store.ValueType{store.TypeNumber, store.TypeDate, store.TypeAny}[g.r.IntN(3)],
			Indexed: g.r.IntN(2) == 0}
		return store.Step{Op: store.OpUpdateAttr, A: a.ID, Attr: a}
	case 3:
		return store.Step{Op: store.OpDeleteAttr, A: aUsersBorn}
	}
	a := schema()[4] // users.born
	return store.Step{Op: store.OpAddAttr, A: a.ID, Attr: a}
}

// TestApplyMatchesModel applies random batches to a Snapshot and to the
// naive model and requires the same outcome after each: the same failing
// step and error, or the same triples and attributes. A failed batch must
// leave the snapshot exactly as it was.
func TestApplyMatchesModel(t *testing.T) {
	seed := testSeed(t)
	batches := 400
	if testing.Short() {
		batches = 100
	}
	for run := range uint64(4) {
		r := rand.New(rand.NewPCG(seed, run))
		s := store.NewSnapshot(testAttrs(t))
		m := newModel(s.Attrs())
		failed := 0
		for b := range batches {
			g := &stepGen{r: r, attrs: s.Attrs()}
			steps := make([]store.Step, 1+r.IntN(4))
			for i := range steps {
				steps[i] = g.step()
			}
			ctx := fmt.Sprintf("seed %d run %d batch %d steps %v", seed, run, b, steps)
			before := s.Triples()
			next, err := s.Apply(steps, int64(b+1))
			mnext, idx, merr := m.apply(steps, int64(b+1))
			if merr != nil {
				failed++
				require.Error(t, err, "model failed with %v at %d; %s", merr, idx, ctx)
				var se *store.StepError
				require.True(t, errors.As(err, &se), ctx)
				require.Equal(t, idx, se.Index, "failing step: %v vs model %v; %s", err, merr, ctx)
				require.ErrorIs(t, err, sentinel(merr), "%v vs model %v; %s", err, merr, ctx)
				require.Nil(t, next)
				require.Equal(t, before, s.Triples(), "a failed batch changed the snapshot; %s", ctx)
				continue
			}
			require.NoError(t, err, ctx)
			require.NoError(t, next.CheckInvariants(), ctx)
			require.Equal(t, mnext.triples(), next.Triples(), ctx)
			require.Equal(t, mnext.attrs.List(), next.Attrs().List(), ctx)
			require.Equal(t, before, s.Triples(), "the receiver changed; %s", ctx)
			s, m = next, mnext
		}
		t.Logf("run %d: %d of %d batches failed, %d triples at the end", run, failed, batches, s.Len())
		require.Greater(t, failed, batches/20, "the generator should make some batches fail")
		require.Less(t, failed, batches*9/10, "and most succeed")
	}
}
