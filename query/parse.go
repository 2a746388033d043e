package query

import (
	"math"
	"slices"
	"strconv"

	"github.com/triplesync/triplesync/internal/jsonlite"
	"github.com/triplesync/triplesync/store"
)

// Query is a parsed InstaQL query, resolved against one attribute registry.
// It is immutable: evaluate it any number of times, from any goroutine.
type Query struct {
	text   string
	attrs  *store.Attrs
	tops   []*Level // top-level namespaces, by label
	levels []*Level // every level in pre-order (tops by label, children by label)
}

// Level is one node of a query: a top-level namespace, or a link followed
// from its parent level. Its fields are read-only once parsed.
type Level struct {
	// Path names the level: the namespace for a top level ("todos"), the
	// parent's path and the link label below it ("todos.owner").
	Path string
	// Label is the key in the query and in the result: the namespace or the
	// link label (forward or reverse).
	Label string
	// Namespace is the namespace of the level's entities.
	Namespace string
	// ID is Namespace's id attribute, whose triples list its entities.
	ID *store.Attr
	// Link is the ref attribute followed from the parent; nil at top level.
	// Forward (Reverse false): the parent's entities hold Link's triples,
	// [parent Link child]. Reverse: the children hold them, [child Link parent].
	Link    *store.Attr
	Reverse bool
	// Parent is the enclosing level; nil at top level.
	Parent *Level
	// Children are the links followed from this level, by label.
	Children []*Level
	// Where filters the level's entities; nil matches every entity.
	Where *Cond
	// Order sorts the entities. [Order.Attr] is ID for the default order.
	Order Order
	// Page selects a window of the sorted entities.
	Page Window
	// Fields are the attributes returned for each entity besides id, by
	// label; nil means every attribute of Namespace that is not a link.
	Fields []*store.Attr
	// Count is true for aggregate "count": the level returns the number of
	// entities matching Where instead of the entities.
	Count bool
	// Index is the level's position in [Query.Levels].
	Index int

	paginated bool // any of order, limit, offset, first, last, after, before given
}

// Order is a level's sort order: by Attr's value, then by id, both
// ascending or both descending, with missing values last (see [Cursor]).
type Order struct {
	Attr *store.Attr
	Desc bool
}

// Window is the pagination of a level. Over the level's matching entities
// in order: After and Before (when set) keep those strictly between the two
// positions; Offset then skips that many from the start; then First keeps
// at most that many from the start, or Last at most that many from the end.
// "limit" is First. Offset cannot be combined with Last.
type Window struct {
	Offset   int
	First    int
	HasFirst bool
	Last     int
	HasLast  bool
	After    *Cursor
	Before   *Cursor
}

// Var is the datalog variable bound to the level's entities (see
// [Query.Patterns]): "?" and the level's path.
func (l *Level) Var() string { return "?" + l.Path }

// Paginated reports whether the query gave the level any of order, limit,
// offset, first, last, after or before. Nested levels report pageInfo only
// when paginated; top levels always do.
func (l *Level) Paginated() bool { return l.paginated || l.Parent == nil }

// Text returns the query's canonical JSON: keys sorted, no insignificant
// space, numbers normalised. Queries that differ only in formatting have
// the same text, so it serves as a map key; parsing it gives a query with
// the same text.
func (q *Query) Text() string { return q.text }

// Attrs returns the registry q was resolved against.
func (q *Query) Attrs() *store.Attrs { return q.attrs }

// Levels returns every level in pre-order: top levels by label, each
// followed by its children by label. The slice is shared: do not modify it.
func (q *Query) Levels() []*Level { return q.levels }

// Tops returns the top-level levels by label. The slice is shared.
func (q *Query) Tops() []*Level { return q.tops }

// Parse parses an InstaQL query and resolves its names against attrs:
//
//	{"todos": {"$": {"where": {...}, "order": {"title": "asc"}, "limit": 10},
//	           "owner": {"$": {...}, ...}}}
//
// Each top-level key is a namespace; inside a level, "$" holds the options
// and every other key follows a link (its forward label, or its reverse
// label from the target) to a nested level of any depth. Options: where,
// order, limit, offset, first, after, last, before, fields, aggregate (see
// the package documentation for each). Errors are *[Error] naming the path
// of the offending part.
func Parse(data []byte, attrs *store.Attrs) (*Query, error) {
	x, err := decodeJSON(data)
	if err != nil {
		return nil, err
	}
	text, ok := appendCanon(nil, x)
	if !ok {
		return nil, errorAt("", ErrMalformed, "number out of range")
	}
	root, ok := x.(map[string]any)
	if !ok {
		return nil, errorAt("", ErrMalformed, "a query is a JSON object of namespaces")
	}
	q := &Query{text: string(text), attrs: attrs}
	for _, ns := range sortedKeys(root) {
		if _, ok := attrs.IDAttr(ns); !ok {
			return nil, errorAt(ns, ErrUnknownNamespace, strconv.Quote(ns))
		}
		l, err := q.parseLevel(root[ns], ns, ns, ns, nil)
		if err != nil {
			return nil, err
		}
		q.tops = append(q.tops, l)
	}
	return q, nil
}

// parseLevel parses one level object: its "$" options and its links.
func (q *Query) parseLevel(x any, path, label, ns string, parent *Level) (*Level, error) {
	obj, ok := x.(map[string]any)
	if !ok {
		return nil, errorAt(path, ErrMalformed, "a level is a JSON object")
	}
	id, _ := q.attrs.IDAttr(ns)
	l := &Level{Path: path, Label: label, Namespace: ns, ID: id, Parent: parent, Index: len(q.levels)}
	l.Order.Attr = id
	q.levels = append(q.levels, l)
	if opts, ok := obj["$"]; ok {
		if err := q.parseOptions(l, opts); err != nil {
			return nil, err
		}
	}
	for _, k := range sortedKeys(obj) {
		if k == "$" {
			continue
		}
		cpath := path + "." + k
		link, reverse, ok := q.link(ns, k)
		if !ok {
			return nil, errorAt(cpath, ErrUnknownAttr, ns+" has no link "+strconv.Quote(k))
		}
		target := link.RefNamespace
		if reverse {
			target = link.Namespace
		}
		if _, ok := q.attrs.IDAttr(target); !ok {
			return nil, errorAt(cpath, ErrUnknownNamespace, "link "+strconv.Quote(k)+" leads to "+target+", which has no id attribute")
		}
		if l.Count {
			return nil, errorAt(cpath, ErrBadOption, "a level with an aggregate has no links")
		}
		c, err := q.parseLevel(obj[k], cpath, k, target, l)
		if err != nil {
			return nil, err
		}
		c.Link, c.Reverse = link, reverse
		l.Children = append(l.Children, c)
	}
	return l, nil
}

// link resolves label in namespace ns to a link attribute: forward (ns
// holds the ref) or reverse (the ref points at ns and reads back as label).
func (q *Query) link(ns, label string) (a *store.Attr, reverse, ok bool) {
	if a, ok := q.attrs.ByName(ns, label); ok {
		return a, false, a.IsRef()
	}
	if a, ok := q.attrs.Reverse(ns, label); ok {
		return a, true, true
	}
	return nil, false, false
}

// parseOptions parses a level's "$" object.
func (q *Query) parseOptions(l *Level, x any) error {
	path := l.Path + ".$"
	opts, ok := x.(map[string]any)
	if !ok {
		return errorAt(path, ErrMalformed, "options are a JSON object")
	}
	w := &l.Page
	for _, k := range sortedKeys(opts) {
		v, kpath := opts[k], path+"."+k
		var err error
		switch k {
		case "where":
			l.Where, err = q.parseWhere(l.Namespace, v, kpath)
		case "order":
			err = q.parseOrder(l, v, kpath)
		case "limit", "first":
			if _, dup := opts["limit"]; dup && k == "first" {
				return errorAt(kpath, ErrBadOption, "give limit or first, not both")
			}
			w.First, err = parseCount(v, kpath)
			w.HasFirst = true
		case "last":
			w.Last, err = parseCount(v, kpath)
			w.HasLast = true
		case "offset":
			w.Offset, err = parseCount(v, kpath)
		case "after", "before":
			var c Cursor
			s, isStr := v.(string)
			if !isStr {
				return errorAt(kpath, ErrBadCursor, "a cursor is a string")
			}
			if c, err = ParseCursor(s); err != nil {
				return &Error{Path: kpath, Err: err}
			}
			if k == "after" {
				w.After = &c
			} else {
				w.Before = &c
			}
		case "fields":
			l.Fields, err = q.parseFields(l.Namespace, v, kpath)
		case "aggregate":
			if v != "count" {
				return errorAt(kpath, ErrBadOption, "the only aggregate is \"count\"")
			}
			l.Count = true
		default:
			return errorAt(kpath, ErrBadOperator, "unknown option "+strconv.Quote(k))
		}
		if err != nil {
			return err
		}
		switch k {
		case "order", "limit", "first", "last", "offset", "after", "before":
			l.paginated = true
		}
	}
	if w.HasFirst && w.HasLast {
		return errorAt(path, ErrBadOption, "give first (limit) or last, not both")
	}
	if w.HasLast && w.Offset > 0 {
		return errorAt(path, ErrBadOption, "offset cannot be combined with last")
	}
	if l.Count && (l.paginated || l.Fields != nil) {
		return errorAt(path, ErrBadOption, "aggregate takes only where")
	}
	return nil
}

// maxCount bounds limits and offsets so that index arithmetic never
// overflows.
const maxCount = 1 << 30

// parseCount parses a non-negative integer option.
func parseCount(x any, path string) (int, error) {
	n, ok := x.(jsonlite.Num)
	if !ok {
		return 0, errorAt(path, ErrBadOption, "want a non-negative integer")
	}
	f, err := strconv.ParseFloat(string(n), 64)
	if err != nil || f < 0 || f != math.Trunc(f) || f > maxCount {
		return 0, errorAt(path, ErrBadOption, "want a non-negative integer up to "+strconv.Itoa(maxCount)+", got "+string(n))
	}
	return int(f), nil
}

// parseOrder parses {"<attr>": "asc"|"desc"}.
func (q *Query) parseOrder(l *Level, x any, path string) error {
	m, ok := x.(map[string]any)
	if !ok || len(m) != 1 {
		return errorAt(path, ErrBadOption, "order is an object with one attribute")
	}
	for label, dir := range m {
		kpath := path + "." + label
		a, ok := q.attrs.ByName(l.Namespace, label)
		if !ok {
			return errorAt(kpath, ErrUnknownAttr, l.Namespace+" has no attribute "+strconv.Quote(label))
		}
		if a.Cardinality == store.CardinalityMany {
			return errorAt(kpath, ErrBadOption, "cannot order by "+a.Namespace+"."+a.Label+": it has many values")
		}
		switch dir {
		case "asc":
		case "desc":
			l.Order.Desc = true
		default:
			return errorAt(kpath, ErrBadOption, "order direction is \"asc\" or \"desc\"")
		}
		l.Order.Attr = a
	}
	return nil
}

// parseFields parses a list of attribute labels.
func (q *Query) parseFields(ns string, x any, path string) ([]*store.Attr, error) {
	list, ok := x.([]any)
	if !ok {
		return nil, errorAt(path, ErrBadOption, "fields is an array of attribute names")
	}
	out := []*store.Attr{}
	for i, e := range list {
		ipath := path + "." + strconv.Itoa(i)
		label, ok := e.(string)
		if !ok {
			return nil, errorAt(ipath, ErrBadOption, "fields is an array of attribute names")
		}
		a, ok := q.attrs.ByName(ns, label)
		if !ok {
			return nil, errorAt(ipath, ErrUnknownAttr, ns+" has no attribute "+strconv.Quote(label))
		}
		if a.IsRef() {
			return nil, errorAt(ipath, ErrBadOption, strconv.Quote(label)+" is a link: follow it as a nested level")
		}
		if a.Label != store.IDLabel && !slices.Contains(out, a) {
			out = append(out, a)
		}
	}
	slices.SortFunc(out, func(a, b *store.Attr) int { return cmpString(a.Label, b.Label) })
	return out, nil
}

func cmpString(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
