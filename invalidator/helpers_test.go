package invalidator_test

import (
	"math/rand/v2"
	"slices"

	"github.com/triplesync/triplesync/store"
)

// diff returns the changes that turn snapshot a into b, as the WAL would
// carry them: a triple whose key vanished is a delete, a new key an insert,
// a key whose CreatedAt changed an update; for a cardinality-one attribute
// a delete and an insert of the same entity and attribute become one update
// (the triples table keeps one row per entity and attribute there).
// Attribute definitions that appear, vanish or change are attr changes.
// Flags are those of the attribute before (old rows) and after (new rows).
func diff(a, b *store.Snapshot) (triples []store.TripleChange, attrs []store.AttrChange) {
	flags := func(r *store.Attrs, id store.AttrID) store.IndexFlags {
		if at, ok := r.ByID(id); ok {
			return at.Flags()
		}
		return 0
	}
	old := map[store.TripleKey]store.Triple{}
	for _, t := range a.Triples() {
		old[t.Key()] = t
	}
	type ea struct{ e, a store.EntityID }
	inserts := map[ea]int{} // index into triples of a pending insert of a cardinality-one row
	var dels []store.Triple
	for _, t := range b.Triples() {
		o, had := old[t.Key()]
		delete(old, t.Key())
		switch {
		case !had:
			triples = append(triples, store.TripleChange{Op: store.OpInsert, New: t, NewFlags: flags(b.Attrs(), t.A)})
			if at, ok := b.Attrs().ByID(t.A); ok && at.Cardinality == store.CardinalityOne {
				inserts[ea{t.E, t.A}] = len(triples) - 1
			}
		case o.CreatedAt != t.CreatedAt || flags(a.Attrs(), t.A) != flags(b.Attrs(), t.A):
			triples = append(triples, store.TripleChange{Op: store.OpUpdate, Old: o, New: t,
				OldFlags: flags(a.Attrs(), o.A), NewFlags: flags(b.Attrs(), t.A)})
		}
	}
	for _, t := range a.Triples() {
		if _, gone := old[t.Key()]; gone {
			dels = append(dels, t)
		}
	}
	for _, t := range dels {
		of := flags(a.Attrs(), t.A)
		if i, ok := inserts[ea{t.E, t.A}]; ok && of&store.FlagEA != 0 {
			ins := &triples[i]
			*ins = store.TripleChange{Op: store.OpUpdate, Old: t, New: ins.New, OldFlags: of, NewFlags: ins.NewFlags}
			delete(inserts, ea{t.E, t.A})
			continue
		}
		triples = append(triples, store.TripleChange{Op: store.OpDelete, Old: t, OldFlags: of})
	}
	for _, x := range a.Attrs().All() {
		y, ok := b.Attrs().ByID(x.ID)
		switch {
		case !ok:
			attrs = append(attrs, store.AttrChange{Op: store.OpDelete, Old: *x})
		case *x != *y:
			attrs = append(attrs, store.AttrChange{Op: store.OpUpdate, Old: *x, New: *y})
		}
	}
	for _, y := range b.Attrs().All() {
		if _, ok := a.Attrs().ByID(y.ID); !ok {
			attrs = append(attrs, store.AttrChange{Op: store.OpInsert, New: *y})
		}
	}
	return triples, attrs
}

// txGen makes random transactions against a snapshot.
type txGen struct {
	r   *rand.Rand
	now int64
}

var (
	txStrings = []string{"", "a", "ab", "abc", "b", "Ab", "AB", "é", "É", "a%b", "a_c", "x\\y", "zz"}
	txNumbers = []float64{-1, 0, 1, 2, 2.5, 10, 1e21}
)

func (g *txGen) pick(n int) int { return g.r.IntN(n) }

func (g *txGen) chance(p float64) bool { return g.r.Float64() < p }

func (g *txGen) id() store.EntityID {
	var id store.EntityID
	for i := range id {
		id[i] = byte(g.r.UintN(256))
	}
	return id
}

func (g *txGen) value(t store.ValueType) store.Value {
	switch t {
	case store.TypeString:
		return store.String(txStrings[g.pick(len(txStrings))])
	case store.TypeNumber, store.TypeDate:
		return store.Number(txNumbers[g.pick(len(txNumbers))])
	case store.TypeBoolean:
		return store.Bool(g.chance(0.5))
	}
	switch g.pick(5) {
	case 0:
		return store.Bool(g.chance(0.5))
	case 1:
		return store.Number(txNumbers[g.pick(len(txNumbers))])
	case 2:
		v, _ := store.ParseValue([]byte([]string{`{"x":1}`, `[1,2]`, `[]`}[g.pick(3)]))
		return v
	case 3:
		return store.Null()
	}
	return store.String(txStrings[g.pick(len(txStrings))])
}

// entities returns the entities of each namespace (holding its id triple).
func entities(s *store.Snapshot) map[string][]store.EntityID {
	out := map[string][]store.EntityID{}
	for _, t := range s.Triples() {
		if a, ok := s.Attrs().ByID(t.A); ok && a.Label == store.IDLabel {
			out[a.Namespace] = append(out[a.Namespace], t.E)
		}
	}
	return out
}

// step returns one random step against s.
func (g *txGen) step(s *store.Snapshot, schema bool) store.Step {
	attrs := s.Attrs()
	nss := attrs.Namespaces()
	ents := entities(s)
	entity := func(ns string) store.EntityID {
		if es := ents[ns]; len(es) > 0 && g.chance(0.85) {
			return es[g.pick(len(es))]
		}
		return g.id()
	}
	if schema {
		ns := nss[g.pick(len(nss))]
		switch g.pick(3) {
		case 0: // a new attribute
			a := store.Attr{ID: g.id(), Namespace: ns, Label: "n" + store.EntityID(g.id()).String()[:6], Type: store.TypeAny,
				Indexed: g.chance(0.5)}
			if g.chance(0.3) {
				a.Cardinality = store.CardinalityMany
			}
			return store.Step{Op: store.OpAddAttr, A: a.ID, Attr: a}
		default: // flip an attribute's indexed flag (re-indexes its triples)
			as := attrs.Namespace(ns)
			a := *as[g.pick(len(as))]
			a.Indexed = !a.Indexed
			return store.Step{Op: store.OpUpdateAttr, A: a.ID, Attr: a}
		}
	}
	switch k := g.pick(10); {
	case k < 6: // set an attribute
		ns := nss[g.pick(len(nss))]
		as := attrs.Namespace(ns)
		a := as[g.pick(len(as))]
		e := entity(ns)
		var v store.Value
		switch {
		case a.Label == store.IDLabel:
			v = store.Ref(e)
		case a.IsRef():
			v = store.Ref(entity(a.RefNamespace))
		default:
			v = g.value(a.Type)
		}
		return store.Step{Op: store.OpAddTriple, E: e, A: a.ID, V: v}
	case k < 9: // retract an existing triple
		ts := s.Triples()
		if len(ts) == 0 {
			return g.step(s, false)
		}
		t := ts[g.pick(len(ts))]
		return store.Step{Op: store.OpRetractTriple, E: t.E, A: t.A, V: t.V}
	default: // delete an entity
		ns := nss[g.pick(len(nss))]
		return store.Step{Op: store.OpDeleteEntity, E: entity(ns), Namespace: ns}
	}
}

// tx applies up to n random steps to s one by one (dropping those that
// fail) and returns the new snapshot and the change, built from each
// step's diff in turn, as the WAL delivers a transaction's statements.
func (g *txGen) tx(s *store.Snapshot, n int, schema bool) (*store.Snapshot, store.Change) {
	var c store.Change
	for range n {
		g.now++
		st := g.step(s, schema && g.chance(0.5))
		next, err := s.Apply([]store.Step{st}, g.now)
		if err != nil {
			continue
		}
		ts, as := diff(s, next)
		c.Triples = append(c.Triples, ts...)
		c.Attrs = append(c.Attrs, as...)
		s = next
	}
	return s, c
}

// sortedKeys returns a map's keys sorted.
func sortedKeys[K interface{ ~string | ~uint64 }, V any](m map[K]V) []K {
	ks := make([]K, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}
