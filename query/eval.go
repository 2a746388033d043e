package query

import (
	"encoding/binary"
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
	return eval(src, q, true)
}

// EvalTree is Eval without the justifying triples: its Result has the
// tree and page infos Eval gives and nil Triples, as [Update]'s has. It
// serves clients, which show results and never send their triples, and
// spares them sorting and copying those triples.
func EvalTree(src Source, q *Query) (*Result, error) {
	return eval(src, q, false)
}

func eval(src Source, q *Query, triples bool) (*Result, error) {
	ev := &evaluator{
		q:        q,
		r:        runner{src: src},
		states:   make([]*levelState, len(q.levels)),
		included: map[string]map[store.EntityID]bool{},
	}
	for i, l := range q.levels {
		ls := &levelState{l: l, d: newDecider(l)}
		for _, a := range q.attrs.Namespace(l.Namespace) {
			if !a.IsRef() && a.Label != store.IDLabel && (l.Fields == nil || slices.Contains(l.Fields, a)) {
				ls.fields = append(ls.fields, a)
			}
		}
		ev.states[i] = ls
		if !slices.Contains(ev.idAttrs, l.ID) {
			ev.idAttrs = append(ev.idAttrs, l.ID)
		}
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
	if triples {
		n := 0
		for _, c := range ev.out {
			n += len(c)
		}
		res.Triples = sortTriples(ev.out, n)
	}
	res.Stages, res.Scans = ev.r.stages, ev.r.sent
	return res, nil
}

type evaluator struct {
	q      *Query
	r      runner
	states []*levelState // by Level.Index
	// out collects the justifying triples, duplicates and all, in chunks
	// (growing one slice would copy it over and over); Eval sorts and
	// compacts them.
	out [][]*store.Triple
	// idAttrs are the id attributes of the query's namespaces.
	idAttrs []*store.Attr
	// included holds, per namespace, the entities whose id triple is in out:
	// the entities a client can list, which every level over the namespace
	// must be able to decide.
	included map[string]map[store.EntityID]bool
}

type levelState struct {
	l         *Level
	d         *decider
	ents      []Entity                // entities listed at this level, by id
	justified map[store.EntityID]bool // entities whose decision triples are in out
	fields    []*store.Attr           // the attributes returned for each entity
	// prefetched holds all the triples of every candidate of a nested level
	// that lists all its matches (see decider.wide), as scan answers in EAV
	// order, so expand needs no field scan.
	prefetched [][]*store.Triple
}

// add puts t into the justifying set. t points into a scan's answer, or
// is a stored triple of an in-memory source (see ptrSource): either lives
// as long as the evaluation; Eval copies the triples out once sorted.
func (ev *evaluator) add(t *store.Triple) {
	if k := len(ev.out); k == 0 || len(ev.out[k-1]) == cap(ev.out[k-1]) {
		ev.out = append(ev.out, make([]*store.Triple, 0, 512<<min(k, 4)))
	}
	last := &ev.out[len(ev.out)-1]
	*last = append(*last, t)
	for _, a := range ev.idAttrs {
		if a.ID == t.A {
			m := ev.included[a.Namespace]
			if m == nil {
				m = map[store.EntityID]bool{}
				ev.included[a.Namespace] = m
			}
			m[t.E] = true
			return
		}
	}
}

// include puts a listed, counted or bounding entity of ls into the result:
// its id triple and the triples its decision at ls rests on.
func (ev *evaluator) include(ls *levelState, e store.EntityID) {
	if !ls.justified[e] {
		if ls.justified == nil {
			ls.justified = map[store.EntityID]bool{}
		}
		ls.justified[e] = true
		ls.d.justify(e, ev.add) // its id triple among them
	}
}

// reserve sizes ls's justified set and its namespace's included set for
// the n entities a page is about to include, unless they exist already
// (a nested level sizes them for all its candidates, more than one page):
// it spares their rehashing as they grow. A few fit a map's first group.
func (ev *evaluator) reserve(ls *levelState, n int) {
	if n <= 8 {
		return
	}
	if ls.justified == nil {
		ls.justified = make(map[store.EntityID]bool, n)
	}
	if ns := ls.l.Namespace; ev.included[ns] == nil {
		ev.included[ns] = make(map[store.EntityID]bool, n)
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
	full := func(ids []store.EntityID, _ bool) { ev.full(ls, ids, false, k) }
	switch {
	case dr != nil && ordered:
		dr.run(&ev.r, probeLimit(l), func(ids []store.EntityID, over bool) {
			if over {
				ev.ordered(ls, dr, k)
				return
			}
			ev.full(ls, ids, false, k)
		})
	case dr != nil:
		dr.run(&ev.r, 0, full)
	case ordered:
		ev.ordered(ls, nil, k)
	default:
		ev.namespace(ls, func(ids []store.EntityID, _ bool) { ev.full(ls, ids, true, k) })
	}
}

// namespace lists every entity of the level's namespace. The id triples
// read are the decider's: it need not read them again.
func (ev *evaluator) namespace(ls *levelState, k func([]store.EntityID, bool)) {
	ev.r.scan([]Scan{{Index: AEV, A: ls.l.ID.ID}}, func(res [][]*store.Triple) {
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

// full decides every candidate, sorts the matches and cuts the page. whole
// says the candidates are the whole namespace.
func (ev *evaluator) full(ls *levelState, cands []store.EntityID, whole bool, k func(*Page)) {
	fetch := ls.d.fetch
	if whole {
		fetch = ls.d.fetchWhole
	}
	fetch(&ev.r, cands, func() {
		// At most every candidate matches: one allocation instead of an
		// append's regrowing, which copies a large list about five times
		// over (where + unindexed order over 100k todos: 16 MB a query).
		all := make([]Cursor, 0, len(cands))
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
// client needs to cut it; link, when set, includes the link triple that
// reaches all[i] from the page's parent.
func (ev *evaluator) page(ls *levelState, all []Cursor, c cut, link func(i int)) *Page {
	p := &Page{Level: ls.l}
	incl := func(i int) {
		ev.include(ls, all[i].E)
		if link != nil {
			link(i)
		}
	}
	if ls.l.Count {
		p.Count = len(all)
		ev.reserve(ls, len(all))
		for i := range all {
			incl(i)
		}
		return p
	}
	pos := func(i int) Cursor { return all[i] }
	p.Info = c.info(len(all), pos)
	lo, hi := c.justified(len(all))
	ev.reserve(ls, hi-lo)
	for i := lo; i < hi; i++ {
		incl(i)
	}
	p.ids = make([]store.EntityID, 0, c.end-c.start)
	for _, x := range all[c.start:c.end] {
		p.ids = append(p.ids, x.E)
	}
	return p
}

// expandPages builds the pages' entities: their fields and links, and the
// child levels.
func (ev *evaluator) expandPages(ls *levelState, pages []*Page, k func()) {
	n := 0
	for _, p := range pages {
		n += len(p.ids)
	}
	ids := make([]store.EntityID, 0, n)
	for _, p := range pages {
		ids = append(ids, p.ids...)
	}
	ev.expand(ls, sortIDs(ids), func() {
		for _, p := range pages {
			p.Entities = make([]*Entity, len(p.ids))
			for i, id := range p.ids {
				p.Entities[i] = ls.entity(id)
			}
			p.ids = nil
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
	ev.r.scan(scans, func(res [][]*store.Triple) {
		sources := res[:nf]
		if ls.prefetched != nil {
			sources = ls.prefetched
		}
		ev.build(ls, ids, sources)
		done := join(len(l.Children), k)
		for ci, c := range l.Children {
			linked := map[store.EntityID][]*store.Triple{}
			fileRuns(linked, res[nf+ci], func(t *store.Triple) (store.EntityID, bool) {
				if c.Reverse {
					return t.V.AsEntityID()
				}
				return t.E, true
			})
			ev.nested(ev.states[c.Index], ci, ids, linked, done)
		}
	})
}

// build makes the entities ids (sorted) of a level from their field
// triples: sources are scan answers in EAV order, each holding some
// attributes of some of the entities, so one merge walk over the entities
// and the sources files every triple without maps. Entities, fields and
// values are carved from three slabs: a level's entities cost a handful of
// allocations, not a few per entity.
func (ev *evaluator) build(ls *levelState, ids []store.EntityID, sources [][]*store.Triple) {
	l := ls.l
	n := 0 // an upper bound of the field values
	for _, src := range sources {
		for i := range src {
			if ls.field(src[i].A) != nil {
				n++
			}
		}
	}
	ents := make([]Entity, len(ids))
	ls.ents = ents
	links := make([]*Page, len(ids)*len(l.Children))
	fields := make([]Field, 0, n)
	vals := make([]store.Value, 0, n)
	at := make([]int, len(sources)) // each source's cursor
	// Each returned attribute's place in label order: entities list their
	// fields by label, and ranks sort them without comparing strings.
	rank := make([]int, len(ls.fields))
	for i, f := range ls.fields {
		for _, g := range ls.fields {
			if cmpString(g.Label, f.Label) < 0 {
				rank[i]++
			}
		}
	}
	rankOf := func(a *store.Attr) int {
		for i, f := range ls.fields {
			if f == a {
				return rank[i]
			}
		}
		return len(rank)
	}
	for i, id := range ids {
		e := &ents[i]
		e.ID = id
		e.Links = links[i*len(l.Children) : (i+1)*len(l.Children) : (i+1)*len(l.Children)]
		f0 := len(fields)
		for si, src := range sources {
			j := at[si]
			for j < len(src) && cmpID(&src[j].E, &id) < 0 {
				j++
			}
			for ; j < len(src) && src[j].E == id; j++ {
				t := src[j]
				a := ls.field(t.A)
				if a == nil {
					continue
				}
				ev.add(t)
				if k := len(fields); k > f0 && fields[k-1].Attr == a {
					vals = append(vals, t.V) // right after the field's values: vals never grows
					fields[k-1].Values = fields[k-1].Values[:len(fields[k-1].Values)+1]
					continue
				}
				vals = append(vals, t.V)
				fields = append(fields, Field{Attr: a, Values: vals[len(vals)-1:]})
			}
			at[si] = j
		}
		e.Fields = fields[f0:len(fields):len(fields)]
		for fi := range e.Fields {
			e.Fields[fi].Values = slices.Clip(e.Fields[fi].Values)
		}
		// Insertion sort by rank: an entity has a handful of fields.
		for x := 1; x < len(e.Fields); x++ {
			f, r := e.Fields[x], rankOf(e.Fields[x].Attr)
			y := x
			for ; y > 0 && rankOf(e.Fields[y-1].Attr) > r; y-- {
				e.Fields[y] = e.Fields[y-1]
			}
			e.Fields[y] = f
		}
	}
}

// entity returns the built entity id of the level.
func (ls *levelState) entity(id store.EntityID) *Entity {
	// By index, not slices.BinarySearchFunc: that passes each probed
	// Entity (64 bytes) by value.
	lo, hi := 0, len(ls.ents)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if cmpID(&ls.ents[m].ID, &id) < 0 {
			lo = m + 1
		} else {
			hi = m
		}
	}
	assert(lo < len(ls.ents) && ls.ents[lo].ID == id, "entity not built")
	return &ls.ents[lo]
}

// field returns the returned attribute with id a, or nil. A namespace has
// a handful of attributes: a scan beats hashing.
func (ls *levelState) field(a store.AttrID) *store.Attr {
	for _, f := range ls.fields {
		if f.ID == a {
			return f
		}
	}
	return nil
}

// linkedMatch is a matching child of one parent and the link reaching it.
type linkedMatch struct {
	pos  Cursor
	link *store.Triple
}

// nested evaluates a child level for every parent at once: linked holds
// each parent's link triples.
func (ev *evaluator) nested(ls *levelState, ci int, parents []store.EntityID, linked map[store.EntityID][]*store.Triple, k func()) {
	l := ls.l
	child := func(t *store.Triple) (store.EntityID, bool) {
		if l.Reverse {
			return t.E, true
		}
		return t.V.AsEntityID()
	}
	n := 0
	for _, ts := range linked {
		n += len(ts)
	}
	cands := make([]store.EntityID, 0, n)
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
		ls.prefetched = [][]*store.Triple{}
		ls.d.wide = func(ts []*store.Triple) { ls.prefetched = append(ls.prefetched, ts) }
	}
	cands = sortIDs(cands)
	if ls.justified == nil {
		ls.justified = make(map[store.EntityID]bool, len(cands)) // spare the rehashing
	}
	if ev.included[l.Namespace] == nil {
		ev.included[l.Namespace] = make(map[store.EntityID]bool, len(cands)) // likewise
	}
	ls.d.fetch(&ev.r, cands, func() {
		parent := ev.states[l.Parent.Index]
		var pages []*Page
		var ms []linkedMatch
		var sorted []*linkedMatch // into ms: pointers share one sort instantiation
		var all []Cursor          // reused: page keeps no reference to it
		for _, p := range parents {
			ms = ms[:0]
			ts := linked[p]
			for i := range ts {
				if c, ok := child(ts[i]); ok && ls.d.match(c) {
					ms = append(ms, linkedMatch{pos: ls.d.pos(c), link: ts[i]})
				}
			}
			sorted = slices.Grow(sorted[:0], len(ms))
			for i := range ms {
				sorted = append(sorted, &ms[i])
			}
			slices.SortFunc(sorted, func(a, b *linkedMatch) int { return comparePos(a.pos, b.pos, l.Order.Desc) })
			sorted = slices.CompactFunc(sorted, func(a, b *linkedMatch) bool { return a.pos.E == b.pos.E })
			all = all[:0]
			for _, m := range sorted {
				all = append(all, m.pos)
			}
			c := cutWindow(len(all), func(i int) Cursor { return all[i] }, &l.Page, l.Order.Desc)
			page := ev.page(ls, all, c, func(i int) { ev.add(sorted[i].link) })
			parent.entity(p).Links[ci] = page
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
		if len(ls.justified) == len(ev.included[ls.l.Namespace]) {
			continue // every included entity is justified here (justified ⊆ included)
		}
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
			if len(ls.justified) == len(ev.included[ls.l.Namespace]) {
				continue
			}
			for e := range ev.included[ls.l.Namespace] {
				if !ls.justified[e] && ls.d.fetched(e) {
					ev.include(ls, e)
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

// sortTriples returns the triples of chunks (n in all) in EAV order without
// duplicates. Large sets are radix-sorted by the first eight bytes of the
// entity (ids are random, so that nearly always orders entities), then
// each run of one entity is put in order by comparing whole triples: about
// three times cheaper than a comparison sort of a large result. The keys
// hold no pointers, which spares the garbage collector.
func sortTriples(chunks [][]*store.Triple, n int) []store.Triple {
	// The triples mostly arrive in order (scan answers and entities are
	// walked in EAV order): a few runs are merged straight out of the
	// chunks rather than sorted.
	runs := make([]chunkPos, 0, maxRuns+1)
	var prev *store.Triple
	for c, ch := range chunks {
		for j, t := range ch {
			if prev == nil || compareIndex(EAV, prev, t) > 0 {
				runs = append(runs, chunkPos{c: c, j: j})
				if len(runs) > maxRuns {
					break
				}
			}
			prev = t
		}
		if len(runs) > maxRuns {
			break
		}
	}
	if len(runs) <= maxRuns {
		return mergeChunks(chunks, runs, n)
	}
	flat := make([]*store.Triple, 0, n)
	for _, c := range chunks {
		flat = append(flat, c...)
	}
	keys := make([]sortKey, len(flat))
	for i, t := range flat {
		keys[i] = sortKey{binary.BigEndian.Uint64(t.E[:8]), uint32(i)}
	}
	cmp := func(a, b sortKey) int {
		switch {
		case a.e0 < b.e0:
			return -1
		case a.e0 > b.e0:
			return 1
		}
		return compareIndex(EAV, flat[a.i], flat[b.i])
	}
	if n < 256 {
		slices.SortFunc(keys, cmp)
	} else {
		keys = radixSort(keys)
		for i := 0; i < len(keys); {
			j := i + 1
			for j < len(keys) && keys[j].e0 == keys[i].e0 {
				j++
			}
			if j-i > 1 {
				slices.SortFunc(keys[i:j], cmp)
			}
			i = j
		}
	}
	// Read through the keys: a sorted copy of the pointers would cost 8
	// bytes a triple more.
	return compactTriples(len(keys), func(i int) *store.Triple { return flat[keys[i].i] })
}

// maxRuns is the most runs in order sortTriples merges instead of sorting.
const maxRuns = 8

// compactTriples copies n sorted triples, the i-th at(i), out without
// duplicates.
func compactTriples(n int, at func(i int) *store.Triple) []store.Triple {
	m := 0
	var prev *store.Triple
	for i := range n {
		if t := at(i); prev == nil || !sameKey(prev, t) {
			m++
			prev = t
		}
	}
	out := make([]store.Triple, 0, m)
	prev = nil
	for i := range n {
		if t := at(i); prev == nil || !sameKey(prev, t) {
			out = append(out, *t)
			prev = t
		}
	}
	return out
}

func sameKey(a, b *store.Triple) bool { return a.E == b.E && a.A == b.A && a.V == b.V }

// chunkPos is a place in a list of chunks, the first triple of a run; left
// is how many triples the run has from there.
type chunkPos struct{ c, j, left int }

// mergeChunks returns the triples of chunks (n in all), whose runs in
// order start at runs, merged in EAV order without duplicates: each step
// takes the least head of the runs (the earliest run's on a tie, as a
// stable sort would), first to count the triples kept, then to copy them.
// Merging from the chunks spares two lists of n pointers.
func mergeChunks(chunks [][]*store.Triple, runs []chunkPos, n int) []store.Triple {
	// Each run's length: up to the next run's start (the last to the end).
	g, r := 0, 0
	for c, ch := range chunks {
		for j := range ch {
			if r < len(runs) && runs[r].c == c && runs[r].j == j {
				if r > 0 {
					runs[r-1].left = g - runs[r-1].left
				}
				runs[r].left = g // its start, for now
				r++
			}
			g++
		}
	}
	if len(runs) > 0 {
		runs[len(runs)-1].left = n - runs[len(runs)-1].left
	}
	heads := make([]chunkPos, len(runs))
	walk := func(emit func(*store.Triple)) {
		copy(heads, runs)
		var prev *store.Triple
		for {
			best := -1
			var bt *store.Triple
			for h := range heads {
				if heads[h].left == 0 {
					continue
				}
				t := chunks[heads[h].c][heads[h].j]
				if best < 0 || compareIndex(EAV, t, bt) < 0 {
					best, bt = h, t
				}
			}
			if best < 0 {
				return
			}
			hd := &heads[best]
			hd.j++
			hd.left--
			for hd.left > 0 && hd.j == len(chunks[hd.c]) {
				hd.c, hd.j = hd.c+1, 0
			}
			if prev == nil || !sameKey(prev, bt) {
				emit(bt)
				prev = bt
			}
		}
	}
	m := 0
	walk(func(*store.Triple) { m++ })
	out := make([]store.Triple, 0, m)
	walk(func(t *store.Triple) { out = append(out, *t) })
	return out
}

// sortKey is a triple's first 8 entity bytes (e0) and its index (i). A
// [16]byte would share the sort instantiation of store.EntityID (some 16
// KB of the wasm client), but on amd64 arrays go to the comparison on the
// stack, not in registers: sortTriples ran ~15% slower.
type sortKey struct {
	e0 uint64
	i  uint32
}

// radixSort sorts keys by e0, stably (least significant byte first).
func radixSort(keys []sortKey) []sortKey {
	tmp := make([]sortKey, len(keys))
	for shift := uint(0); shift < 64; shift += 8 {
		var count [257]int
		for _, k := range keys {
			count[int(byte(k.e0>>shift))+1]++
		}
		if count[int(byte(keys[0].e0>>shift))+1] == len(keys) {
			continue // every key has the same byte here
		}
		for i := 1; i < 257; i++ {
			count[i] += count[i-1]
		}
		for _, k := range keys {
			b := byte(k.e0 >> shift)
			tmp[count[b]] = k
			count[b]++
		}
		keys, tmp = tmp, keys
	}
	return keys
}
