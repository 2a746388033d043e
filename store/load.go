package store

import (
	"fmt"
	"slices"
)

// Load builds a snapshot of triples in one pass: the bulk path for a query
// result or a persisted store, much faster than applying add-triple steps.
// Each triple's attribute must be in attrs ([ErrUnknownAttr]) and its value
// must pass [Attr.Check] (values are normalised as Check says; an id
// triple must hold its own entity's id, [ErrWrongType]). Cardinality one
// ([ErrCardinality]) and uniqueness ([ErrUniqueViolation]) must hold.
// Repeated keys collapse into one triple with the smallest CreatedAt. Load
// adds nothing: no id triples are inferred. It keeps no reference to
// triples.
func Load(attrs *Attrs, triples []Triple) (*Snapshot, error) {
	s := NewSnapshot(attrs)
	attrs = s.attrs
	ts := make([]Triple, len(triples))
	for i, t := range triples {
		a, ok := attrs.ByID(t.A)
		if !ok {
			return nil, fmt.Errorf("load %s: %w: %s", t, ErrUnknownAttr, t.A)
		}
		v, err := a.Check(t.V)
		if err != nil {
			return nil, fmt.Errorf("load %s: %w", t, err)
		}
		if a.Label == IDLabel {
			if id, _ := v.AsEntityID(); id != t.E {
				return nil, fmt.Errorf("load %s: %w: %s.id must hold the entity's own id", t, ErrWrongType, a.Namespace)
			}
		}
		t.V = v
		ts[i] = t
	}
	slices.SortFunc(ts, func(x, y Triple) int { return cmpEAV(&x, &y) })
	ts = dedupe(ts)
	for i := 1; i < len(ts); i++ {
		p, t := &ts[i-1], &ts[i]
		if p.E == t.E && p.A == t.A {
			if a, _ := attrs.ByID(t.A); a.Cardinality == CardinalityOne {
				return nil, fmt.Errorf("load %s: %w: %s.%s has values %s and %s",
					t.E, ErrCardinality, a.Namespace, a.Label, p.V, t.V)
			}
		}
	}
	for _, t := range ts {
		s.ix.eav.Load(t)
	}

	// AEV: a stable partition of the EAV order by attribute is in (a, e, v)
	// order already: a counting sort, no comparisons.
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
	byAttr := make(map[AttrID][]Triple, len(ids))
	aev := make([]Triple, len(ts))
	off := 0
	for _, id := range ids {
		next[id] = off
		byAttr[id] = aev[off : off+count[id]]
		off += count[id]
	}
	for _, t := range ts {
		aev[next[t.A]] = t
		next[t.A]++
	}
	for _, t := range aev {
		s.ix.aev.Load(t)
	}
	var refs []Triple
	for _, id := range ids {
		a, _ := attrs.ByID(id)
		flags := a.Flags()
		if flags&FlagVAE != 0 {
			refs = append(refs, byAttr[id]...)
		}
		if flags&FlagAVE == 0 {
			continue
		}
		part := byAttr[id] // AEV is loaded: the part may be re-sorted in place
		slices.SortFunc(part, func(x, y Triple) int { return cmpAVE(&x, &y) })
		for i, t := range part {
			if a.Unique && i > 0 && part[i-1].V == t.V {
				return nil, fmt.Errorf("load %s: %w: %s.%s = %s is held by %s and %s",
					t, ErrUniqueViolation, a.Namespace, a.Label, t.V, part[i-1].E, t.E)
			}
			s.ix.ave.Load(t)
		}
	}
	slices.SortFunc(refs, func(x, y Triple) int { return cmpVAE(&x, &y) })
	for _, t := range refs {
		s.ix.vae.Load(t)
	}
	return s, nil
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
