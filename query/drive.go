package query

import (
	"github.com/triplesync/triplesync/store"
)

// A driver finds a superset of a top level's matching entities from its
// where clause through value scans, so that the evaluator need not list the
// whole namespace. The decider then checks each candidate.
type driver struct {
	kind CondKind // CondAnd never occurs: an and is driven by one part
	leaf *Leaf
	subs []*driver
	rank int // lower is expected to be more selective
}

// planDriver returns the cheapest driver of c, or nil when c has no
// drivable part: negations and "no value" conditions match entities that
// hold nothing to scan for.
func planDriver(c *Cond) *driver {
	if c == nil {
		return nil
	}
	switch c.Kind {
	case CondLeaf:
		rank, ok := leafRank(c.Leaf)
		if !ok {
			return nil
		}
		return &driver{kind: CondLeaf, leaf: c.Leaf, rank: rank}
	case CondAnd:
		var best *driver
		for _, s := range c.Subs {
			if d := planDriver(s); d != nil && (best == nil || d.rank < best.rank) {
				best = d
			}
		}
		return best
	default:
		if len(c.Subs) == 0 {
			return nil // an empty or matches nothing; nothing to scan either
		}
		d := &driver{kind: CondOr}
		for _, s := range c.Subs {
			sd := planDriver(s)
			if sd == nil {
				return nil
			}
			d.subs = append(d.subs, sd)
			d.rank = max(d.rank, sd.rank)
		}
		return d
	}
}

// leafRank ranks a drivable leaf: equality on ids first, then on unique
// attributes and links, then indexed, then ranges; each hop costs one.
func leafRank(lf *Leaf) (int, bool) {
	p := lf.Pred
	a := lf.Attr
	var rank int
	switch {
	case p.Op == OpIn && !p.Null:
		switch {
		case !lf.Reverse && a.Label == store.IDLabel:
			rank = 0
		case a.Unique && !lf.Reverse:
			rank = 1
		case a.IsRef():
			rank = 2
		case a.Indexed:
			rank = 3
		default:
			rank = 4
		}
	case p.Op == OpIsNull && !p.Null:
		rank = 8
	case p.Op == OpIn || p.Op == OpNotIn || p.Op == OpIsNull:
		return 0, false
	default: // comparisons and likes
		if a.Flags()&store.FlagAVE != 0 {
			rank = 5
		} else {
			rank = 6
		}
	}
	return rank + 2*len(lf.Hops), true
}

// run finds the candidates. With limit above zero every scan stops after
// limit+1 triples, and overflow reports that some scan (or the candidate
// set) went past limit, so the candidates are incomplete.
func (dr *driver) run(r *runner, limit int, k func(ids []store.EntityID, overflow bool)) {
	if dr.kind == CondOr {
		var all []store.EntityID
		over := false
		done := join(len(dr.subs), func() {
			all = sortIDs(all)
			k(all, over || limit > 0 && len(all) > limit)
		})
		for _, s := range dr.subs {
			s.run(r, limit, func(ids []store.EntityID, o bool) {
				all = append(all, ids...)
				over = over || o
				done()
			})
		}
		return
	}
	lf := dr.leaf
	scanLimit := 0
	if limit > 0 {
		scanLimit = limit + 1
	}
	// The entities at the end of the path whose final values can satisfy
	// the predicate.
	ends := func(k2 func([]store.EntityID, bool)) {
		p := lf.Pred
		a := lf.Attr
		if lf.Reverse {
			// The values are the ids of the entities linking in: for
			// equality they are given, so read their links; for "has
			// some", every link of the attribute.
			s := Scan{Index: AEV, A: a.ID, Limit: scanLimit}
			if p.Op == OpIn {
				s = Scan{Index: EAV, A: a.ID, E: entityIDs(p.Values)}
			}
			r.scan([]Scan{s}, func(res [][]*store.Triple) {
				var xs []store.EntityID
				for _, t := range res[0] {
					if x, ok := t.V.AsEntityID(); ok {
						xs = append(xs, x)
					}
				}
				k2(sortIDs(xs), limit > 0 && len(res[0]) > limit)
			})
			return
		}
		if p.Op == OpIn && a.Label == store.IDLabel {
			k2(entityIDs(p.Values), false)
			return
		}
		s := Scan{Index: AEV, A: a.ID, Limit: scanLimit}
		if a.Flags()&store.FlagAVE != 0 {
			s.Index = AVE
		}
		switch p.Op {
		case OpIn:
			s.V = p.Values
			if a.IsRef() {
				s.Index = VAE // the reverse index finds a link's sources
			}
		case OpIsNull:
			s.Range = store.ValueRange{Lo: store.Null(), HasLo: true, LoExclusive: true}
		case OpLike, OpILike:
			s.Like = p.Like
			if rg, ok := p.Range(); ok {
				s.Range = rg
			}
		default:
			s.Range, _ = p.Range()
		}
		r.scan([]Scan{s}, func(res [][]*store.Triple) {
			xs := make([]store.EntityID, 0, len(res[0]))
			for _, t := range res[0] {
				xs = append(xs, t.E)
			}
			k2(sortIDs(xs), limit > 0 && len(res[0]) > limit)
		})
	}
	ends(func(xs []store.EntityID, over bool) {
		dr.walkBack(r, len(lf.Hops)-1, xs, over, limit, k)
	})
}

// walkBack follows the leaf's hops from the end of the path back to the
// level's entities.
func (dr *driver) walkBack(r *runner, i int, ys []store.EntityID, over bool, limit int, k func([]store.EntityID, bool)) {
	if i < 0 || over || len(ys) == 0 {
		k(ys, over)
		return
	}
	h := dr.leaf.Hops[i]
	scanLimit := 0
	if limit > 0 {
		scanLimit = limit + 1
	}
	var s Scan
	if h.Reverse {
		// [y link x]: the entities before the hop are the values.
		s = Scan{Index: EAV, A: h.Attr.ID, E: ys, Limit: scanLimit}
	} else {
		// [x link y]: the entities before the hop hold the links.
		s = Scan{Index: VAE, A: h.Attr.ID, V: refs(ys), Limit: scanLimit}
	}
	r.scan([]Scan{s}, func(res [][]*store.Triple) {
		xs := make([]store.EntityID, 0, len(res[0]))
		for _, t := range res[0] {
			if h.Reverse {
				if x, ok := t.V.AsEntityID(); ok {
					xs = append(xs, x)
				}
			} else {
				xs = append(xs, t.E)
			}
		}
		dr.walkBack(r, i-1, sortIDs(xs), limit > 0 && len(res[0]) > limit, limit, k)
	})
}

// entityIDs returns the entity ids among ref values, sorted.
func entityIDs(vals []store.Value) []store.EntityID {
	out := make([]store.EntityID, 0, len(vals))
	for _, v := range vals {
		if id, ok := v.AsEntityID(); ok {
			out = append(out, id)
		}
	}
	return sortIDs(out)
}
