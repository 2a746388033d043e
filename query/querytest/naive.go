package querytest

import (
	"regexp"
	"slices"
	"strings"

	"github.com/triplesync/triplesync/query"
	"github.com/triplesync/triplesync/store"
)

// Naive evaluates q over triples by brute force, straight from the
// documented semantics, sharing nothing with the evaluator but the parsed
// query and the cursor encoding: the oracle of the evaluator's tests. It
// returns the result tree as [query.Result.Tree] does.
func Naive(q *query.Query, triples []store.Triple) map[string]any {
	n := &naive{attrs: q.Attrs(), ts: triples}
	var pages []any
	for _, l := range q.Tops() {
		pages = append(pages, n.page(l, n.members(l), nil))
	}
	return n.object(q.Tops(), pages, nil)
}

type naive struct {
	attrs *store.Attrs
	ts    []store.Triple
}

type naivePage struct {
	ents  []store.EntityID
	count int
	info  map[string]any
}

// members lists the entities of l's namespace: those holding their id
// triple.
func (n *naive) members(l *query.Level) []store.EntityID {
	var out []store.EntityID
	for _, t := range n.ts {
		if t.A == l.ID.ID && t.V == store.Ref(t.E) {
			out = append(out, t.E)
		}
	}
	return out
}

// page filters, sorts and cuts candidates at level l.
func (n *naive) page(l *query.Level, cands []store.EntityID, _ any) naivePage {
	var match []store.EntityID
	for _, e := range cands {
		if slices.Contains(match, e) || !slices.Contains(n.members(l), e) {
			continue
		}
		if l.Where == nil || n.cond(l.Where, e) {
			match = append(match, e)
		}
	}
	if l.Count {
		return naivePage{count: len(match)}
	}
	pos := func(e store.EntityID) query.Cursor {
		if l.Order.Attr == l.ID {
			return query.Cursor{V: store.Ref(e), E: e}
		}
		for _, t := range n.ts {
			if t.E == e && t.A == l.Order.Attr.ID && !t.V.IsNull() {
				return query.Cursor{V: t.V, E: e}
			}
		}
		return query.Cursor{Missing: true, E: e}
	}
	less := func(a, b query.Cursor) int {
		// Missing values last; otherwise value then id, reversed for desc.
		if a.Missing != b.Missing {
			if a.Missing {
				return 1
			}
			return -1
		}
		c := 0
		if !a.Missing {
			c = store.Compare(a.V, b.V)
		}
		if c == 0 {
			c = a.E.Compare(b.E)
		}
		if l.Order.Desc {
			c = -c
		}
		return c
	}
	slices.SortFunc(match, func(a, b store.EntityID) int { return less(pos(a), pos(b)) })
	w := l.Page
	// Keep those strictly between the cursors.
	var between []int
	for i, e := range match {
		if w.After != nil && less(pos(e), *w.After) <= 0 {
			continue
		}
		if w.Before != nil && less(pos(e), *w.Before) >= 0 {
			continue
		}
		between = append(between, i)
	}
	if w.Offset < len(between) {
		between = between[w.Offset:]
	} else {
		between = nil
	}
	if w.HasFirst && len(between) > w.First {
		between = between[:w.First]
	}
	if w.HasLast && len(between) > w.Last {
		between = between[len(between)-w.Last:]
	}
	info := map[string]any{"startCursor": nil, "endCursor": nil, "hasNextPage": false, "hasPreviousPage": false}
	var ents []store.EntityID
	if len(between) > 0 {
		first, last := between[0], between[len(between)-1]
		info["startCursor"] = pos(match[first]).String()
		info["endCursor"] = pos(match[last]).String()
		info["hasPreviousPage"] = first > 0
		info["hasNextPage"] = last < len(match)-1
		for _, i := range between {
			ents = append(ents, match[i])
		}
	} else {
		// An empty page sits where the window is: count what lies before
		// and after that spot.
		before := 0
		for _, e := range match {
			if w.After != nil && less(pos(e), *w.After) <= 0 {
				before++
			}
		}
		inWindow := 0
		for _, e := range match {
			if (w.After == nil || less(pos(e), *w.After) > 0) && (w.Before == nil || less(pos(e), *w.Before) < 0) {
				inWindow++
			}
		}
		skipped := min(w.Offset, inWindow)
		if w.HasLast {
			skipped = inWindow // last 0: the empty page sits at the window's end
		}
		at := before + skipped
		info["hasPreviousPage"] = at > 0
		info["hasNextPage"] = at < len(match)
	}
	return naivePage{ents: ents, info: info}
}

// object builds a JSON object holding pages of levels, with extra members.
func (n *naive) object(levels []*query.Level, pages []any, extra map[string]any) map[string]any {
	obj := map[string]any{}
	for k, v := range extra {
		obj[k] = v
	}
	aggs, infos := map[string]any{}, map[string]any{}
	for i, l := range levels {
		p := pages[i].(naivePage)
		if l.Count {
			aggs[l.Label] = map[string]any{"count": float64(p.count)}
			continue
		}
		if l.Paginated() {
			infos[l.Label] = p.info
		}
		arr := []any{}
		for _, e := range p.ents {
			arr = append(arr, n.entity(l, e))
		}
		obj[l.Label] = arr
	}
	if len(aggs) > 0 {
		obj["$aggregate"] = aggs
	}
	if len(infos) > 0 {
		obj["$pageInfo"] = infos
	}
	return obj
}

// entity builds an entity object with its fields and child levels.
func (n *naive) entity(l *query.Level, e store.EntityID) map[string]any {
	extra := map[string]any{"id": e.String()}
	for _, a := range n.attrs.Namespace(l.Namespace) {
		if a.IsRef() || a.Label == store.IDLabel || l.Fields != nil && !slices.Contains(l.Fields, a) {
			continue
		}
		var vals []store.Value
		for _, t := range n.ts {
			if t.E == e && t.A == a.ID {
				vals = append(vals, t.V)
			}
		}
		if len(vals) == 0 {
			continue
		}
		slices.SortFunc(vals, store.Compare)
		if a.Cardinality == store.CardinalityOne && len(vals) == 1 {
			extra[a.Label] = vals[0].Any()
			continue
		}
		arr := []any{}
		for _, v := range vals {
			arr = append(arr, v.Any())
		}
		extra[a.Label] = arr
	}
	var pages []any
	for _, c := range l.Children {
		var cands []store.EntityID
		for _, t := range n.ts {
			if t.A != c.Link.ID {
				continue
			}
			if !c.Reverse && t.E == e {
				if x, ok := t.V.AsEntityID(); ok {
					cands = append(cands, x)
				}
			}
			if c.Reverse && t.V == store.Ref(e) {
				cands = append(cands, t.E)
			}
		}
		pages = append(pages, n.page(c, cands, nil))
	}
	return n.object(l.Children, pages, extra)
}

// cond evaluates a where tree for e.
func (n *naive) cond(c *query.Cond, e store.EntityID) bool {
	switch c.Kind {
	case query.CondAnd:
		for _, s := range c.Subs {
			if !n.cond(s, e) {
				return false
			}
		}
		return true
	case query.CondOr:
		for _, s := range c.Subs {
			if n.cond(s, e) {
				return true
			}
		}
		return false
	}
	return n.pred(&c.Leaf.Pred, n.values(c.Leaf, e))
}

// values returns a leaf's values for e (nulls dropped).
func (n *naive) values(lf *query.Leaf, e store.EntityID) []store.Value {
	xs := []store.EntityID{e}
	for _, h := range lf.Hops {
		var next []store.EntityID
		for _, x := range xs {
			for _, t := range n.ts {
				if t.A != h.Attr.ID {
					continue
				}
				if !h.Reverse && t.E == x {
					if y, ok := t.V.AsEntityID(); ok && !slices.Contains(next, y) {
						next = append(next, y)
					}
				}
				if h.Reverse && t.V == store.Ref(x) && !slices.Contains(next, t.E) {
					next = append(next, t.E)
				}
			}
		}
		xs = next
	}
	var out []store.Value
	for _, x := range xs {
		for _, t := range n.ts {
			if t.A != lf.Attr.ID {
				continue
			}
			if !lf.Reverse && t.E == x && !t.V.IsNull() {
				out = append(out, t.V)
			}
			if lf.Reverse && t.V == store.Ref(x) {
				out = append(out, store.Ref(t.E))
			}
		}
	}
	return out
}

// pred decides a predicate over values (no nulls).
func (n *naive) pred(p *query.Pred, vals []store.Value) bool {
	switch p.Op {
	case query.OpIn, query.OpNotIn:
		in := p.Null && len(vals) == 0
		for _, v := range vals {
			if slices.Contains(p.Values, v) {
				in = true
			}
		}
		return in == (p.Op == query.OpIn)
	case query.OpIsNull:
		return (len(vals) == 0) == p.Null
	case query.OpLike, query.OpILike:
		re := likeRegexp(p.Like.Pattern, p.Op == query.OpILike)
		for _, v := range vals {
			if s, ok := v.AsString(); ok && re.MatchString(s) {
				return true
			}
		}
		return false
	}
	x := p.Values[0]
	for _, v := range vals {
		if v.Kind() != x.Kind() {
			continue
		}
		c := store.Compare(v, x)
		switch p.Op {
		case query.OpGt:
			if c > 0 {
				return true
			}
		case query.OpGte:
			if c >= 0 {
				return true
			}
		case query.OpLt:
			if c < 0 {
				return true
			}
		case query.OpLte:
			if c <= 0 {
				return true
			}
		}
	}
	return false
}

// likeRegexp translates a LIKE pattern into an anchored regexp.
func likeRegexp(pat string, fold bool) *regexp.Regexp {
	var b strings.Builder
	b.WriteString("^(?s)")
	if fold {
		b.WriteString("(?i)")
	}
	esc := false
	for _, r := range pat {
		switch {
		case esc:
			b.WriteString(regexp.QuoteMeta(string(r)))
			esc = false
		case r == '\\':
			esc = true
		case r == '%':
			b.WriteString(".*")
		case r == '_':
			b.WriteString(".")
		default:
			b.WriteString(regexp.QuoteMeta(string(r)))
		}
	}
	b.WriteString("$")
	return regexp.MustCompile(b.String())
}
