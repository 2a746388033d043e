package reactor

import (
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/triplesync/triplesync/internal/wire"
	"github.com/triplesync/triplesync/store"
)

// patchBase must give what reloading the whole result with the delta
// applied gives, CreatedAt included, or decline. Random stores and random
// deltas: values replaced (with or without removing the old one), links,
// triples re-sent with a new CreatedAt, entities without their id triple,
// unique values moving between entities.
func TestPatchBaseMatchesReload(t *testing.T) {
	ent := func(i int) store.EntityID { return store.EntityID{byte(i + 1), 6: 0x40, 8: 0x80} }
	attrs := store.MustNewAttrs(
		store.Attr{ID: ent(100), Namespace: "todos", Label: "id", Type: store.TypeString, Unique: true, Indexed: true},
		store.Attr{ID: ent(101), Namespace: "todos", Label: "title", Type: store.TypeString},
		store.Attr{ID: ent(102), Namespace: "todos", Label: "code", Type: store.TypeString, Unique: true},
		store.Attr{ID: ent(103), Namespace: "todos", Label: "tags", Type: store.TypeString, Cardinality: store.CardinalityMany},
		store.Attr{ID: ent(104), Namespace: "todos", Label: "next", Type: store.TypeRef, RefNamespace: "todos", ReverseLabel: "prev"},
	)
	vals := []store.Value{store.String("a"), store.String("b"), store.String("c")}
	patched := 0
	for seed := range uint64(500) {
		r := rand.New(rand.NewPCG(seed, 2))
		triple := func(e store.EntityID) store.Triple {
			t := store.Triple{E: e, CreatedAt: int64(1 + r.IntN(3))}
			switch r.IntN(5) {
			case 0:
				t.A, t.V = ent(100), store.Ref(e)
			case 1:
				t.A, t.V = ent(101), vals[r.IntN(3)]
			case 2:
				t.A, t.V = ent(102), vals[r.IntN(3)]
			case 3:
				t.A, t.V = ent(103), vals[r.IntN(3)]
			default:
				t.A, t.V = ent(104), store.Ref(ent(r.IntN(6)))
			}
			return t
		}
		var ts []store.Triple
		for i := range 6 {
			if r.IntN(5) > 0 { // most entities have their id triple
				ts = append(ts, store.Triple{E: ent(i), A: ent(100), V: store.Ref(ent(i)), CreatedAt: 1})
			}
		}
		for range 12 {
			ts = append(ts, triple(ent(r.IntN(6))))
		}
		base, err := store.Load(attrs, dedupeCardOne(attrs, ts))
		if err != nil {
			continue // a unique value twice
		}
		comp := &wire.Computation{}
		cur := base.Triples()
		for range 1 + r.IntN(4) {
			if len(cur) > 0 && r.IntN(2) == 0 {
				comp.Removed = append(comp.Removed, cur[r.IntN(len(cur))].Key())
			}
			t := triple(ent(r.IntN(7)))
			if a, _ := attrs.ByID(t.A); a.Cardinality == store.CardinalityOne && r.IntN(5) > 0 {
				// As the server sends it: the old value removed.
				base.ScanEntity(t.E, t.A, func(old store.Triple) bool {
					comp.Removed = append(comp.Removed, old.Key())
					return true
				})
			}
			comp.Added = append(comp.Added, t)
		}
		want, err := store.Load(attrs, applyDelta(cur, comp.Added, comp.Removed))
		qs := &querySub{base: base}
		got, ok := patchBase(qs, comp)
		if err != nil {
			require.False(t, ok, "seed %d: patched a delta the whole reload refuses", seed)
			continue
		}
		if !ok {
			continue
		}
		patched++
		require.Equal(t, want.Triples(), got.Triples(), "seed %d: delta %+v", seed, comp)
	}
	t.Logf("%d deltas patched", patched)
	require.Greater(t, patched, 80, "patchBase declines nearly everything")
}

// dedupeCardOne keeps one value per entity of each cardinality-one
// attribute, and one triple per key.
func dedupeCardOne(attrs *store.Attrs, ts []store.Triple) []store.Triple {
	type ea struct{ e, a store.EntityID }
	one := map[ea]bool{}
	keys := map[store.TripleKey]bool{}
	var out []store.Triple
	for _, t := range ts {
		a, _ := attrs.ByID(t.A)
		if a.Cardinality == store.CardinalityOne {
			if one[ea{t.E, t.A}] {
				continue
			}
			one[ea{t.E, t.A}] = true
		}
		if keys[t.Key()] {
			continue
		}
		keys[t.Key()] = true
		out = append(out, t)
	}
	return out
}
