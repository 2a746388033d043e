package query

import (
	"github.com/triplesync/triplesync/store"
)

// The ordered plan reads a top level's entities in order from an index and
// stops once it has the page: the path that keeps "where + order + limit"
// over a large namespace as cheap as the page itself.

// maxChunk bounds one ordered scan's limit.
const maxChunk = 1 << 14

// Tuning of the plans; variables so that tests can shrink them and drive
// every path (many chunks, fallbacks) on small data.
var (
	probeMin    = 256 // candidates a where clause may yield before the ordered plan is preferred...
	probeFactor = 4   // ...or this many times the entities the page needs, if more
	minChunk    = 32  // smallest forward chunk of the ordered plan
	backChunk   = 32  // first backward chunk looking for the entity before an after cursor
)

// nonNull is the range of every value but null: nulls count as missing
// values, which sort after the indexed ones.
var nonNull = store.ValueRange{Lo: store.Null(), HasLo: true, LoExclusive: true}

// canOrder reports whether the ordered plan can serve l: it asks for a
// first page, forward from the start or from an "after" cursor among the
// values, in an order an index serves (an attribute with AVE, or id, whose
// AEV order is the id order, read either way).
func canOrder(l *Level) bool {
	w := &l.Page
	if l.Count || !w.HasFirst || w.HasLast || w.Before != nil {
		return false
	}
	a := l.Order.Attr
	indexed := a.Flags()&store.FlagAVE != 0
	if !indexed && a != l.ID {
		return false // without AVE only the id order has an index, AEV
	}
	if w.After != nil {
		if w.After.Missing {
			return false
		}
		if !indexed && w.After.V != store.Ref(w.After.E) {
			return false // an id order cursor from elsewhere: no AEV key for it
		}
	}
	return true
}

// orderScan is the scan of l's order, forward.
func orderScan(l *Level) Scan {
	a := l.Order.Attr
	if a.Flags()&store.FlagAVE != 0 {
		return Scan{Index: AVE, A: a.ID, Desc: l.Order.Desc, Range: nonNull}
	}
	return Scan{Index: AEV, A: a.ID, Desc: l.Order.Desc}
}

// keyOf is the index key of a position in l's order scan.
func keyOf(l *Level, c Cursor) *store.TripleKey {
	return &store.TripleKey{E: c.E, A: l.Order.Attr.ID, V: c.V}
}

// ordered runs the ordered plan, falling back to the full plan (with the
// driver's candidates, or the namespace) when the index runs out before
// the page is full: the entities without a value, which sort last, are
// then needed.
func (ev *evaluator) ordered(ls *levelState, dr *driver, k func(*Page)) {
	l, w := ls.l, &ls.l.Page
	base := orderScan(l)
	need := w.Offset + w.First + 1
	var found []Cursor
	var prev *Cursor
	fallback := false

	probePrev := w.After != nil && w.Offset == 0
	chains := 1
	if probePrev {
		chains = 2
	}
	done := join(chains, func() {
		if fallback {
			if dr != nil {
				dr.run(&ev.r, 0, func(ids []store.EntityID, _ bool) { ev.full(ls, ids, false, k) })
			} else {
				ev.namespace(ls, func(ids []store.EntityID, _ bool) { ev.full(ls, ids, true, k) })
			}
			return
		}
		var all []Cursor
		if prev != nil {
			all = append(all, *prev)
		}
		off := len(all)
		all = append(all, found[:min(len(found), need)]...)
		start := min(off+w.Offset, len(all))
		c := cut{start: start, end: min(start+w.First, len(all)), from: off}
		if w.Offset == 0 {
			c.from = c.start
		}
		p := ev.page(ls, all, c, nil)
		ev.expandPages(ls, []*Page{p}, func() { k(p) })
	})

	// Forward from the cursor until the page and one more are found.
	chunk := max(minChunk, 2*need)
	var step func(after *store.TripleKey)
	step = func(after *store.TripleKey) {
		s := base
		s.After, s.Limit = after, chunk
		ev.r.scan([]Scan{s}, func(res [][]*store.Triple) {
			ts := res[0]
			ls.d.fetch(&ev.r, entitiesOf(ts), func() {
				for _, t := range ts {
					if ls.d.match(t.E) {
						found = append(found, ls.d.pos(t.E))
						if len(found) == need {
							break
						}
					}
				}
				switch {
				case len(found) >= need:
					done()
				case len(ts) < chunk:
					// The index ran out. Ordered by id, every member
					// was in it: the page is what was found (unless an
					// offset after a cursor skipped past every match:
					// whether any lies before the cursor is then
					// unknown). Otherwise the members without a value
					// come last, and only the full plan finds them.
					fallback = l.Order.Attr != l.ID || w.After != nil && w.Offset > 0 && len(found) == 0
					done()
				default:
					last := ts[len(ts)-1].Key()
					chunk = min(2*chunk, maxChunk)
					step(&last)
				}
			})
		})
	}
	var start *store.TripleKey
	if w.After != nil {
		start = keyOf(l, *w.After)
	}
	step(start)

	if !probePrev {
		return
	}
	// Backward from the cursor for the one matching entity before the page
	// (hasPreviousPage), starting with the cursor's own entity, which sits
	// exactly at the cursor if its value has not changed.
	c := *w.After
	ls.d.fetch(&ev.r, []store.EntityID{c.E}, func() {
		if ls.d.match(c.E) && comparePos(ls.d.pos(c.E), c, l.Order.Desc) == 0 {
			p := ls.d.pos(c.E)
			prev = &p
			done()
			return
		}
		rchunk := backChunk
		var back func(after *store.TripleKey)
		back = func(after *store.TripleKey) {
			s := base
			s.Desc = !s.Desc
			s.After, s.Limit = after, rchunk
			ev.r.scan([]Scan{s}, func(res [][]*store.Triple) {
				ts := res[0]
				ls.d.fetch(&ev.r, entitiesOf(ts), func() {
					for _, t := range ts {
						if ls.d.match(t.E) {
							p := ls.d.pos(t.E)
							prev = &p
							done()
							return
						}
					}
					if len(ts) < rchunk {
						done() // nothing before the cursor
						return
					}
					last := ts[len(ts)-1].Key()
					rchunk = min(2*rchunk, maxChunk)
					back(&last)
				})
			})
		}
		back(keyOf(l, c))
	})
}

// entitiesOf returns the sorted, unique entities of ts.
func entitiesOf(ts []*store.Triple) []store.EntityID {
	ids := make([]store.EntityID, len(ts))
	for i, t := range ts {
		ids[i] = t.E
	}
	return sortIDs(ids)
}
