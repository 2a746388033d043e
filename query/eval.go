package query

import (
	"slices"

	"github.com/triplesync/triplesync/store"
)

// Eval evaluates q against src and returns the result tree with the
// triples that justify it (see [Result]).
//
// Each top level is planned on its own:
//
//   - ordered: when the level asks for a first page (limit or first, with
//     an optional offset and after cursor) in an order an index serves (an
//     indexed or unique attribute, or id), it reads the order attribute's
//     index in chunks from the cursor on, checks each chunk's entities
//     against the where clause and stops as soon as it has the page and
//     one entity more. A where clause with a selective part (equality on
//     ids, unique or indexed attributes, links; ranges; likes) is probed
//     first: if it yields few entities they are sorted instead.
//   - full: otherwise the candidates (from the where clause's most
//     selective part, or every entity of the namespace) are all decided,
//     sorted and cut.
//
// Nested levels are evaluated for all the parent entities of a level at
// once: the links of every parent in one scan, then the children's
// decisions, then their fields and their own links.
//
// A Source must answer every stage of one evaluation from one consistent
// state of the data (on Postgres, one REPEATABLE READ transaction).
func Eval(src Source, q *Query) (*Result, error) {
	ev := &evaluator{
		q:        q,
		r:        runner{src: src},
		states:   make([]*levelState, len(q.levels)),
		out:      map[store.TripleKey]store.Triple{},
		included: map[string]map[store.EntityID]bool{},
	}
	for i, l := range q.levels {
		ev.states[i] = &levelState{l: l, d: newDecider(l), nodes: map[store.EntityID]*Entity{}, justified: map[store.EntityID]bool{}}
	}
	res := &Result{Tops: make([]*Page, len(q.tops))}
	done := join(len(q.tops), ev.closure)
	for i, l := range q.tops {
		ev.top(ev.states[l.Index], func(p *Page) {
			res.Tops[i] = p
			done()
		})
	}
	if err := ev.r.run(); err != nil {
		return nil, err
	}
	res.Triples = make([]store.Triple, 0, len(ev.out))
	for _, t := range ev.out {
		res.Triples = append(res.Triples, t)
	}
	slices.SortFunc(res.Triples, func(a, b store.Triple) int { return CompareIndex(EAV, a, b) })
	res.Stages, res.Scans = ev.r.stages, ev.r.sent
	return res, nil
}

type evaluator struct {
	q      *Query
	r      runner
	states []*levelState // by Level.Index
	out    map[store.TripleKey]store.Triple
	// included holds, per namespace, the entities whose id triple is in out:
	// the entities a client can list, which every level over the namespace
	// must be able to decide.
	included map[string]map[store.EntityID]bool
}

type levelState struct {
	l         *Level
	d         *decider
	nodes     map[store.EntityID]*Entity // entities listed at this level
	justified map[store.EntityID]bool    // entities whose decision triples are in out
	// prefetched holds the triples of every candidate of a nested level
	// that lists all its matches (see decider.wide), so expand needs no
	// field scan.
	prefetched map[store.EntityID][]store.Triple
}

// add puts t into the justifying set.
func (ev *evaluator) add(t store.Triple) {
	k := t.Key()
	if _, ok := ev.out[k]; ok {
		return
	}
	ev.out[k] = t
	if a, ok := ev.q.attrs.ByID(t.A); ok && a.Label == store.IDLabel {
		m := ev.included[a.Namespace]
		if m == nil {
			m = map[store.EntityID]bool{}
			ev.included[a.Namespace] = m
		}
		m[t.E] = true
	}
}

// include marks a listed, counted or bounding entity of ls: its id triple
// goes into the result, and the closure adds its decision triples.
func (ev *evaluator) include(ls *levelState, e store.EntityID) {
	for _, t := range ls.d.id.triples[e] {
		ev.add(t)
	}
}

// probeLimit is how many candidates a where clause may yield before the
// ordered plan is preferred to sorting them all.
func probeLimit(l *Level) int {
	return max(probeMin, probeFactor*(l.Page.Offset+l.Page.First+1))
}

// top evaluates a top level and calls k with its page.
func (ev *evaluator) top(ls *levelState, k func(*Page)) {
	l := ls.l
	dr := planDriver(l.Where)
	ordered := canOrder(l)
	full := func(ids []store.EntityID, _ bool) { ev.full(ls, ids, k) }
	switch {
	case dr != nil && ordered:
		dr.run(&ev.r, probeLimit(l), func(ids []store.EntityID, over bool) {
			if over {
				ev.ordered(ls, dr, k)
				return
			}
			ev.full(ls, ids, k)
		})
	case dr != nil:
		dr.run(&ev.r, 0, full)
	case ordered:
		ev.ordered(ls, nil, k)
	default:
		ev.namespace(ls, full)
	}
}

// namespace lists every entity of the level's namespace. The id triples
// read are the decider's: it need not read them again.
func (ev *evaluator) namespace(ls *levelState, k func([]store.EntityID, bool)) {
	ev.r.scan([]Scan{{Index: AEV, A: ls.l.ID.ID}}, func(res [][]store.Triple) {
		if !ls.d.idComplete {
			ls.d.preloadIDs(res[0])
		}
		ids := make([]store.EntityID, 0, len(res[0]))
		for _, t := range res[0] {
			ids = append(ids, t.E)
		}
		k(sortIDs(ids), false)
	})
}

// full decides every candidate, sorts the matches and cuts the page.
func (ev *evaluator) full(ls *levelState, cands []store.EntityID, k func(*Page)) {
	ls.d.fetch(&ev.r, cands, func() {
		var all []Cursor
		for _, e := range cands {
			if ls.d.match(e) {
				all = append(all, ls.d.pos(e))
			}
		}
		sortPositions(all, ls.l.Order.Desc)
		c := cutWindow(len(all), func(i int) Cursor { return all[i] }, &ls.l.Page, ls.l.Order.Desc)
		p := ev.page(ls, all, c, nil)
		ev.expandPages(ls, []*Page{p}, func() { k(p) })
	})
}

// page builds a page from the sorted matches and includes the entities a
// client needs to cut it; link, when set, gives the link triple that
// reaches each entity from the page's parent.
func (ev *evaluator) page(ls *levelState, all []Cursor, c cut, link map[store.EntityID]store.Triple) *Page {
	p := &Page{Level: ls.l}
	incl := func(e store.EntityID) {
		ev.include(ls, e)
		if link != nil {
			ev.add(link[e])
		}
	}
	if ls.l.Count {
		p.Count = len(all)
		for _, x := range all {
			incl(x.E)
		}
		return p
	}
	pos := func(i int) Cursor { return all[i] }
	p.Info = c.info(len(all), pos)
	lo, hi := c.justified(len(all))
	for _, x := range all[lo:hi] {
		incl(x.E)
	}
	p.Entities = make([]*Entity, 0, c.end-c.start)
	for _, x := range all[c.start:c.end] {
		p.Entities = append(p.Entities, &Entity{ID: x.E}) // placeholder until expanded
	}
	return p
}

// expandPages reads the fields and links of the pages' entities, evaluates
// the child levels, and swaps the placeholders for the built entities.
func (ev *evaluator) expandPages(ls *levelState, pages []*Page, k func()) {
	var ids []store.EntityID
	for _, p := range pages {
		for _, e := range p.Entities {
			ids = append(ids, e.ID)
		}
	}
	ev.expand(ls, sortIDs(ids), func() {
		for _, p := range pages {
			for i, e := range p.Entities {
				p.Entities[i] = ls.nodes[e.ID]
			}
		}
		k()
	})
}

// expand builds the entities ids (sorted, unique) of a level: their
// fields, then their child levels.
func (ev *evaluator) expand(ls *levelState, ids []store.EntityID, k func()) {
	l := ls.l
	if len(ids) == 0 {
		k() // no parents: no child pages to build
		return
	}
	var scans []Scan
	switch {
	case ls.prefetched != nil:
	case l.Fields == nil:
		scans = append(scans, Scan{Index: EAV, E: ids})
	default:
		for _, f := range l.Fields {
			scans = append(scans, Scan{Index: EAV, A: f.ID, E: ids})
		}
	}
	nf := len(scans)
	for _, c := range l.Children {
		if c.Reverse {
			scans = append(scans, Scan{Index: VAE, A: c.Link.ID, V: refs(ids)})
		} else {
			scans = append(scans, Scan{Index: EAV, A: c.Link.ID, E: ids})
		}
	}
	ev.r.scan(scans, func(res [][]store.Triple) {
		for _, id := range ids {
			ls.nodes[id] = &Entity{ID: id, Links: make([]*Page, len(l.Children))}
		}
		for _, ts := range res[:nf] {
			ev.addFields(ls, ts)
		}
		if ls.prefetched != nil {
			for _, id := range ids {
				ev.addFields(ls, ls.prefetched[id])
			}
		}
		for _, id := range ids {
			if n := ls.nodes[id]; len(n.Fields) > 1 {
				slices.SortFunc(n.Fields, func(a, b Field) int { return cmpString(a.Attr.Label, b.Attr.Label) })
			}
		}
		done := join(len(l.Children), k)
		for ci, c := range l.Children {
			linked := map[store.EntityID][]store.Triple{}
			for _, t := range res[nf+ci] {
				parent, ok := t.E, true
				if c.Reverse {
					parent, ok = t.V.AsEntityID()
				}
				if ok {
					linked[parent] = append(linked[parent], t)
				}
			}
			ev.nested(ev.states[c.Index], ci, ids, linked, done)
		}
	})
}

// addFields files field triples (in EAV order) on their entities.
func (ev *evaluator) addFields(ls *levelState, ts []store.Triple) {
	for _, t := range ts {
		a, ok := ev.q.attrs.ByID(t.A)
		if !ok || a.Namespace != ls.l.Namespace || a.IsRef() || a.Label == store.IDLabel ||
			ls.l.Fields != nil && !slices.Contains(ls.l.Fields, a) {
			continue
		}
		n := ls.nodes[t.E]
		if n == nil {
			continue
		}
		ev.add(t)
		if k := len(n.Fields); k > 0 && n.Fields[k-1].Attr == a {
			n.Fields[k-1].Values = append(n.Fields[k-1].Values, t.V)
			continue
		}
		n.Fields = append(n.Fields, Field{Attr: a, Values: []store.Value{t.V}})
	}
}

// nested evaluates a child level for every parent at once: linked holds
// each parent's link triples.
func (ev *evaluator) nested(ls *levelState, ci int, parents []store.EntityID, linked map[store.EntityID][]store.Triple, k func()) {
	l := ls.l
	child := func(t store.Triple) (store.EntityID, bool) {
		if l.Reverse {
			return t.E, true
		}
		return t.V.AsEntityID()
	}
	var cands []store.EntityID
	for _, ts := range linked {
		for _, t := range ts {
			if c, ok := child(t); ok {
				cands = append(cands, c)
			}
		}
	}
	if !l.paginated && !l.Count {
		// Every match is listed: read the candidates' fields with their
		// where values, in one stage.
		ls.prefetched = map[store.EntityID][]store.Triple{}
		ls.d.wide = func(ts []store.Triple) {
			for _, t := range ts {
				ls.prefetched[t.E] = append(ls.prefetched[t.E], t)
			}
		}
	}
	ls.d.fetch(&ev.r, sortIDs(cands), func() {
		pnodes := ev.states[l.Parent.Index].nodes
		var pages []*Page
		for _, p := range parents {
			var all []Cursor
			via := map[store.EntityID]store.Triple{}
			for _, t := range linked[p] {
				c, ok := child(t)
				if !ok || !ls.d.match(c) {
					continue
				}
				if _, dup := via[c]; dup {
					continue
				}
				via[c] = t
				all = append(all, ls.d.pos(c))
			}
			sortPositions(all, l.Order.Desc)
			c := cutWindow(len(all), func(i int) Cursor { return all[i] }, &l.Page, l.Order.Desc)
			page := ev.page(ls, all, c, via)
			pnodes[p].Links[ci] = page
			pages = append(pages, page)
		}
		ev.expandPages(ls, pages, k)
	})
}

// closure makes every entity a client could list decidable: for each
// namespace, every level over it gets the decision triples of every entity
// whose id triple is in the result. Decision triples can include id
// triples (a where path ending in "id"), so it repeats until nothing new
// is included.
func (ev *evaluator) closure() {
	before := ev.includedCount()
	var fetches []func(done func())
	for _, ls := range ev.states {
		var todo []store.EntityID
		for e := range ev.included[ls.l.Namespace] {
			if !ls.d.fetched(e) {
				todo = append(todo, e)
			}
		}
		if len(todo) > 0 {
			fetches = append(fetches, func(done func()) { ls.d.fetch(&ev.r, sortIDs(todo), done) })
		}
	}
	done := join(len(fetches), func() {
		for _, ls := range ev.states {
			for e := range ev.included[ls.l.Namespace] {
				if !ls.justified[e] && ls.d.fetched(e) {
					ls.justified[e] = true
					ls.d.justify(e, ev.add)
				}
			}
		}
		if ev.includedCount() != before {
			ev.closure()
		}
	})
	for _, f := range fetches {
		f(done)
	}
}

func (ev *evaluator) includedCount() int {
	n := 0
	for _, m := range ev.included {
		n += len(m)
	}
	return n
}
