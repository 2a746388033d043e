package query

import (
	"slices"
	"sort"
)

// cut is the outcome of applying a [Window] to a level's matching
// entities, sorted: the page is all[start:end].
type cut struct {
	start, end int
	// from is where the entities a client needs begin: the first entity
	// after the "after" cursor when an offset skips some (the client must
	// count them), else start.
	from int
}

// cutWindow applies w to n matching entities whose positions pos(i) are
// sorted in the order's direction.
func cutWindow(n int, pos func(i int) Cursor, w *Window, desc bool) cut {
	lo, hi := 0, n
	if w.After != nil {
		lo = sort.Search(n, func(i int) bool { return comparePos(pos(i), *w.After, desc) > 0 })
	}
	if w.Before != nil {
		hi = max(lo, sort.Search(n, func(i int) bool { return comparePos(pos(i), *w.Before, desc) >= 0 }))
	}
	s := min(lo+w.Offset, hi)
	e := hi
	if w.HasFirst {
		e = min(hi, s+w.First)
	}
	if w.HasLast {
		s = max(s, e-w.Last)
	}
	from := s
	if w.Offset > 0 {
		from = lo
	}
	return cut{start: s, end: e, from: from}
}

// info returns the page info of the cut.
func (c cut) info(n int, pos func(i int) Cursor) PageInfo {
	pi := PageInfo{HasNextPage: c.end < n, HasPreviousPage: c.start > 0}
	if c.end > c.start {
		sc, ec := pos(c.start), pos(c.end-1)
		pi.StartCursor, pi.EndCursor = &sc, &ec
	}
	return pi
}

// justified returns the indices of the entities a client must hold to cut
// the same page from its own subset of the matching entities: those from
// c.from to the page's end, the one just before the page (hasPreviousPage)
// and the one just after (hasNextPage).
//
// Why this suffices: the client's matching entities are a subset of the
// server's (every triple it holds is true on the server, and for every
// entity it could list it holds all the triples the decision reads), and it
// holds these. Nothing lies between the "after" cursor and all[from] on the
// server, so the client's first entity after the cursor is all[from], its
// k-th is all[from+k] up to the page's end, and the entities just outside
// the page exist for it exactly when they exist on the server.
func (c cut) justified(n int) (lo, hi int) {
	lo, hi = c.from, c.end
	if c.start > 0 && c.start-1 < lo {
		lo = c.start - 1
	}
	if hi < n {
		hi++
	}
	return lo, hi
}

// sortPositions sorts positions in the order's direction.
func sortPositions(ps []Cursor, desc bool) {
	slices.SortFunc(ps, func(a, b Cursor) int { return comparePos(a, b, desc) })
}
