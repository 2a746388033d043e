package query

import (
	"bytes"
	"slices"
	"strconv"
	"weak"

	"github.com/triplesync/triplesync/internal/jsonlite"
	"github.com/triplesync/triplesync/store"
)

// Result is the answer to a query: the tree of pages and entities, and the
// triples that justify it.
//
// Its JSON form ([Result.AppendJSON]) is InstantDB's tree with page info
// and aggregates beside the arrays they describe:
//
//	{"todos": [{"id": "<uuid>", "title": "Buy milk", "tags": ["a", "b"],
//	            "owner": [{"id": "<uuid>", "name": "alice"}],
//	            "$pageInfo": {"owner": {...}}}],
//	 "$pageInfo": {"todos": {"startCursor": "…", "endCursor": "…",
//	                         "hasNextPage": true, "hasPreviousPage": false}},
//	 "$aggregate": {"users": {"count": 3}}}
//
// Every level is an array of entity objects, links included (whatever the
// link's cardinality). An entity object has its "id", its returned
// attributes (a value for cardinality one, an array in value order for
// cardinality many; attributes without a value are left out) and one key
// per link followed. "$pageInfo" holds the page info of every top level,
// and of every nested level that was paginated (gave order, limit, offset,
// first, last, after or before), in the object holding that level. A level
// with aggregate "count" appears only under "$aggregate", as {"count": n}.
// Cursors are null on an empty page. Keys are sorted, so equal results
// encode to equal bytes.
type Result struct {
	// Tops holds one page per top level, in [Query.Tops] order.
	Tops []*Page
	// Triples are the triples the result rests on, deduplicated, in EAV
	// order. Loading exactly these into an empty store and evaluating the
	// same query there gives the same tree and page infos (and the same
	// Triples): they hold, for every entity listed, counted or needed to
	// decide a page's bounds, its id triple, the triples its where clause
	// and order read, its returned attributes and the links to its listed
	// children; and for every entity whose id triple is included, whatever
	// any level over its namespace needs to decide it.
	Triples []store.Triple
	// Stages is the number of Source.Scan calls the evaluation made, and
	// Scans the number of scans they carried.
	Stages, Scans int
}

// Page is one level's answer: for a top level, or for one parent entity
// of a nested level.
type Page struct {
	Level    *Level
	Entities []*Entity // the window of matching entities, in order
	Info     PageInfo
	Count    int // Level.Count: the number of matching entities

	ids []store.EntityID // the entities, until they are built

	prev    weak.Pointer[Page] // the page Update spliced this one from; zero otherwise
	splices []Splice           // how (see Page.Splices)
}

// PageInfo tells where a page lies among all matching entities. Start and
// EndCursor are the positions of the page's first and last entities (nil
// on an empty page); HasNextPage says some matching entity sorts after the
// page, HasPreviousPage that some sorts before it (whatever the window
// asked for).
type PageInfo struct {
	StartCursor     *Cursor
	EndCursor       *Cursor
	HasNextPage     bool
	HasPreviousPage bool
}

// Entity is one entity in a page. Entities are shared: the same entity
// reached twice at one level is one *Entity.
type Entity struct {
	ID     store.EntityID
	Fields []Field // the returned attributes with values, by label
	Links  []*Page // one per child level, in Level.Children order
}

// Field is one attribute's values on an entity, in value order.
type Field struct {
	Attr   *store.Attr
	Values []store.Value
}

// AppendJSON appends the result tree's canonical JSON (see [Result]).
func (r *Result) AppendJSON(dst []byte) []byte {
	return appendPages(dst, r.Tops, nil)
}

// MarshalJSON implements json.Marshaler with [Result.AppendJSON].
func (r *Result) MarshalJSON() ([]byte, error) { return r.AppendJSON(nil), nil }

// Tree returns the result tree as encoding/json would decode its JSON. The
// caller owns it.
func (r *Result) Tree() map[string]any {
	x, err := jsonlite.Decode(r.AppendJSON(nil))
	if err != nil {
		panic("query: result JSON does not decode: " + err.Error())
	}
	x, ok := plainNumbers(x, true)
	m, isObj := x.(map[string]any)
	if !ok || !isObj {
		panic("query: result JSON is not an object of plain numbers")
	}
	return m
}

// Equal reports whether r and o have the same tree, page infos and
// triples (CreatedAt included): whether a client holding one needs the
// other.
func (r *Result) Equal(o *Result) bool {
	return slices.Equal(r.Triples, o.Triples) && bytes.Equal(r.AppendJSON(nil), o.AppendJSON(nil))
}

// member is one key of a JSON object and the writer of its value.
type member struct {
	key string
	val func([]byte) []byte
}

// appendPages appends an object holding pages (the root's top levels, or
// an entity's links) and the members given (an entity's id and fields),
// with the "$aggregate" and "$pageInfo" keys. Keys are written sorted:
// "$..." sort before labels, which start with a letter or underscore.
func appendPages(dst []byte, pages []*Page, members []member) []byte {
	var aggs, infos []*Page
	for _, p := range pages {
		if p.Level.Count {
			aggs = append(aggs, p)
			continue
		}
		if p.Level.Paginated() {
			infos = append(infos, p)
		}
		members = append(members, member{p.Level.Label, p.appendEntities})
	}
	sortMembers(members)
	dst = append(dst, '{')
	n := 0
	sep := func() {
		if n > 0 {
			dst = append(dst, ',')
		}
		n++
	}
	if len(aggs) > 0 {
		sep()
		dst = append(dst, `"$aggregate":{`...)
		for i, p := range aggs {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendString(dst, p.Level.Label)
			dst = append(dst, `:{"count":`...)
			dst = strconv.AppendInt(dst, int64(p.Count), 10)
			dst = append(dst, '}')
		}
		dst = append(dst, '}')
	}
	if len(infos) > 0 {
		sep()
		dst = append(dst, `"$pageInfo":{`...)
		for i, p := range infos {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendString(dst, p.Level.Label)
			dst = append(dst, ':')
			dst = p.Info.appendJSON(dst)
		}
		dst = append(dst, '}')
	}
	for _, m := range members {
		sep()
		dst = appendString(dst, m.key)
		dst = append(dst, ':')
		dst = m.val(dst)
	}
	return append(dst, '}')
}

// sortMembers sorts members by key. They come as a few sorted runs (an
// entity's id, its fields by label, its links by label), so an insertion
// sort does little work, and it costs no generic instantiation (a sort of
// member elements would cost the wasm client some 20 KB of code).
func sortMembers(ms []member) {
	for i := 1; i < len(ms); i++ {
		m := ms[i]
		j := i
		for j > 0 && ms[j-1].key > m.key {
			ms[j] = ms[j-1]
			j--
		}
		ms[j] = m
	}
}

func appendString(dst []byte, s string) []byte { return store.String(s).AppendJSON(dst) }

func (p *Page) appendEntities(dst []byte) []byte {
	dst = append(dst, '[')
	for i, e := range p.Entities {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = e.appendJSON(dst)
	}
	return append(dst, ']')
}

// appendJSON writes the entity object: its id, fields and links.
func (e *Entity) appendJSON(dst []byte) []byte {
	members := make([]member, 0, 1+len(e.Fields)+len(e.Links))
	members = append(members, member{store.IDLabel, func(dst []byte) []byte {
		return store.Ref(e.ID).AppendJSON(dst)
	}})
	for _, f := range e.Fields {
		members = append(members, member{f.Attr.Label, f.appendJSON})
	}
	return appendPages(dst, e.Links, members)
}

// appendJSON writes a field's value: the value for cardinality one, the
// array of values for many.
func (f *Field) appendJSON(dst []byte) []byte {
	if f.Attr.Cardinality == store.CardinalityOne && len(f.Values) == 1 {
		return f.Values[0].AppendJSON(dst)
	}
	dst = append(dst, '[')
	for i, v := range f.Values {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = v.AppendJSON(dst)
	}
	return append(dst, ']')
}

// appendJSON writes page info; cursors are null on an empty page.
func (pi *PageInfo) appendJSON(dst []byte) []byte {
	dst = append(dst, `{"endCursor":`...)
	dst = appendCursor(dst, pi.EndCursor)
	dst = append(dst, `,"hasNextPage":`...)
	dst = strconv.AppendBool(dst, pi.HasNextPage)
	dst = append(dst, `,"hasPreviousPage":`...)
	dst = strconv.AppendBool(dst, pi.HasPreviousPage)
	dst = append(dst, `,"startCursor":`...)
	dst = appendCursor(dst, pi.StartCursor)
	return append(dst, '}')
}

func appendCursor(dst []byte, c *Cursor) []byte {
	if c == nil {
		return append(dst, "null"...)
	}
	return appendString(dst, c.String())
}

// Entities returns the entities listed at level l across all its pages,
// sorted, without duplicates: the values the query's variable l.Var() took
// in this result (see [Query.Patterns]), by which invalidation topics can
// be narrowed. Entities that only bound a page (the one after it, say) are
// not listed; their triples are in Triples.
func (r *Result) Entities(l *Level) []store.EntityID {
	var out []store.EntityID
	var walk func(pages []*Page)
	seen := map[*Page]bool{}
	walk = func(pages []*Page) {
		for _, p := range pages {
			if p == nil || seen[p] {
				continue
			}
			seen[p] = true
			if p.Level == l {
				for _, e := range p.Entities {
					out = append(out, e.ID)
				}
				continue
			}
			for _, e := range p.Entities {
				walk(e.Links)
			}
		}
	}
	walk(r.Tops)
	return sortIDs(out)
}
