package query

import (
	"slices"
	"sort"
	"weak"

	"github.com/triplesync/triplesync/store"
)

// Incremental re-evaluation: a client holding a large live result and
// writing one row should not re-evaluate, rebuild and re-encode the whole
// result. Update re-evaluates only the top-level rows a change can reach
// and splices them into the previous result, sharing every other *Entity.

// Update returns q's result over snap given prev, q's result over old,
// and changed, the entities whose triples differ between old and snap:
// every entity that holds a triple added, removed or changed, and for a
// ref triple added or removed, also the entity it points at. The entities
// listed may be a superset (an unchanged entity costs a re-evaluation, no
// more); leaving one out gives a wrong result.
//
// Only the top-level rows that can reach a changed entity — the changed
// entities themselves, and those linked to one along the query's links or
// its where clauses' paths, found in snap's indexes — are re-evaluated;
// every other row of prev is kept, the same *Entity, and the re-evaluated
// rows are spliced in by the level's order. [Page.Splices] tells how each
// new top-level page was made from prev's.
//
// The tree and page infos are those [Eval] gives over snap. Triples is not
// computed (it is nil): Update serves clients that show results, not a
// server that sends their triples. A first page (limit alone) is spliced
// the same way; when it needs rows beyond prev's (one left it, and nothing
// re-evaluated takes its place), or whether another row follows it is not
// known, the rows after prev's last one are evaluated, as many as the page
// lacks (see fillFirst). Update falls back to Eval (whose Result has
// Triples) when prev is nil or was made for another query; when a top
// level has another window (offset, cursors, last: those results are small
// and Eval is cheap) or an aggregate; and when so many rows are reached
// that re-evaluating everything costs less.
func Update(prev *Result, old, snap *store.Snapshot, q *Query, changed []store.EntityID) (*Result, error) {
	if !canUpdate(prev, q) {
		return Eval(SnapshotSource(snap), q)
	}
	if len(changed) == 0 {
		return &Result{Tops: prev.Tops}, nil
	}
	changedSet := make(map[store.EntityID]bool, len(changed))
	for _, e := range changed {
		changedSet[e] = true
	}
	res := &Result{Tops: make([]*Page, len(q.tops))}
	affected := make([][]store.EntityID, len(q.tops))
	total := 0
	for i, l := range q.tops {
		set := reach(snap, l, changed, changedSet)
		ids := make([]store.EntityID, 0, len(set))
		for e := range set {
			ids = append(ids, e)
		}
		affected[i] = sortIDs(ids)
		total += len(ids)
		if len(ids) > 64 && len(ids) > len(prev.Tops[i].Entities)/4 {
			return Eval(SnapshotSource(snap), q) // most rows change: evaluate them all
		}
	}
	if total == 0 {
		return &Result{Tops: prev.Tops}, nil
	}
	fresh, stages, scans, err := evalRows(snap, q, affected)
	if err != nil {
		return nil, err
	}
	res.Stages, res.Scans = stages, scans
	for i, l := range q.tops {
		p := splice(prev.Tops[i], fresh[i], affected[i], old, snap, l)
		if l.Page != (Window{}) && !cutFirst(p, prev.Tops[i], affected[i], old, snap) {
			// The page needs entities prev does not show: fetch them.
			st, sc, ok, err := fillFirst(p, prev.Tops[i], old, snap, q)
			if err != nil {
				return nil, err
			}
			if !ok {
				return Eval(SnapshotSource(snap), q)
			}
			res.Stages, res.Scans = res.Stages+st, res.Scans+sc
		}
		res.Tops[i] = p
	}
	return res, nil
}

// canUpdate reports whether Update can splice prev: it was made for q's
// levels and every top level is [Query.Incremental].
func canUpdate(prev *Result, q *Query) bool {
	if prev == nil || len(prev.Tops) != len(q.tops) || !q.Incremental() {
		return false
	}
	for i, l := range q.tops {
		if p := prev.Tops[i]; p == nil || p.Level != l {
			return false
		}
	}
	return true
}

// firstPage reports whether w asks for a first page: limit (or first)
// alone, above zero.
func firstPage(w *Window) bool {
	return w.HasFirst && w.First > 0 && w.Offset == 0 && !w.HasLast && w.After == nil && w.Before == nil
}

// reach returns the entities of level l's side that can reach a changed
// entity: changed itself, and every entity linked to one along l's where
// paths or through a child level (recursively), read in snap. Walking
// back in the new snapshot alone suffices because both ends of every
// changed link are changed: on any path whose reads differ between the
// snapshots, the first differing link has a changed entity at its near
// end, reached by links that exist in both.
func reach(snap *store.Snapshot, l *Level, changed []store.EntityID, changedSet map[store.EntityID]bool) map[store.EntityID]bool {
	out := make(map[store.EntityID]bool, len(changed))
	for _, e := range changed {
		out[e] = true
	}
	l.Where.leaves(func(lf *Leaf) {
		xs := changedSet
		for i := len(lf.Hops) - 1; i >= 0; i-- {
			next := make(map[store.EntityID]bool, len(changed))
			for e := range changedSet {
				next[e] = true
			}
			back(snap, lf.Hops[i].Attr, lf.Hops[i].Reverse, xs, next)
			xs = next
		}
		for e := range xs {
			out[e] = true
		}
	})
	for _, c := range l.Children {
		back(snap, c.Link, c.Reverse, reach(snap, c, changed, changedSet), out)
	}
	return out
}

// back adds to out the entities one hop before xs: forward ([x attr y],
// x holds the ref) the entities linking to each y, reverse ([y attr x])
// the entities each y links to.
func back(snap *store.Snapshot, attr *store.Attr, reverse bool, ys, out map[store.EntityID]bool) {
	for y := range ys {
		if reverse {
			snap.ScanEntity(y, attr.ID, func(t store.Triple) bool {
				if x, ok := t.V.AsEntityID(); ok {
					out[x] = true
				}
				return true
			})
			continue
		}
		snap.ScanRefs(y, attr.ID, func(t store.Triple) bool {
			out[t.E] = true
			return true
		})
	}
}

// evalRows evaluates, for each top level, the matching entities among its
// candidates (sorted), with their fields and child levels, as Eval would.
// newEvaluator returns an evaluator of q over snap, as Eval makes it.
func newEvaluator(snap *store.Snapshot, q *Query) *evaluator {
	ev := &evaluator{
		q:        q,
		r:        runner{src: SnapshotSource(snap)},
		states:   make([]*levelState, len(q.levels)),
		included: map[string]map[store.EntityID]bool{},
	}
	for i, l := range q.levels {
		ls := &levelState{l: l, d: newDecider(l), justified: map[store.EntityID]bool{}}
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
	return ev
}

func evalRows(snap *store.Snapshot, q *Query, cands [][]store.EntityID) ([]*Page, int, int, error) {
	ev := newEvaluator(snap, q)
	pages := make([]*Page, len(q.tops))
	for i, l := range q.tops {
		if len(cands[i]) == 0 {
			pages[i] = &Page{Level: l}
			continue
		}
		ls := ev.states[l.Index]
		if l.Page != (Window{}) {
			// Every candidate that matches, not a page of them: a copy of
			// the level without its window (its children are the
			// level's own, which find their parents by index).
			all := *l
			all.Page = Window{}
			ls.l = &all
		}
		ev.full(ls, cands[i], false, func(p *Page) { pages[i] = p })
	}
	if err := ev.r.run(); err != nil {
		return nil, 0, 0, err
	}
	return pages, ev.r.stages, ev.r.sent, nil
}

// Splice is one run of a page made by [Update]: N entities taken, in
// order, from the previous page's From-th on, or, when From is -1, N
// entities evaluated anew.
type Splice struct {
	From, N int
}

// Splices returns how p was made from prev when [Update] spliced it: runs
// covering p.Entities in order. ok is false when p was not made that way
// from prev (Eval made it, or Update from another result).
func (p *Page) Splices(prev *Page) (runs []Splice, ok bool) {
	if p == prev {
		return []Splice{{From: 0, N: len(p.Entities)}}, true
	}
	if prev == nil || p.prev != weak.Make(prev) {
		return nil, false
	}
	return p.splices, true
}

// splice makes the new page of top level l from prev's: prev's entities
// without the affected ones (found by their positions in old), with the
// fresh matches inserted by their positions in snap.
func splice(prev, fresh *Page, affected []store.EntityID, old, snap *store.Snapshot, l *Level) *Page {
	pe := prev.Entities
	oldPos := func(i int) Cursor { return position(old, l, pe[i].ID) }
	// The indices in prev of the affected entities it lists.
	var drop []int
	for _, e := range affected {
		p := position(old, l, e)
		i := sort.Search(len(pe), func(i int) bool { return comparePos(oldPos(i), p, l.Order.Desc) >= 0 })
		if i < len(pe) && pe[i].ID == e {
			drop = append(drop, i)
		}
	}
	sortInts(drop)
	// Where each fresh entity goes among prev's.
	ins := make([]int, len(fresh.Entities))
	for k, e := range fresh.Entities {
		p := position(snap, l, e.ID)
		ins[k] = sort.Search(len(pe), func(i int) bool { return comparePos(oldPos(i), p, l.Order.Desc) > 0 })
	}
	out := &Page{Level: l, prev: weak.Make(prev)}
	out.Entities = make([]*Entity, 0, len(pe)-len(drop)+len(fresh.Entities))
	keep := func(from, to int) { // prev's entities from..to-1, less the dropped
		for from < to {
			for len(drop) > 0 && drop[0] < from {
				drop = drop[1:]
			}
			end := to
			if len(drop) > 0 && drop[0] < to {
				end = drop[0]
			}
			if end > from {
				out.Entities = append(out.Entities, pe[from:end]...)
				out.add(Splice{From: from, N: end - from})
			}
			from = end
			if from < to && len(drop) > 0 && drop[0] == from {
				from++
			}
		}
	}
	at := 0
	for k := 0; k < len(fresh.Entities); {
		keep(at, ins[k])
		at = ins[k]
		j := k
		for j < len(fresh.Entities) && ins[j] == ins[k] {
			j++
		}
		out.Entities = append(out.Entities, fresh.Entities[k:j]...)
		out.add(Splice{From: -1, N: j - k})
		k = j
	}
	keep(at, len(pe))
	if n := len(out.Entities); n > 0 {
		sc, ec := position(snap, l, out.Entities[0].ID), position(snap, l, out.Entities[n-1].ID)
		out.Info = PageInfo{StartCursor: &sc, EndCursor: &ec}
	}
	return out
}

// add appends a run, merging it with the last when they continue each
// other.
func (p *Page) add(s Splice) {
	if k := len(p.splices); k > 0 {
		last := &p.splices[k-1]
		if last.From == -1 && s.From == -1 || last.From >= 0 && last.From+last.N == s.From {
			last.N += s.N
			return
		}
	}
	p.splices = append(p.splices, s)
}

// position returns e's position in l's order over snap, as the decider
// computes it.
func position(snap *store.Snapshot, l *Level, e store.EntityID) Cursor {
	if l.Order.Attr == l.ID {
		return Cursor{V: store.Ref(e), E: e}
	}
	c := Cursor{Missing: true, E: e}
	snap.ScanEntity(e, l.Order.Attr.ID, func(t store.Triple) bool {
		if t.V.IsNull() {
			return true
		}
		c = Cursor{V: t.V, E: e}
		return false
	})
	return c
}

// SameTree reports whether r and o have the same tree and page infos:
// the same [Result.AppendJSON]. Entities shared by the two (as [Update]
// shares them) compare at the cost of a pointer.
func (r *Result) SameTree(o *Result) bool {
	if r == o {
		return true
	}
	if r == nil || o == nil {
		return false
	}
	return samePages(r.Tops, o.Tops)
}

func samePages(a, b []*Page) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !samePage(a[i], b[i]) {
			return false
		}
	}
	return true
}

func samePage(a, b *Page) bool {
	if a == b {
		return true
	}
	if a == nil || b == nil {
		return false
	}
	la, lb := a.Level, b.Level
	if la.Label != lb.Label || la.Count != lb.Count || la.Paginated() != lb.Paginated() {
		return false
	}
	if la.Count {
		return a.Count == b.Count
	}
	if la.Paginated() && !sameInfo(&a.Info, &b.Info) {
		return false
	}
	if len(a.Entities) != len(b.Entities) {
		return false
	}
	for i, e := range a.Entities {
		if !sameEntity(e, b.Entities[i]) {
			return false
		}
	}
	return true
}

func sameEntity(a, b *Entity) bool {
	if a == b {
		return true
	}
	if a.ID != b.ID || len(a.Fields) != len(b.Fields) {
		return false
	}
	for i := range a.Fields {
		fa, fb := &a.Fields[i], &b.Fields[i]
		if fa.Attr.Label != fb.Attr.Label || !slices.Equal(fa.Values, fb.Values) {
			return false
		}
		// The JSON of one value depends on the cardinality.
		if len(fa.Values) == 1 && fa.Attr.Cardinality != fb.Attr.Cardinality {
			return false
		}
	}
	return samePages(a.Links, b.Links)
}

func sameInfo(a, b *PageInfo) bool {
	return a.HasNextPage == b.HasNextPage && a.HasPreviousPage == b.HasPreviousPage &&
		sameCursor(a.StartCursor, b.StartCursor) && sameCursor(a.EndCursor, b.EndCursor)
}

func sameCursor(a, b *Cursor) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}

// AppendJSON appends the entity's object as it appears in the result's
// JSON (see [Result]): its id, fields and links.
func (e *Entity) AppendJSON(dst []byte) []byte { return e.appendJSON(dst) }

// AppendJSON appends the page info as it appears under "$pageInfo" in the
// result's JSON (see [Result]).
func (pi *PageInfo) AppendJSON(dst []byte) []byte { return pi.appendJSON(dst) }

// Incremental reports whether [Update] can splice q's results rather than
// evaluate them whole: every top level lists all its matches, or a first
// page of them (limit alone), and none is an aggregate.
func (q *Query) Incremental() bool {
	for _, l := range q.tops {
		if l.Count || l.Page != (Window{}) && !firstPage(&l.Page) {
			return false
		}
	}
	return true
}

// cutFirst cuts p, every match of its level that prev's first page and
// the re-evaluated rows show in order, to the level's first page, and
// reports whether that is the first page of all the matches. The matches
// p lacks are unaffected ones that were beyond prev's page: they sort
// after prev's last entity. So p's entities up to that position are the
// first of all the matches, and the page is right when it fits among
// them; hasNextPage is known when p has more, when prev had no next page
// (then p has every match), or when every affected entity was on prev's
// page (then the match that followed it still does).
func cutFirst(p, prev *Page, affected []store.EntityID, old, snap *store.Snapshot) bool {
	l := p.Level
	n := l.Page.First
	if prev.Info.HasNextPage {
		if len(prev.Entities) == 0 {
			return false
		}
		last := position(old, l, prev.Entities[len(prev.Entities)-1].ID)
		before := sort.Search(len(p.Entities), func(i int) bool {
			return comparePos(position(snap, l, p.Entities[i].ID), last, l.Order.Desc) > 0
		})
		if before < n {
			return false // the page needs entities beyond prev's
		}
		if len(p.Entities) == n && !within(affected, prev.Entities) {
			return false // whether another follows is not known
		}
	}
	more := len(p.Entities) > n || prev.Info.HasNextPage
	if len(p.Entities) > n {
		p.truncate(n)
	}
	p.setInfo(snap, more)
	return true
}

// truncate cuts p, spliced, to its first n entities.
func (p *Page) truncate(n int) {
	p.Entities = p.Entities[:n:n]
	if n == 0 {
		p.splices = nil
		return
	}
	left := n
	for k, s := range p.splices {
		if s.N >= left {
			p.splices[k].N = left
			p.splices = p.splices[:k+1]
			break
		}
		left -= s.N
	}
}

// setInfo sets p's page info from its entities' positions in snap.
func (p *Page) setInfo(snap *store.Snapshot, more bool) {
	p.Info = PageInfo{HasNextPage: more}
	if k := len(p.Entities); k > 0 {
		sc, ec := position(snap, p.Level, p.Entities[0].ID), position(snap, p.Level, p.Entities[k-1].ID)
		p.Info.StartCursor, p.Info.EndCursor = &sc, &ec
	}
}

// fillFirst completes p, which [cutFirst] could not cut, to its level's
// first page when prev had a next page. p holds every match that sorts up
// to prev's last entity's position in old (the matches it lacks sort after
// it: see cutFirst), so its entities up to that position are the first of
// all the matches; those that follow are the matches after that position,
// evaluated in snap as the top level with the window {after: that
// position, first: the rows missing}, whose page info gives hasNextPage.
// It reports false when it cannot (prev showed nothing), and the stages
// and scans the evaluation took.
func fillFirst(p, prev *Page, old, snap *store.Snapshot, q *Query) (stages, scans int, ok bool, err error) {
	l := p.Level
	n := l.Page.First
	if !prev.Info.HasNextPage || len(prev.Entities) == 0 {
		return 0, 0, false, nil
	}
	last := position(old, l, prev.Entities[len(prev.Entities)-1].ID)
	keep := sort.Search(len(p.Entities), func(i int) bool {
		return comparePos(position(snap, l, p.Entities[i].ID), last, l.Order.Desc) > 0
	})
	keep = min(keep, n)
	need := n - keep
	rest := *l
	rest.Page = Window{HasFirst: true, First: max(need, 1), After: &last}
	ev := newEvaluator(snap, q)
	ls := ev.states[l.Index]
	ls.l = &rest
	var got *Page
	ev.top(ls, func(pg *Page) { got = pg })
	if err := ev.r.run(); err != nil {
		return 0, 0, false, err
	}
	if got == nil {
		return 0, 0, false, nil
	}
	more := got.Info.HasNextPage || len(got.Entities) > need
	add := got.Entities[:min(need, len(got.Entities))]
	p.truncate(keep)
	if len(add) > 0 {
		p.Entities = append(p.Entities, add...)
		p.add(Splice{From: -1, N: len(add)})
	}
	p.setInfo(snap, more)
	return ev.r.stages, ev.r.sent, true, nil
}

// within reports whether every entity of ids is one of es.
func within(ids []store.EntityID, es []*Entity) bool {
	for _, id := range ids {
		if !slices.ContainsFunc(es, func(e *Entity) bool { return e.ID == id }) {
			return false
		}
	}
	return true
}

// sortInts sorts a in increasing order: an insertion sort for the few
// entities an update usually drops, a heapsort beyond. It costs no generic
// instantiation (slices.Sort of ints is a shape of its own, some 12 KB of
// the wasm client).
func sortInts(a []int) {
	if len(a) <= 12 {
		for i := 1; i < len(a); i++ {
			x := a[i]
			j := i
			for j > 0 && a[j-1] > x {
				a[j] = a[j-1]
				j--
			}
			a[j] = x
		}
		return
	}
	down := func(i, n int) {
		for {
			c := 2*i + 1
			if c >= n {
				return
			}
			if c+1 < n && a[c+1] > a[c] {
				c++
			}
			if a[i] >= a[c] {
				return
			}
			a[i], a[c] = a[c], a[i]
			i = c
		}
	}
	for i := len(a)/2 - 1; i >= 0; i-- {
		down(i, len(a))
	}
	for n := len(a) - 1; n > 0; n-- {
		a[0], a[n] = a[n], a[0]
		down(0, n)
	}
}
