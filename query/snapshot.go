package query

import (
	"slices"
	"sort"

	"github.com/triplesync/triplesync/store"
)

// SnapshotSource returns the [Source] over an in-memory snapshot. It answers
// each scan from the snapshot's indexes, stopping as soon as a limited scan
// is full, so an ordered scan over an indexed attribute costs the triples it
// returns, not the size of the store. [Eval] reads the snapshot's own
// triples through pointers rather than the copies Scan returns: a nested
// query's answers cost 8 bytes a triple instead of 72.
func SnapshotSource(s *store.Snapshot) Source { return snapshotSource{s} }

type snapshotSource struct{ s *store.Snapshot }

var _ Source = snapshotSource{}

// Scan implements [Source]: the stored triples, copied.
func (ss snapshotSource) Scan(scans []Scan) ([][]store.Triple, error) {
	ps, err := ss.scanPtrs(scans)
	if err != nil {
		return nil, err
	}
	out := make([][]store.Triple, len(ps))
	for i, ts := range ps {
		if ts == nil {
			continue
		}
		out[i] = make([]store.Triple, len(ts))
		for j, t := range ts {
			out[i][j] = *t
		}
	}
	return out, nil
}

// scanPtrs answers scans with the store's own triples, which the snapshot
// never modifies: the evaluator reads them in place (see ptrSource).
func (ss snapshotSource) scanPtrs(scans []Scan) ([][]*store.Triple, error) {
	out := make([][]*store.Triple, len(scans))
	for i := range scans {
		s := &scans[i]
		if err := s.Validate(); err != nil {
			return nil, err
		}
		if s.Index == VAE {
			if a, ok := ss.s.Attrs().ByID(s.A); !ok || !a.IsRef() {
				return nil, badScan(s, "vae needs a ref attribute")
			}
		}
		c := collector{s: s}
		// A first guess at the answer's size saves most regrowing.
		switch n := len(s.E); {
		case s.Limit > 0:
			// Probes ask for a few hundred and often get a handful.
			c.out = make([]*store.Triple, 0, min(s.Limit, 64))
		case s.Index == EAV && s.A.IsZero():
			c.out = make([]*store.Triple, 0, min(n, 64)*4) // perEntity sizes it as it goes
		case n > 0:
			c.out = make([]*store.Triple, 0, n)
		case len(s.V) > 0:
			c.out = make([]*store.Triple, 0, len(s.V))
		}
		ss.scan(&c)
		out[i] = c.out
	}
	return out, nil
}

// collector applies a scan's filters, After and Limit to a stream of
// triples arriving in the scan's order.
type collector struct {
	s      *Scan
	out    []*store.Triple
	passed bool // After is behind us: the stream is ordered, so no more checks
	// byE and byV say the stream comes entity by entity from E, or target
	// by target from V, so those filters hold already.
	byE, byV bool
}

// selects is [Scan.Selects] without the filters the stream already meets.
func (c *collector) selects(t *store.Triple) bool {
	s := c.s
	if !s.A.IsZero() && t.A != s.A {
		return false
	}
	if !c.byE && s.E != nil && !hasID(s.E, t.E) {
		return false
	}
	if !c.byV && s.V != nil && !containsValue(s.V, t.V) {
		return false
	}
	if (s.Range.HasLo || s.Range.HasHi) && !s.Range.Contains(t.V) {
		return false
	}
	return s.Like == nil || s.Like.MatchValue(t.V)
}

// add takes the next triple of the stream; false means the scan is full.
func (c *collector) add(t *store.Triple) bool {
	if !c.passed && c.s.After != nil {
		a := store.Triple{E: c.s.After.E, A: c.s.After.A, V: c.s.After.V}
		if c.s.compare(t, &a) <= 0 {
			return true
		}
		c.passed = true
	}
	if !c.selects(t) {
		return true
	}
	if len(c.out) == cap(c.out) && len(c.out) >= 64 {
		c.out = slices.Grow(c.out, len(c.out)) // double: append grows large slices by a quarter
	}
	c.out = append(c.out, t)
	return c.s.Limit <= 0 || len(c.out) < c.s.Limit
}

// addSorted sorts a batch gathered out of order and feeds it to add.
func (c *collector) addSorted(ts []*store.Triple) {
	slices.SortFunc(ts, c.s.compare)
	for _, t := range ts {
		if !c.add(t) {
			return
		}
	}
}

// reserve grows the answer ahead of a scan read key by key (entities,
// targets), done of n keys read: when it is nearly full and the triples
// per key so far say the rest will not fit, it makes room for them and an
// eighth more, rather than doubling past the answer's size (or growing
// again for the last few).
func (c *collector) reserve(done, n int) {
	spare := cap(c.out) - len(c.out)
	if done == 0 || spare >= 16 || c.s.Limit > 0 {
		return
	}
	if rest := len(c.out) * (n - done) / done; spare < rest {
		c.out = slices.Grow(c.out, rest+rest/8+16)
	}
}

// full reports whether the scan has its Limit.
func (c *collector) full() bool { return c.s.Limit > 0 && len(c.out) >= c.s.Limit }

func (ss snapshotSource) scan(c *collector) {
	s := c.s
	attr, _ := ss.s.Attrs().ByID(s.A)
	hasAVE := attr != nil && attr.Flags()&store.FlagAVE != 0
	switch {
	case s.Index == EAV || s.E != nil:
		// Few entities named: read each one's triples (in EAV order they
		// come sorted; other orders sort the lot).
		if s.Index == EAV || s.Index == AEV {
			ss.perEntity(c)
			return
		}
		var all []*store.Triple
		for _, e := range s.E {
			ss.s.ScanEntityPtr(e, s.A, func(t *store.Triple) bool {
				all = append(all, t)
				return true
			})
		}
		c.addSorted(all)
	case s.Index == VAE:
		ss.refs(c)
	case s.Index == AVE && hasAVE:
		ss.values(c)
	case s.Index == AEV && (s.V == nil || !hasAVE || s.Limit > 0):
		// In AEV order already, either way: stream from After (the
		// collector drops After itself), stopping at the limit.
		ss.s.ScanAttrFromPtr(s.A, s.After, s.Desc, c.add)
	default:
		// AEV filtered by values of an indexed attribute, or AVE of an
		// attribute without the index: gather and sort.
		var all []*store.Triple
		if hasAVE && s.V != nil {
			for _, v := range s.V {
				ss.s.ScanAttrValuesPtr(s.A, store.Exactly(v), false, func(t *store.Triple) bool {
					all = append(all, t)
					return true
				})
			}
		} else {
			ss.s.ScanAttrPtr(s.A, func(t *store.Triple) bool {
				if s.selects(t) {
					all = append(all, t)
				}
				return true
			})
		}
		c.addSorted(all)
	}
}

// perEntity answers EAV (and AEV restricted to entities) entity by entity,
// starting near After.
func (ss snapshotSource) perEntity(c *collector) {
	s := c.s
	c.byE = true
	es := s.E
	if s.After != nil {
		// Skip the entities wholly before After.
		i := sort.Search(len(es), func(i int) bool { return es[i].Compare(s.After.E) >= 0 })
		if s.Desc {
			es = es[:min(i+1, len(es))]
		} else {
			es = es[i:]
		}
	}
	if !s.Desc {
		ss.walk(c, es)
		return
	}
	var buf []*store.Triple
	gather := func(t *store.Triple) bool {
		buf = append(buf, t)
		return true
	}
	for k := range es {
		e := es[len(es)-1-k]
		c.reserve(k, len(es))
		buf = buf[:0]
		ss.s.ScanEntityPtr(e, s.A, gather)
		for i := len(buf) - 1; i >= 0; i-- {
			if !c.add(buf[i]) {
				return
			}
		}
	}
}

// maxGap is how many triples of entities not asked for a walk reads
// before it seeks to the next entity instead: a seek costs a descent from
// the root, a skipped triple a comparison or two.
const maxGap = 16

// walk answers an ascending per-entity scan of es (sorted) in one pass
// over EAV, seeking again only past gaps of more than maxGap triples: a
// level's candidates often lie close together (all the todos of a few
// users), where seeking each entity costs a descent per entity.
func (ss snapshotSource) walk(c *collector, es []store.EntityID) {
	s := c.s
	j := 0 // es[j] is the entity being read, or the next one wanted
	stop := false
	gap := 0
	fn := func(t *store.Triple) bool {
		for {
			switch ce := cmpID(&t.E, &es[j]); {
			case ce < 0: // before es[j]
				gap++
				return gap <= maxGap
			case ce > 0: // past es[j]
				if j++; j == len(es) {
					return false
				}
				continue
			}
			if s.A.IsZero() {
				break
			}
			switch ca := cmpID(&t.A, &s.A); {
			case ca < 0: // es[j]'s attributes before A
				gap++
				return gap <= maxGap
			case ca > 0: // past es[j]'s A
				if j++; j == len(es) {
					return false
				}
				continue
			}
			break
		}
		gap = 0
		c.reserve(j, len(es))
		stop = !c.add(t)
		return !stop
	}
	for j < len(es) && !stop {
		gap = 0
		// Each seek makes progress: its first triple is es[j]'s, or past it.
		ss.s.ScanFromPtr(es[j], s.A, fn)
		if gap == 0 {
			return // the store ended, or es did
		}
	}
}

// refs answers VAE target by target.
func (ss snapshotSource) refs(c *collector) {
	s := c.s
	c.byV = true
	var buf []*store.Triple
	for k := range s.V {
		v := s.V[k]
		if s.Desc {
			v = s.V[len(s.V)-1-k]
		}
		c.reserve(k, len(s.V))
		target, ok := v.AsEntityID()
		if !ok || store.Ref(target) != v {
			continue
		}
		buf = buf[:0]
		ss.s.ScanRefsPtr(target, s.A, func(t *store.Triple) bool {
			buf = append(buf, t)
			return true
		})
		if s.Desc {
			slices.Reverse(buf)
		}
		for _, t := range buf {
			if !c.add(t) {
				return
			}
		}
	}
}

// values answers AVE of an indexed attribute straight from the index,
// within the narrowest range the filters and After allow.
func (ss snapshotSource) values(c *collector) {
	s := c.s
	if s.V != nil {
		for k := range s.V {
			v := s.V[k]
			if s.Desc {
				v = s.V[len(s.V)-1-k]
			}
			ss.s.ScanAttrValuesPtr(s.A, store.Exactly(v), s.Desc, c.add)
			if c.full() {
				return
			}
		}
		return
	}
	r := s.Range
	if s.Like != nil {
		if pr, ok := s.Like.PrefixRange(); ok {
			r = intersect(r, pr)
		}
	}
	if s.After != nil {
		// Start at After's value: everything before it is skipped anyway.
		at := store.ValueRange{Lo: s.After.V, HasLo: true}
		if s.Desc {
			at = store.ValueRange{Hi: s.After.V, HasHi: true}
		}
		r = intersect(r, at)
	}
	ss.s.ScanAttrValuesPtr(s.A, r, s.Desc, c.add)
}

// intersect returns the values in both ranges.
func intersect(a, b store.ValueRange) store.ValueRange {
	if b.HasLo {
		if c := store.Compare(b.Lo, a.Lo); !a.HasLo || c > 0 || c == 0 && b.LoExclusive {
			a.Lo, a.HasLo, a.LoExclusive = b.Lo, true, b.LoExclusive
		}
	}
	if b.HasHi {
		if c := store.Compare(b.Hi, a.Hi); !a.HasHi || c < 0 || c == 0 && b.HiExclusive {
			a.Hi, a.HasHi, a.HiExclusive = b.Hi, true, b.HiExclusive
		}
	}
	return a
}
