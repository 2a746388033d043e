package querytest

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"

	"github.com/triplesync/triplesync/query"
	"github.com/triplesync/triplesync/store"
)

// Gen makes random schemas, data and queries from one seeded source, for
// oracle and contract tests. The same seed gives the same output.
type Gen struct {
	R *rand.Rand
}

// NewGen returns a generator seeded with seed.
func NewGen(seed uint64) *Gen { return &Gen{R: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))} }

func (g *Gen) id() store.EntityID {
	var id store.EntityID
	for i := range id {
		id[i] = byte(g.R.UintN(256))
	}
	return id
}

func (g *Gen) pick(n int) int { return g.R.IntN(n) }

func (g *Gen) chance(p float64) bool { return g.R.Float64() < p }

var namespaces = []string{"users", "todos", "tags"}

// Schema returns a random registry: one to three namespaces, each with an
// id attribute and a few attributes of random types, cardinalities and
// index flags, and a few links between them (self-links included).
func (g *Gen) Schema() *store.Attrs {
	nns := 1 + g.pick(3)
	var list []store.Attr
	for _, ns := range namespaces[:nns] {
		idFlags := g.pick(3)
		list = append(list, store.Attr{ID: g.id(), Namespace: ns, Label: store.IDLabel, Unique: idFlags > 0, Indexed: idFlags > 1})
		types := []store.ValueType{store.TypeString, store.TypeNumber, store.TypeBoolean, store.TypeAny, store.TypeJSON, store.TypeDate}
		for i := range 2 + g.pick(4) {
			t := types[g.pick(len(types))]
			a := store.Attr{ID: g.id(), Namespace: ns, Label: fmt.Sprintf("%s%d", t.String()[:1], i), Type: t}
			if g.chance(0.2) {
				a.Cardinality = store.CardinalityMany
			}
			a.Indexed = g.chance(0.5)
			a.Unique = a.Cardinality == store.CardinalityOne && g.chance(0.15)
			list = append(list, a)
		}
	}
	for i := range 1 + g.pick(3) {
		from, to := namespaces[g.pick(nns)], namespaces[g.pick(nns)]
		a := store.Attr{ID: g.id(), Namespace: from, Label: fmt.Sprintf("l%d", i), Type: store.TypeRef,
			RefNamespace: to, ReverseLabel: fmt.Sprintf("r%d", i)}
		if g.chance(0.5) {
			a.Cardinality = store.CardinalityMany
		}
		a.Indexed = g.chance(0.3)
		list = append(list, a)
	}
	return store.MustNewAttrs(list...)
}

var (
	poolStrings = []string{"", "a", "ab", "abc", "b", "Ab", "AB", "é", "É", "a%b", "a_c", "x\\y", "zz"}
	poolNumbers = []float64{-1, 0, 1, 2, 2.5, 10, 1e21}
	poolJSON    = []string{`{"x":1}`, `[1,2]`, `[]`, `{"a":"b"}`}
)

// value returns a random value fitting t (never a ref).
func (g *Gen) value(t store.ValueType) store.Value {
	switch t {
	case store.TypeString:
		return store.String(poolStrings[g.pick(len(poolStrings))])
	case store.TypeNumber, store.TypeDate:
		return store.Number(poolNumbers[g.pick(len(poolNumbers))])
	case store.TypeBoolean:
		return store.Bool(g.chance(0.5))
	case store.TypeJSON:
		if g.chance(0.5) {
			v, _ := store.ParseValue([]byte(poolJSON[g.pick(len(poolJSON))]))
			return v
		}
	}
	switch g.pick(5) {
	case 0:
		return store.Bool(g.chance(0.5))
	case 1:
		return store.Number(poolNumbers[g.pick(len(poolNumbers))])
	case 2:
		v, _ := store.ParseValue([]byte(poolJSON[g.pick(len(poolJSON))]))
		return v
	}
	return store.String(poolStrings[g.pick(len(poolStrings))])
}

// Data is a generated data set.
type Data struct {
	Attrs    *store.Attrs
	Triples  []store.Triple
	Entities map[string][]store.EntityID // per namespace, those with an id triple
	Ghosts   []store.EntityID            // entities holding attributes but no id triple
}

// Data returns random triples for attrs: up to maxPerNS entities per
// namespace with random values (ties, explicit nulls and missing values
// included), a few entities without their id triple, and links to random
// entities, some of which do not exist. The triples satisfy store.Load.
func (g *Gen) Data(attrs *store.Attrs, maxPerNS int) *Data {
	d := &Data{Attrs: attrs, Entities: map[string][]store.EntityID{}}
	all := map[string][]store.EntityID{}
	for _, ns := range attrs.Namespaces() {
		for range g.pick(maxPerNS + 1) {
			all[ns] = append(all[ns], g.id())
		}
	}
	for _, ns := range attrs.Namespaces() {
		used := map[store.AttrID]map[store.Value]bool{}
		for i, e := range all[ns] {
			ghost := i > 0 && g.chance(0.1)
			if ghost {
				d.Ghosts = append(d.Ghosts, e)
			} else {
				d.Entities[ns] = append(d.Entities[ns], e)
			}
			for _, a := range attrs.Namespace(ns) {
				if a.Label == store.IDLabel {
					if !ghost {
						d.Triples = append(d.Triples, g.triple(e, a, store.Ref(e)))
					}
					continue
				}
				if g.chance(0.3) {
					continue
				}
				n := 1
				if a.Cardinality == store.CardinalityMany {
					n = g.pick(4)
				}
				seen := map[store.Value]bool{}
				for range n {
					var v store.Value
					switch {
					case a.IsRef():
						targets := all[a.RefNamespace]
						if len(targets) == 0 || g.chance(0.1) {
							v = store.Ref(g.id())
						} else {
							v = store.Ref(targets[g.pick(len(targets))])
						}
					case g.chance(0.08) && a.Type != store.TypeJSON:
						v = store.Null()
					default:
						v = g.value(a.Type)
					}
					if seen[v] {
						continue
					}
					if a.Unique {
						if used[a.ID] == nil {
							used[a.ID] = map[store.Value]bool{}
						}
						if used[a.ID][v] {
							continue
						}
						used[a.ID][v] = true
					}
					seen[v] = true
					d.Triples = append(d.Triples, g.triple(e, a, v))
				}
			}
		}
	}
	return d
}

func (g *Gen) triple(e store.EntityID, a *store.Attr, v store.Value) store.Triple {
	return store.Triple{E: e, A: a.ID, V: v, CreatedAt: int64(1700000000000 + g.pick(1000))}
}

// Query returns a random valid query text over d: one or two namespaces,
// where clauses of every operator (dotted paths, links and and/or
// included), orders, every kind of pagination with cursors at existing
// positions and elsewhere, fields, aggregates, and nested links up to
// depth levels down.
func (g *Gen) Query(d *Data, depth int) []byte {
	nss := d.Attrs.Namespaces()
	q := map[string]any{}
	for range 1 + g.pick(2) {
		ns := nss[g.pick(len(nss))]
		q[ns] = g.level(d, ns, depth, true)
	}
	b, err := json.Marshal(q)
	if err != nil {
		panic(err)
	}
	return b
}

func (g *Gen) level(d *Data, ns string, depth int, top bool) map[string]any {
	lv := map[string]any{}
	opts := map[string]any{}
	if g.chance(0.6) {
		opts["where"] = g.where(d, ns, 2)
	}
	if g.chance(0.1) {
		opts["aggregate"] = "count"
		lv["$"] = opts
		return lv
	}
	var orderAttr *store.Attr
	if g.chance(0.6) && (top || g.chance(0.5)) {
		var cands []*store.Attr
		for _, a := range d.Attrs.Namespace(ns) {
			if a.Cardinality == store.CardinalityOne {
				cands = append(cands, a)
			}
		}
		orderAttr = cands[g.pick(len(cands))]
		dir := "asc"
		if g.chance(0.5) {
			dir = "desc"
		}
		opts["order"] = map[string]any{orderAttr.Label: dir}
	}
	if orderAttr == nil {
		orderAttr, _ = d.Attrs.IDAttr(ns)
	}
	cursor := func() string { return g.cursor(d, ns, orderAttr).String() }
	n := func() int { return g.pick(6) }
	pick := g.pick(9)
	if !top && g.chance(0.5) {
		pick = 8 // nested levels list all their matches more often
	}
	switch pick {
	case 0:
		opts["limit"] = n()
	case 1:
		opts["limit"] = n()
		opts["offset"] = n()
	case 2:
		opts["first"] = n()
		opts["after"] = cursor()
	case 3:
		opts["last"] = n()
		opts["before"] = cursor()
	case 4:
		opts["last"] = n()
	case 5:
		opts["after"] = cursor()
		opts["before"] = cursor()
		if g.chance(0.5) {
			opts["first"] = n()
		}
	case 6:
		opts["first"] = n()
		opts["after"] = cursor()
		opts["offset"] = n()
	case 7:
		opts["offset"] = n()
	}
	if g.chance(0.2) {
		var fields []any
		for _, a := range d.Attrs.Namespace(ns) {
			if !a.IsRef() && g.chance(0.5) {
				fields = append(fields, a.Label)
			}
		}
		if fields == nil {
			fields = []any{}
		}
		opts["fields"] = fields
	}
	if len(opts) > 0 || g.chance(0.5) {
		lv["$"] = opts
	}
	if depth > 0 {
		for _, l := range links(d.Attrs, ns) {
			if g.chance(0.35) {
				lv[l.label] = g.level(d, l.target, depth-1, false)
			}
		}
	}
	return lv
}

type link struct {
	label, target string
	attr          *store.Attr
	reverse       bool
}

// links lists the links readable from ns, forward and reverse.
func links(attrs *store.Attrs, ns string) []link {
	var out []link
	for _, a := range attrs.All() {
		if !a.IsRef() {
			continue
		}
		if a.Namespace == ns {
			out = append(out, link{a.Label, a.RefNamespace, a, false})
		}
		if a.RefNamespace == ns {
			out = append(out, link{a.ReverseLabel, a.Namespace, a, true})
		}
	}
	slices.SortFunc(out, func(x, y link) int {
		if x.label < y.label {
			return -1
		}
		if x.label > y.label {
			return 1
		}
		return 0
	})
	return out
}

// cursor returns a position: mostly an existing entity's, sometimes a
// random value or a missing one.
func (g *Gen) cursor(d *Data, ns string, a *store.Attr) query.Cursor {
	es := d.Entities[ns]
	var e store.EntityID
	if len(es) == 0 || g.chance(0.15) {
		e = g.id()
	} else {
		e = es[g.pick(len(es))]
	}
	if a.Label == store.IDLabel {
		return query.Cursor{V: store.Ref(e), E: e}
	}
	if g.chance(0.15) {
		return query.Cursor{Missing: true, E: e}
	}
	for _, t := range d.Triples {
		if t.E == e && t.A == a.ID && !t.V.IsNull() && g.chance(0.9) {
			return query.Cursor{V: t.V, E: e}
		}
	}
	if a.IsRef() {
		return query.Cursor{V: store.Ref(g.id()), E: e}
	}
	v := g.value(a.Type)
	if v.IsNull() {
		return query.Cursor{Missing: true, E: e}
	}
	return query.Cursor{V: v, E: e}
}

// where returns a random where object over ns.
func (g *Gen) where(d *Data, ns string, depth int) map[string]any {
	w := map[string]any{}
	for range 1 + g.pick(2) {
		if depth > 0 && g.chance(0.2) {
			var subs []any
			for range g.pick(3) + g.pick(2) {
				subs = append(subs, g.where(d, ns, depth-1))
			}
			if subs == nil {
				subs = []any{}
			}
			if g.chance(0.5) {
				w["or"] = subs
			} else {
				w["and"] = subs
			}
			continue
		}
		key, final, reverse := g.path(d, ns)
		w[key] = g.cond(d, final, reverse)
	}
	return w
}

// path returns a random where key from ns: up to two hops, then an
// attribute or a link.
func (g *Gen) path(d *Data, ns string) (key string, final *store.Attr, reverse bool) {
	for hops := g.pick(3); ; hops-- {
		ls := links(d.Attrs, ns)
		if hops > 0 && len(ls) > 0 && g.chance(0.5) {
			l := ls[g.pick(len(ls))]
			key += l.label + "."
			ns = l.target
			continue
		}
		if len(ls) > 0 && g.chance(0.2) {
			l := ls[g.pick(len(ls))]
			return key + l.label, l.attr, l.reverse
		}
		as := d.Attrs.Namespace(ns)
		a := as[g.pick(len(as))]
		return key + a.Label, a, false
	}
}

// cond returns a random condition on a leaf.
func (g *Gen) cond(d *Data, a *store.Attr, reverse bool) any {
	idLike := reverse || a.IsRef() || a.Label == store.IDLabel
	val := func() any {
		if idLike {
			ns := a.RefNamespace
			if reverse {
				ns = a.Namespace
			} else if a.Label == store.IDLabel {
				ns = a.Namespace
			}
			es := d.Entities[ns]
			if len(es) == 0 || g.chance(0.1) {
				return g.id().String()
			}
			return es[g.pick(len(es))].String()
		}
		for range 3 {
			v := g.value(a.Type)
			if _, err := a.Check(v); err == nil && !v.IsNull() {
				return v.Any()
			}
		}
		return nil
	}
	ops := []string{"eq", "$in", "$not", "$ne", "$isNull"}
	if !idLike {
		ops = append(ops, "$gt", "$gte", "$lt", "$lte")
		if a.Type == store.TypeString || a.Type == store.TypeAny || a.Type == store.TypeJSON {
			ops = append(ops, "$like", "$ilike")
		}
	}
	switch op := ops[g.pick(len(ops))]; op {
	case "eq":
		return val()
	case "$in":
		var vs []any
		for range g.pick(4) {
			vs = append(vs, val())
		}
		if vs == nil {
			vs = []any{}
		}
		return map[string]any{op: vs}
	case "$isNull":
		return map[string]any{op: g.chance(0.5)}
	case "$like", "$ilike":
		pats := []string{"a%", "%b", "_", "%", "a\\%b", "A%", "%b%", "a_c", "é", "x\\\\y", ""}
		return map[string]any{op: pats[g.pick(len(pats))]}
	case "$gt", "$gte", "$lt", "$lte":
		v := val()
		if v == nil {
			v = 1
		}
		m := map[string]any{op: v}
		if g.chance(0.3) {
			m["$lte"] = val()
			if m["$lte"] == nil {
				delete(m, "$lte")
			}
		}
		return m
	default:
		return map[string]any{op: val()}
	}
}
