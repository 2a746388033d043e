package reactor

import (
	"cmp"
	"slices"

	"github.com/triplesync/triplesync/internal/wire"
	"github.com/triplesync/triplesync/query"
	"github.com/triplesync/triplesync/store"
)

// Incremental recomputation: a write of one row into a large live result
// re-evaluates the rows it can reach, not the whole result (issue #8).
// Between two evaluations of a query, its store changes in two ways: the
// server's deltas change base, and the pending mutations replayed over it
// change. recompute hands query.Update the entities whose triples may
// differ: those the deltas name, and those the steps of every mutation
// replayed before or now write, checked against both stores.

// evalTrack is what a query's last evaluation rested on, to tell what
// changed since.
type evalTrack struct {
	muts    []*mutation     // the mutations replayed over base
	base    *store.Snapshot // base then
	tracked *store.Snapshot // the base the deltas below lead to from base
	delta   []store.EntityID
}

// noteDelta records that a refresh's delta turned qs.base into next.
func (c *Core) noteDelta(qs *querySub, next *store.Snapshot, comp *wire.Computation) {
	tr := &qs.track
	if comp.Full || tr.tracked != qs.base || qs.base == nil {
		tr.tracked = nil // a whole new result: evaluate everything
		return
	}
	for _, t := range comp.Added {
		tr.delta = append(tr.delta, t.E)
		if x, ok := t.V.AsEntityID(); ok {
			tr.delta = append(tr.delta, x)
		}
	}
	for _, k := range comp.Removed {
		tr.delta = append(tr.delta, k.E)
		if x, ok := k.V.AsEntityID(); ok {
			tr.delta = append(tr.delta, x)
		}
	}
	tr.tracked = next
}

// evaluate evaluates q over snap, the query's store with the pending
// mutations replayed: incrementally from the last result when what
// changed since is known, else whole.
func (c *Core) evaluate(qs *querySub, q *query.Query, snap *store.Snapshot) (*query.Result, error) {
	muts := c.replayed(qs)
	var res *query.Result
	var err error
	if changed, ok := c.changedSince(qs, q, snap, muts); ok {
		res, err = query.Update(qs.result, qs.evalSnap, snap, q, changed)
	} else {
		res, err = query.EvalTree(query.SnapshotSource(snap), q)
	}
	if err == nil {
		qs.track = evalTrack{muts: muts, base: qs.base, tracked: qs.base}
	}
	return res, err
}

// replayed returns the mutations replay applied over qs's base when it
// was last called (as it chose and pruned them).
func (c *Core) replayed(qs *querySub) []*mutation {
	return qs.replay.muts
}

// changedSince returns the entities whose triples differ between the
// store the last result was evaluated over and snap (and the targets of
// the links that differ), or false when that is not known: no last
// result, another query, a base replaced whole, or a mutation that
// changes attributes.
func (c *Core) changedSince(qs *querySub, q *query.Query, snap *store.Snapshot, muts []*mutation) ([]store.EntityID, bool) {
	old, tr := qs.evalSnap, &qs.track
	if !q.Incremental() || old == nil || qs.result == nil || qs.err != nil || q != qs.evalQuery || tr.base == nil || tr.tracked != qs.base {
		return nil, false
	}
	// Over the same base, the mutations both replays share from the start
	// leave the same state: only the rest can make a difference (a new
	// write appended, the newest rejected).
	was, now := tr.muts, muts
	if tr.base == qs.base {
		p := 0
		for p < len(was) && p < len(now) && was[p] == now[p] {
			p++
		}
		was, now = was[p:], now[p:]
	}
	snaps := []*store.Snapshot{old, snap, tr.base, qs.base}
	cands := slices.Clone(tr.delta)
	for _, ms := range [][]*mutation{was, now} {
		for _, m := range ms {
			var ok bool
			if cands, ok = stepEntities(cands, m.Steps, snaps); !ok {
				return nil, false
			}
		}
	}
	cands = sortUnique(cands)
	var changed []store.EntityID
	for _, e := range cands {
		changed = diffEntity(changed, old, snap, e)
	}
	return changed, true
}

// stepEntities appends the entities steps may write, resolving lookups in
// every one of snaps (a delete-entity writes the entity, those linking to
// it and those its cascades delete); false for steps that change the
// schema.
func stepEntities(dst []store.EntityID, steps []store.Step, snaps []*store.Snapshot) ([]store.EntityID, bool) {
	ok := true
	lookup := func(l *store.LookupRef) {
		dst = append(dst, store.LookupEntityID(l.A, l.V))
		for _, s := range snaps {
			indexed := s.ScanAttrValues(l.A, store.Exactly(l.V), false, func(t store.Triple) bool {
				dst = append(dst, t.E)
				return true
			})
			if !indexed {
				if _, known := s.Attrs().ByID(l.A); known {
					ok = false // a lookup on an attribute without AVE: not resolved here
				}
			}
		}
	}
	for i := range steps {
		st := &steps[i]
		switch st.Op {
		case store.OpAddTriple, store.OpDeepMergeTriple, store.OpRetractTriple:
		case store.OpDeleteEntity:
			start := len(dst)
			if st.Lookup != nil {
				lookup(st.Lookup)
			} else {
				dst = append(dst, st.E)
			}
			for _, e := range dst[start:] {
				dst = deleted(dst, e, snaps, map[store.EntityID]bool{})
			}
			continue
		default:
			return dst, false
		}
		if st.Lookup != nil {
			lookup(st.Lookup)
		} else {
			dst = append(dst, st.E)
		}
		if st.ValueLookup != nil {
			lookup(st.ValueLookup)
		} else if x, ok := st.V.AsEntityID(); ok {
			dst = append(dst, x)
		}
	}
	return dst, ok
}

// deleted appends what deleting e may change besides e: the entities
// linking to it (their links go), and those a cascading link deletes,
// recursively, in any of snaps.
func deleted(dst []store.EntityID, e store.EntityID, snaps []*store.Snapshot, seen map[store.EntityID]bool) []store.EntityID {
	if seen[e] {
		return dst
	}
	seen[e] = true
	for _, s := range snaps {
		s.ScanRefs(e, store.AttrID{}, func(t store.Triple) bool {
			dst = append(dst, t.E)
			if a, ok := s.Attrs().ByID(t.A); ok && a.OnDeleteCascade {
				dst = deleted(dst, t.E, snaps, seen)
			}
			return true
		})
	}
	return dst
}

// diffEntity appends e when its triples differ between a and b (CreatedAt
// aside), with the targets of the links that differ.
func diffEntity(dst []store.EntityID, a, b *store.Snapshot, e store.EntityID) []store.EntityID {
	ta, tb := entityTriples(a, e), entityTriples(b, e)
	if len(ta) == len(tb) {
		same := true
		for i := range ta {
			if ta[i].Key() != tb[i].Key() {
				same = false
				break
			}
		}
		if same {
			return dst
		}
	}
	dst = append(dst, e)
	// Both are in EAV order: a merge walk finds the triples in one only.
	i, j := 0, 0
	target := func(t store.Triple, attrs *store.Attrs) {
		if at, ok := attrs.ByID(t.A); ok && at.IsRef() {
			if x, ok := t.V.AsEntityID(); ok {
				dst = append(dst, x)
			}
		}
	}
	for i < len(ta) || j < len(tb) {
		switch {
		case j == len(tb):
			target(ta[i], a.Attrs())
			i++
		case i == len(ta):
			target(tb[j], b.Attrs())
			j++
		default:
			switch cmp := query.CompareIndex(query.EAV, ta[i], tb[j]); {
			case cmp < 0:
				target(ta[i], a.Attrs())
				i++
			case cmp > 0:
				target(tb[j], b.Attrs())
				j++
			default:
				i++
				j++
			}
		}
	}
	return dst
}

func entityTriples(s *store.Snapshot, e store.EntityID) []store.Triple {
	var out []store.Triple
	s.ScanEntity(e, store.AttrID{}, func(t store.Triple) bool {
		out = append(out, t)
		return true
	})
	return out
}

func sortUnique(ids []store.EntityID) []store.EntityID {
	slices.SortFunc(ids, func(a, b store.EntityID) int { return a.Compare(b) })
	return slices.Compact(ids)
}

// patchBase applies a refresh's delta to qs.base in place of reloading
// the whole result: removed triples (and the old versions of those added
// again) are retracted, then the added ones written, a batch per
// CreatedAt so that each keeps its own. That costs the size of the delta,
// not of the result. Apply writes by its own rules (it checks values and
// uniqueness and gives an entity its id triple), so the entities the
// delta touches are then compared with what the delta says they hold;
// false (the caller reloads the whole result) when they differ, when the
// delta names an attribute the registry lacks, or when triples are kept
// aside for want of their attributes.
func patchBase(qs *querySub, comp *wire.Computation) (*store.Snapshot, bool) {
	base := qs.base
	if comp.Full || base == nil || len(qs.unknown) > 0 {
		return nil, false
	}
	attrs := base.Attrs()
	touched := map[store.EntityID]bool{}
	var retract []store.Step
	drop := make(map[store.TripleKey]bool, len(comp.Added)+len(comp.Removed))
	for _, k := range comp.Removed {
		if _, ok := attrs.ByID(k.A); !ok {
			return nil, false
		}
		drop[k] = true
		touched[k.E] = true
		retract = append(retract, store.Step{Op: store.OpRetractTriple, E: k.E, A: k.A, V: k.V})
	}
	// The batches by CreatedAt, sorted as pointers: a slice of int64s or
	// triples would cost the wasm client a sort instantiation of its own,
	// some 12 and 20 KB, for a path that sorts a handful.
	type batch struct {
		at    int64
		steps []store.Step
	}
	byTime := map[int64]*batch{}
	var batches []*batch
	for _, t := range comp.Added {
		if _, ok := attrs.ByID(t.A); !ok {
			return nil, false
		}
		k := t.Key()
		if !drop[k] && base.Has(k) {
			retract = append(retract, store.Step{Op: store.OpRetractTriple, E: k.E, A: k.A, V: k.V})
		}
		drop[k] = true
		touched[t.E] = true
		b := byTime[t.CreatedAt]
		if b == nil {
			b = &batch{at: t.CreatedAt}
			byTime[t.CreatedAt] = b
			batches = append(batches, b)
		}
		b.steps = append(b.steps, store.Step{Op: store.OpAddTriple, E: t.E, A: t.A, V: t.V})
	}
	next, err := base.Apply(retract, 0)
	if err != nil {
		return nil, false
	}
	slices.SortFunc(batches, func(x, y *batch) int { return cmp.Compare(x.at, y.at) })
	for _, b := range batches {
		if next, err = next.Apply(b.steps, b.at); err != nil {
			return nil, false
		}
	}
	// What each touched entity must hold: its triples in base less the
	// dropped keys, and the added triples.
	want := map[store.EntityID][]store.Triple{}
	for e := range touched {
		base.ScanEntity(e, store.AttrID{}, func(t store.Triple) bool {
			if !drop[t.Key()] {
				want[e] = append(want[e], t)
			}
			return true
		})
	}
	for _, t := range comp.Added {
		want[t.E] = append(want[t.E], t)
	}
	for e := range touched {
		w := want[e]
		ws := make([]*store.Triple, len(w))
		for i := range w {
			ws[i] = &w[i]
		}
		slices.SortFunc(ws, func(a, b *store.Triple) int { return query.CompareIndex(query.EAV, *a, *b) })
		got := entityTriples(next, e)
		if len(ws) != len(got) {
			return nil, false
		}
		for i, t := range ws {
			if *t != got[i] {
				return nil, false
			}
		}
	}
	return next, true
}
