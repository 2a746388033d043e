package store

import (
	"cmp"
	"encoding/binary"
	"slices"

	"github.com/triplesync/triplesync/internal/errs"
)

// Load builds a snapshot of triples in one pass: the bulk path for a query
// result or a persisted store, much faster than applying add-triple steps.
// Each triple's attribute must be in attrs ([ErrUnknownAttr]) and its value
// must pass [Attr.Check] (values are normalised as Check says; an id
// triple must hold its own entity's id, [ErrWrongType]). Cardinality one
// ([ErrCardinality]) and uniqueness ([ErrUniqueViolation]) must hold.
// Repeated keys collapse into one triple with the smallest CreatedAt. Load
// adds nothing: no id triples are inferred. It keeps no reference to
// triples. The loaded triples live in one array, which stays in memory
// while any snapshot derived from this one still holds one of them.
func Load(attrs *Attrs, triples []Triple) (*Snapshot, error) {
	s := NewSnapshot(attrs)
	attrs = s.attrs
	// Check every triple, noting the few values Check rewrites, and sort
	// compact (entity, attribute) keys rather than whole triples: moving
	// 40-byte keys through the sort costs half of moving 72-byte triples.
	changed := map[int32]Value{}
	keys := make([]loadKey, len(triples))
	var last *Attr
	for i := range triples {
		t := &triples[i]
		a := last
		if a == nil || a.ID != t.A {
			var ok bool
			if a, ok = attrs.ByID(t.A); !ok {
				return nil, errs.With("load "+t.String()+": "+ErrUnknownAttr.Error()+": "+t.A.String(), ErrUnknownAttr)
			}
			last = a
		}
		v, err := a.Check(t.V)
		if err != nil {
			return nil, errs.Wrap("load "+t.String(), err)
		}
		if a.Label == IDLabel {
			if id, _ := v.AsEntityID(); id != t.E {
				return nil, errs.With("load "+t.String()+": "+ErrWrongType.Error()+": "+a.Namespace+".id must hold the entity's own id", ErrWrongType)
			}
		}
		if v != t.V {
			changed[int32(i)] = v
		}
		keys[i] = idKey(t.E, t.A, int32(i))
	}
	value := func(i int32) Value {
		if v, ok := changed[i]; ok {
			return v
		}
		return triples[i].V
	}
	cmpKeys := func(x, y loadKey) int {
		if c := cmp.Compare(x.e0, y.e0); c != 0 {
			return c
		}
		if c := cmp.Compare(x.e1, y.e1); c != 0 {
			return c
		}
		if c := cmp.Compare(x.a0, y.a0); c != 0 {
			return c
		}
		if c := cmp.Compare(x.a1, y.a1); c != 0 {
			return c
		}
		return Compare(value(x.i), value(y.i))
	}
	if !slices.IsSortedFunc(keys, cmpKeys) {
		slices.SortFunc(keys, cmpKeys)
	}
	ts := make([]Triple, len(triples))
	for j, k := range keys {
		ts[j] = triples[k.i]
		if len(changed) > 0 {
			ts[j].V = value(k.i)
		}
	}
	keys = nil
	ts = dedupe(ts)
	for i := 1; i < len(ts); i++ {
		p, t := &ts[i-1], &ts[i]
		if p.E == t.E && p.A == t.A {
			if a, _ := attrs.ByID(t.A); a.Cardinality == CardinalityOne {
				return nil, errs.With("load "+t.E.String()+": "+ErrCardinality.Error()+": "+
					a.Namespace+"."+a.Label+" has values "+p.V.String()+" and "+t.V.String(), ErrCardinality)
			}
		}
	}
	fill(s.ix.eav, len(ts), func(i int) *Triple { return &ts[i] })

	// AEV: a stable partition of the EAV order by attribute is in (a, e, v)
	// order already: a counting sort of positions, no comparisons.
	count := map[AttrID]int{}
	for i := range ts {
		count[ts[i].A]++
	}
	ids := make([]AttrID, 0, len(count))
	for id := range count {
		ids = append(ids, id)
	}
	slices.SortFunc(ids, func(x, y AttrID) int { return cmpID(&x, &y) })
	next := make(map[AttrID]int, len(ids))
	byAttr := make(map[AttrID][]int32, len(ids))
	aev := make([]int32, len(ts))
	off := 0
	for _, id := range ids {
		next[id] = off
		byAttr[id] = aev[off : off+count[id]]
		off += count[id]
	}
	for i := range ts {
		a := ts[i].A
		aev[next[a]] = int32(i)
		next[a]++
	}
	fill(s.ix.aev, len(aev), func(i int) *Triple { return &ts[aev[i]] })

	var refs []loadKey // (target, attribute) and position: VAE's order, ties broken by entity
	var ave []*Triple  // the AVE index's triples, in its order
	for _, id := range ids {
		a, _ := attrs.ByID(id)
		flags := a.Flags()
		if flags&FlagVAE != 0 {
			for _, i := range byAttr[id] {
				target, _ := ts[i].V.AsEntityID() // Check let only UUIDs through
				refs = append(refs, idKey(target, id, i))
			}
		}
		if flags&FlagAVE == 0 {
			continue
		}
		part := make([]*Triple, len(byAttr[id]))
		for j, i := range byAttr[id] {
			part[j] = &ts[i]
		}
		slices.SortFunc(part, func(x, y *Triple) int { // cmpAVE within one attribute
			if c := Compare(x.V, y.V); c != 0 {
				return c
			}
			return cmpID(&x.E, &y.E)
		})
		for i, t := range part {
			if a.Unique && i > 0 && part[i-1].V == t.V {
				return nil, errs.With("load "+t.String()+": "+ErrUniqueViolation.Error()+": "+
					a.Namespace+"."+a.Label+" = "+t.V.String()+" is held by "+part[i-1].E.String()+" and "+t.E.String(), ErrUniqueViolation)
			}
		}
		ave = append(ave, part...)
	}
	fill(s.ix.ave, len(ave), func(i int) *Triple { return ave[i] })
	// VAE by parsed target ids: comparing 16-byte ids beats comparing their
	// 36-character strings, and the order is the same. Positions break ties
	// of (target, attribute): ts is in EAV order, so within one attribute a
	// smaller position is a smaller entity (and one entity links to one
	// target once). The keys are loadKeys, so this sort shares the EAV
	// sort's code: one generic instantiation, not two, in the wasm client.
	slices.SortFunc(refs, func(x, y loadKey) int {
		if c := cmp.Compare(x.e0, y.e0); c != 0 {
			return c
		}
		if c := cmp.Compare(x.e1, y.e1); c != 0 {
			return c
		}
		if c := cmp.Compare(x.a0, y.a0); c != 0 {
			return c
		}
		if c := cmp.Compare(x.a1, y.a1); c != 0 {
			return c
		}
		return cmp.Compare(x.i, y.i)
	})
	fill(s.ix.vae, len(refs), func(i int) *Triple { return &ts[refs[i].i] })
	return s, nil
}

// loadKey is a sort key of two ids as big-endian words and a position:
// a triple's EAV key (entity, attribute) and its position in Load's input,
// or a ref triple's VAE key (target, attribute) and its position in Load's
// slice.
type loadKey struct {
	e0, e1, a0, a1 uint64
	i              int32
}

func idKey(e, a EntityID, i int32) loadKey {
	return loadKey{
		e0: binary.BigEndian.Uint64(e[:8]), e1: binary.BigEndian.Uint64(e[8:]),
		a0: binary.BigEndian.Uint64(a[:8]), a1: binary.BigEndian.Uint64(a[8:]),
		i: i,
	}
}

// dedupe collapses runs of equal keys in sorted ts, keeping the smallest
// CreatedAt, in place.
func dedupe(ts []Triple) []Triple {
	if len(ts) < 2 {
		return ts
	}
	out := ts[:1]
	for _, t := range ts[1:] {
		last := &out[len(out)-1]
		if last.E == t.E && last.A == t.A && last.V == t.V {
			last.CreatedAt = min(last.CreatedAt, t.CreatedAt)
			continue
		}
		out = append(out, t)
	}
	return out
}
