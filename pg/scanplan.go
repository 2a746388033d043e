package pg

import (
	"strconv"
	"strings"

	"github.com/triplesync/triplesync/query"
	"github.com/triplesync/triplesync/store"
)

// scanPlan is the SQL of one [query.Scan].
//
// Every scan reads the triples its filters select, narrowed in SQL by
// every filter that has an exact or a wider SQL form:
//
//	A      attr_id = $a
//	E      entity_id = any($e::uuid[])
//	V      value = any($v::text[]::jsonb[]) (and, on AVE, the sort keys of V)
//	Range  triples_sort_key(value) against the keys of the bounds: exact for
//	       values whose key is exact, inclusive of the whole group otherwise
//	Like   (value #>> '{}') collate "C" like $p on strings; $ilike stays in Go,
//	       since Postgres's lower() is not Unicode simple case folding
//	After  the key comparison of the index, widened the same way
//
// and ordered by its index:
//
//	EAV  order by entity_id, attr_id, with ties: values within an entity and
//	     attribute are sorted in Go, and "fetch first n rows with ties"
//	     never cuts between them
//	AEV  order by entity_id, with ties (the attribute is fixed)
//	VAE  order by (value #>> '{}') collate "C", entity_id: values are ref
//	     strings, whose byte order is the store's, and the attribute is fixed
//	AVE  for an attribute with the ave flag, triples_ave_idx: order by
//	     triples_sort_key(value), entity_id. The order is exact except within
//	     a fuzzy group (see sortKey): all objects and arrays, or all long
//	     strings sharing a key. When the limited head of the scan ends inside
//	     such a group, the same statement adds the whole group (a lateral
//	     join on the head's last key), so Go can sort it exactly. For an
//	     attribute without the flag (the evaluator then sets no Limit or
//	     After) the whole answer is read and sorted in Go.
type scanPlan struct {
	s     *query.Scan
	kind  attrKind // of s.A
	index int      // position in the Scan call
	// limit is the limit pushed into SQL, 0 for none: the scan's own, or
	// larger after a short answer.
	limit int
	// targets are the entity ids of a VAE scan's values, as text.
	targets []string
	// values are the canonical texts of the other scans' values.
	values []string
	// goAfter: After is applied in Go only.
	goAfter bool
}

// newScanPlan returns the plan of s, or nil when s selects nothing
// whatever the data (an empty entity or value set, an After past every
// possible triple).
func newScanPlan(s *query.Scan, index int, kind attrKind) *scanPlan {
	if s.E != nil && len(s.E) == 0 || s.V != nil && len(s.V) == 0 {
		return nil
	}
	p := &scanPlan{s: s, kind: kind, index: index}
	if s.Limit > 0 && (s.Like == nil || !s.Like.Fold) && (s.Index != query.AVE || kind.ave) {
		// With a filter only Go applies, a pushed limit would count rows
		// Go drops: read the whole answer instead.
		p.limit = s.Limit
	}
	if s.Index == query.VAE {
		for _, v := range s.V {
			if id, ok := v.AsEntityID(); ok && store.Ref(id) == v {
				p.targets = append(p.targets, id.String())
			}
		}
		if len(p.targets) == 0 {
			return nil
		}
	}
	if s.After != nil && s.Index != query.EAV && p.afterAttr() > 0 {
		return nil
	}
	// Postgres text and jsonb cannot hold U+0000, so no stored value has
	// it: a pattern with it matches nothing, values with it are none of
	// the stored ones, and an After string with it is left to Go.
	if s.Like != nil && strings.IndexByte(s.Like.Pattern, 0) >= 0 {
		return nil
	}
	if s.V != nil && s.Index != query.VAE {
		p.values = make([]string, 0, len(s.V))
		for _, v := range s.V {
			if !hasNUL(v.Any()) {
				p.values = append(p.values, v.String())
			}
		}
	}
	if s.Index == query.VAE && s.After != nil {
		if str, ok := s.After.V.AsString(); ok && strings.IndexByte(str, 0) >= 0 {
			p.goAfter, p.limit = true, 0
		}
	}
	return p
}

// afterAttr places the scan's fixed attribute against After's, in the
// direction of the scan, for AEV and AVE whose keys start with the
// attribute: -1 when every triple of A comes after After (After can be
// ignored), +1 when none does (the answer is empty), 0 when After is on A.
func (p *scanPlan) afterAttr() int {
	c := p.s.After.A.Compare(p.s.A) // < 0: After's attribute sorts first
	if p.s.Index == query.VAE {
		return 0 // the value comes first; see vaeAfter
	}
	if p.s.Desc {
		c = -c
	}
	return c
}

// sqlBuilder collects a statement's text and its arguments.
type sqlBuilder struct {
	args []any
}

func (q *sqlBuilder) arg(v any) string {
	q.args = append(q.args, v)
	return "$" + strconv.Itoa(len(q.args))
}

const (
	sk      = `triples_sort_key(value)`
	refText = `(value #>> '{}') collate "C"`
	columns = `entity_id, attr_id, value::text, created_at`
)

// sql returns the statement and its arguments.
func (p *scanPlan) sql() (string, []any) {
	q := &sqlBuilder{}
	s := p.s
	var conds []string
	if !s.A.IsZero() {
		conds = append(conds, "attr_id = "+q.arg([16]byte(s.A)))
	}
	if s.E != nil {
		ids := make([][16]byte, len(s.E))
		for i, e := range s.E {
			ids[i] = e
		}
		conds = append(conds, "entity_id = any("+q.arg(ids)+"::uuid[])")
	}
	var vals string
	if s.V != nil && s.Index != query.VAE {
		vals = q.arg(p.values) + "::text[]::jsonb[]"
		conds = append(conds, "value = any("+vals+")")
	}
	if s.Like != nil && !s.Like.Fold {
		conds = append(conds, "jsonb_typeof(value) = 'string'", refText+" like "+q.arg(s.Like.Pattern)+"::text")
	}
	conds = append(conds, q.rangeConds(s.Range)...)

	switch s.Index {
	case query.EAV:
		conds = append(conds, p.eavAfter(q)...)
		return p.simple(q, conds, "entity_id"+desc(s), "attr_id"+desc(s)), q.args
	case query.AEV:
		conds = append(conds, p.aevAfter(q)...)
		return p.simple(q, conds, "entity_id"+desc(s)), q.args
	case query.VAE:
		conds = append(conds, "vae", "(value #>> '{}') = any("+q.arg(p.targets)+"::text[])")
		conds = append(conds, p.vaeAfter(q)...)
		return p.simple(q, conds, refText+desc(s), "entity_id"+desc(s)), q.args
	}
	if !p.kind.ave {
		return p.simple(q, conds), q.args // read whole, sorted in Go
	}
	return p.ave(q, conds, vals), q.args
}

func desc(s *query.Scan) string {
	if s.Desc {
		return " desc"
	}
	return ""
}

// simple is the statement of EAV, AEV and VAE: one select, ordered, with
// the limit taking ties on the order's columns (EAV, AEV: the value is
// sorted in Go) or exact (VAE, whose order is total).
func (p *scanPlan) simple(q *sqlBuilder, conds []string, order ...string) string {
	var b strings.Builder
	b.WriteString("select 0, " + columns + " from triples where ")
	b.WriteString(and(conds))
	if p.limit > 0 {
		// Unlimited answers are sorted in Go anyway.
		b.WriteString(" order by " + strings.Join(order, ", "))
		if p.s.Index == query.VAE {
			b.WriteString(" limit " + q.arg(p.limit) + "::int8")
		} else {
			b.WriteString(" fetch first (" + q.arg(p.limit) + "::int8) rows with ties")
		}
	}
	return b.String()
}

// ave is the statement of an AVE scan of an attribute with the ave flag,
// served by triples_ave_idx: a head in sort-key order (limited), plus,
// when the head is full and its last key is a fuzzy group's, the whole
// group.
func (p *scanPlan) ave(q *sqlBuilder, conds []string, vals string) string {
	s := p.s
	head := append([]string{"ave"}, conds...)
	if vals != "" {
		// The index finds values by key; keys of the parameters are computed
		// once, in an init plan.
		head = append(head, sk+" = any(array(select triples_sort_key(x) from unnest("+vals+") x))")
	}
	if s.Like != nil {
		if r, ok := s.Like.PrefixRange(); ok {
			head = append(head, q.rangeConds(r)...)
		}
	}
	head = append(head, p.aveAfter(q)...)
	var b strings.Builder
	b.WriteString("with head as materialized (select entity_id, attr_id, value, created_at, " + sk + " as sk from triples where ")
	b.WriteString(and(head))
	b.WriteString(" order by " + sk + desc(s) + ", entity_id" + desc(s))
	var limit string
	if p.limit > 0 {
		limit = q.arg(p.limit) + "::int8"
		b.WriteString(" limit " + limit)
	}
	b.WriteString(") select 0, " + columns + " from head")
	if p.limit > 0 {
		// The head's last row is its greatest key ascending, its least
		// descending. A fuzzy group: objects and arrays (kind byte 4, all of
		// them), or long strings sharing a cut key (1 + 1024 bytes).
		dir := " desc"
		if s.Desc {
			dir = ""
		}
		b.WriteString(" union all select 1, " + columns + " from (select sk from (select sk from head order by sk" + dir + " limit 1) x" +
			" where (get_byte(sk, 0) = 4 or get_byte(sk, 0) = 3 and length(sk) = 1025) and (select count(*) from head) >= " +
			limit + ") l cross join lateral (select entity_id, attr_id, value, created_at from triples where " + and(head) +
			" and " + sk + " >= (case when get_byte(l.sk, 0) = 4 then decode('04', 'hex') else l.sk end)" +
			" and " + sk + " <= (case when get_byte(l.sk, 0) = 4 then decode('05', 'hex') else l.sk end)) g")
	}
	return b.String()
}

// rangeConds are r's bounds on the sort key.
func (q *sqlBuilder) rangeConds(r store.ValueRange) []string {
	var conds []string
	if r.HasLo {
		op := ">="
		if r.LoExclusive {
			op = ">"
		}
		conds = appendCond(conds, q.valueCmp(op, r.Lo))
	}
	if r.HasHi {
		op := "<="
		if r.HiExclusive {
			op = "<"
		}
		conds = appendCond(conds, q.valueCmp(op, r.Hi))
	}
	return conds
}

// valueCmp compares the sort key of the row's value with v's: exactly
// (triples_sort_key(value) op key) when v's key is exact, and otherwise in
// the wider form that keeps v's whole group, since the order within it is
// settled in Go. "" means no condition.
func (q *sqlBuilder) valueCmp(op string, v store.Value) string {
	key, fuzzy := sortKey(v)
	if !fuzzy {
		return sk + " " + op + " " + q.arg(key) + "::bytea"
	}
	switch {
	case op == ">" || op == ">=":
		return sk + " >= " + q.arg(key) + "::bytea" // JSON: every object and array
	case v.Kind() == store.KindJSON:
		return "" // below some object or array: anything
	}
	return sk + " <= " + q.arg(key) + "::bytea"
}

func appendCond(conds []string, c string) []string {
	if c == "" {
		return conds
	}
	return append(conds, c)
}

// after returns the operators of "after" in the scan's direction: strictly
// greater (and greater or equal) ascending, smaller descending.
func (p *scanPlan) after() (strict, loose string) {
	if p.s.Desc {
		return "<", "<="
	}
	return ">", ">="
}

// eavAfter bounds an EAV scan to After's entity and attribute onwards, and
// within them to values after After's.
func (p *scanPlan) eavAfter(q *sqlBuilder) []string {
	a := p.s.After
	if a == nil {
		return nil
	}
	strict, loose := p.after()
	ea := "(" + q.arg([16]byte(a.E)) + "::uuid, " + q.arg([16]byte(a.A)) + "::uuid)"
	conds := []string{"(entity_id, attr_id) " + loose + " " + ea}
	if v := q.valueCmp(strict, a.V); v != "" {
		conds = append(conds, "((entity_id, attr_id) "+strict+" "+ea+" or "+v+")")
	}
	return conds
}

// aevAfter bounds an AEV scan (of After's attribute; see afterAttr) to
// After's entity onwards, and within it to values after After's.
func (p *scanPlan) aevAfter(q *sqlBuilder) []string {
	a := p.s.After
	if a == nil || p.afterAttr() < 0 {
		return nil
	}
	strict, loose := p.after()
	e := q.arg([16]byte(a.E)) + "::uuid"
	conds := []string{"entity_id " + loose + " " + e}
	if v := q.valueCmp(strict, a.V); v != "" {
		conds = append(conds, "(entity_id "+strict+" "+e+" or "+v+")")
	}
	return conds
}

// aveAfter bounds the index branch of an AVE scan to keys after After's:
// exactly on (key, entity) when After's value has an exact key, to its
// whole group otherwise.
func (p *scanPlan) aveAfter(q *sqlBuilder) []string {
	a := p.s.After
	if a == nil || p.afterAttr() < 0 {
		return nil
	}
	strict, _ := p.after()
	key, fuzzy := sortKey(a.V)
	if fuzzy {
		return appendCond(nil, q.valueCmp(strict, a.V))
	}
	return []string{"(" + sk + ", entity_id) " + strict + " (" + q.arg(key) + "::bytea, " + q.arg([16]byte(a.E)) + "::uuid)"}
}

// vaeAfter bounds a VAE scan, ordered by (value, attribute, entity), to the
// triples after After. Every value is a ref string, so After's value is
// compared as text when it is a string; otherwise its kind alone decides.
func (p *scanPlan) vaeAfter(q *sqlBuilder) []string {
	a := p.s.After
	if a == nil || p.goAfter {
		return nil
	}
	str, isString := a.V.AsString()
	if !isString {
		// Every ref string lies after a null, boolean or number and before
		// an object or array.
		if (a.V.Kind() < store.KindString) == !p.s.Desc {
			return nil
		}
		return []string{"false"}
	}
	strict, loose := p.after()
	v := q.arg(str) + "::text"
	switch c := p.s.A.Compare(a.A); {
	case c == 0:
		return []string{"(" + refText + ", entity_id) " + strict + " (" + v + ", " + q.arg([16]byte(a.E)) + "::uuid)"}
	case (c > 0) == !p.s.Desc:
		// The scan's attribute comes after After's: the same value is after.
		return []string{refText + " " + loose + " " + v}
	default:
		return []string{refText + " " + strict + " " + v}
	}
}

func and(conds []string) string {
	if len(conds) == 0 {
		return "true"
	}
	return strings.Join(conds, " and ")
}
