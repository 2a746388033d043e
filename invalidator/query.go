package invalidator

import (
	"slices"

	"github.com/triplesync/triplesync/query"
	"github.com/triplesync/triplesync/store"
	"github.com/triplesync/triplesync/topics"
)

// PlanOf returns the plan of a parsed query: the coarse topic of each of
// its patterns ([query.Query.Patterns]), the [topics.SchemaTopic] of every
// namespace it names, and a fine filter when the query has a single level
// whose where clause reads only one cardinality-one attribute of the
// level's own entities.
//
// A pattern's coarse topic keeps its constants (attribute ids, the values
// of an equality or $in) and turns its variables into wildcards, with two
// exceptions that hold whatever the data. "Every attribute" of a level is
// the namespace's attributes. A level whose where clause pins its entities
// to ids (an {"id": ...} or {"id": {"$in": [...]}} that must hold: alone,
// or under "and", or in every branch of an "or") can only ever list those
// entities, so its variable is those ids in every pattern it appears in.
//
// A where predicate becomes the v part of the values that can change its
// outcome ([query.Pred.Affects]): the operand's range for $gt, $gte, $lt
// and $lte (in the total value order, which covers the typed comparison);
// the pattern for $like and $ilike; the listed values for $not; and the
// wildcard for $isNull, and for equality or $not with null, because then
// adding or removing any value can flip "has no value".
func PlanOf(q *query.Query) Plan {
	return planOf(q, q.Patterns(), pinned(q))
}

func planOf(q *query.Query, pats []query.Pattern, pins map[string]topics.Part) Plan {
	plan := Plan{Coarse: make([]topics.Topic, 0, len(pats)+1), Filter: filterOf(q)}
	bind := func(name string) (topics.Part, bool) { p, ok := pins[name]; return p, ok }
	for i := range pats {
		plan.Coarse = append(plan.Coarse, convert(q, &pats[i]).Narrow(bind))
	}
	plan.Coarse = append(plan.Coarse, schemaTopic(q, pats))
	return plan
}

// RefinementOf returns the refinement a run of q with result res gives:
// q's plan (see [PlanOf]) and its topics with these variables narrowed
// further (see [topics.Pattern.Narrow] for the conditions this meets):
//
//   - in a level's field patterns ([?L attr ?v], [?L ?a ?v]), ?L to the
//     level namespace's entities whose id triple is in res.Triples;
//   - in a nested level's link pattern, the parent's variable to the same
//     set for the parent's namespace.
//
// The id triples in res.Triples are those of every entity the result
// lists, counts or needs to bound a page, so the set holds every entity
// whose fields or links the result can show, as long as the patterns
// deciding which entities those are (namespace, where, order, which stay
// as in the plan) do not change. res must come from evaluating q.
func RefinementOf(q *query.Query, res *query.Result) Refinement {
	included := map[string][]store.EntityID{}
	attrs := q.Attrs()
	for _, t := range res.Triples {
		if a, ok := attrs.ByID(t.A); ok && a.Label == store.IDLabel {
			included[a.Namespace] = append(included[a.Namespace], t.E)
		}
	}
	pins := pinned(q)
	shown := map[*query.Level]topics.Part{} // the entities a level can show
	shownOf := func(l *query.Level) topics.Part {
		p, ok := shown[l]
		if !ok {
			p = topics.IDs(included[l.Namespace]...)
			if pin, ok := pins[l.Var()]; ok {
				p = intersect(p, pin)
			}
			shown[l] = p
		}
		return p
	}
	pats := q.Patterns()
	plan := planOf(q, pats, pins)
	ref := make([]topics.Topic, 0, len(pats)+1)
	for i := range pats {
		p := &pats[i]
		var narrow *query.Level // the level whose variable narrows to what it shows
		switch p.Role {
		case query.RoleField:
			narrow = p.Level
		case query.RoleLink:
			narrow = p.Level.Parent
		}
		ref = append(ref, convert(q, p).Narrow(func(name string) (topics.Part, bool) {
			if narrow != nil && name == narrow.Var() {
				return shownOf(narrow), true
			}
			pin, ok := pins[name]
			return pin, ok
		}))
	}
	ref = append(ref, plan.Coarse[len(plan.Coarse)-1]) // the schema topic
	return Refinement{Plan: plan, Topics: ref}
}

// pinned returns, for each level whose where clause pins its entities to
// ids, the level's variable and the ids.
func pinned(q *query.Query) map[string]topics.Part {
	var out map[string]topics.Part
	for _, l := range q.Levels() {
		if ids, ok := pins(l, l.Where); ok {
			if out == nil {
				out = map[string]topics.Part{}
			}
			out[l.Var()] = topics.IDs(ids...)
		}
	}
	return out
}

// pins returns the ids c restricts l's entities to, if it does: a leaf
// {"id": {"$in": ids}} on the entity itself; an and with such a part (the
// intersection of all of them); an or all of whose branches do (the
// union).
func pins(l *query.Level, c *query.Cond) ([]store.EntityID, bool) {
	if c == nil {
		return nil, false
	}
	switch c.Kind {
	case query.CondLeaf:
		lf := c.Leaf
		if !lf.Local() || lf.Attr != l.ID || lf.Pred.Op != query.OpIn || lf.Pred.Null {
			return nil, false
		}
		ids := make([]store.EntityID, 0, len(lf.Pred.Values))
		for _, v := range lf.Pred.Values {
			if id, ok := v.AsEntityID(); ok {
				ids = append(ids, id)
			}
		}
		return ids, true
	case query.CondAnd:
		var out topics.Part
		found := false
		for _, s := range c.Subs {
			if ids, ok := pins(l, s); ok {
				if !found {
					out, found = topics.IDs(ids...), true
				} else {
					out = intersect(out, topics.IDs(ids...))
				}
			}
		}
		ids, _ := out.IDSet()
		return ids, found
	default: // or
		if len(c.Subs) == 0 {
			return nil, true // false: no entity
		}
		var all []store.EntityID
		for _, s := range c.Subs {
			ids, ok := pins(l, s)
			if !ok {
				return nil, false
			}
			all = append(all, ids...)
		}
		return all, true
	}
}

// intersect returns the ids two id sets share.
func intersect(a, b topics.Part) topics.Part {
	x, _ := a.IDSet()
	y, _ := b.IDSet()
	var out []store.EntityID
	for _, id := range x {
		if _, ok := slices.BinarySearchFunc(y, id, store.EntityID.Compare); ok {
			out = append(out, id)
		}
	}
	return topics.IDs(out...)
}

// convert translates a query pattern into topics' vocabulary. The pattern
// of a level returning every attribute, [?L ?a ?v], reads only attributes
// of the level's namespace (the evaluator drops the others), so its
// attribute is the set of the namespace's attributes in the registry the
// query was parsed against; an attribute added later wakes the query
// through its schema topic, and the plan is made again.
func convert(q *query.Query, p *query.Pattern) topics.Pattern {
	tp := topics.Pattern{E: term(&p.E), A: term(&p.A), V: term(&p.V)}
	if p.Role == query.RoleField && p.A.Kind == query.TermVar {
		var ids []store.AttrID
		for _, a := range q.Attrs().Namespace(p.Level.Namespace) {
			ids = append(ids, a.ID)
		}
		tp.A.Part = topics.IDs(ids...)
	}
	return tp
}

func term(t *query.Term) topics.Term {
	switch t.Kind {
	case query.TermConst:
		if t.IDs != nil {
			return topics.Term{Part: topics.IDs(t.IDs...)}
		}
		return topics.Term{Part: topics.Values(t.Values...)}
	case query.TermCmp:
		return topics.Term{Var: t.Var, Part: predPart(t.Pred)}
	}
	return topics.Term{Var: t.Var}
}

// predPart returns the v part of the values whose addition or removal can
// change a predicate's outcome (see [PlanOf]).
func predPart(p *query.Pred) topics.Part {
	var op topics.Op
	var arg store.Value
	switch p.Op {
	case query.OpIn, query.OpNotIn:
		if p.Null {
			return topics.Any()
		}
		return topics.Values(p.Values...)
	case query.OpGt:
		op, arg = topics.Gt, p.Values[0]
	case query.OpGte:
		op, arg = topics.Gte, p.Values[0]
	case query.OpLt:
		op, arg = topics.Lt, p.Values[0]
	case query.OpLte:
		op, arg = topics.Lte, p.Values[0]
	case query.OpLike:
		op, arg = topics.Like, store.String(p.Like.Pattern)
	case query.OpILike:
		op, arg = topics.ILike, store.String(p.Like.Pattern)
	default: // OpIsNull, and anything new: every value matters
		return topics.Any()
	}
	part, err := topics.Cmp(op, arg)
	if err != nil {
		return topics.Any()
	}
	return part
}

// schemaTopic returns the schema topic of every namespace q names: its
// levels' namespaces and those of every attribute its patterns name
// (which covers where paths) and of their link targets.
func schemaTopic(q *query.Query, pats []query.Pattern) topics.Topic {
	var nss []string
	for _, l := range q.Levels() {
		nss = append(nss, l.Namespace)
	}
	attrs := q.Attrs()
	for i := range pats {
		if pats[i].A.Kind != query.TermConst {
			continue
		}
		for _, id := range pats[i].A.IDs {
			if a, ok := attrs.ByID(id); ok {
				nss = append(nss, a.Namespace)
				if a.RefNamespace != "" {
					nss = append(nss, a.RefNamespace)
				}
			}
		}
	}
	slices.Sort(nss)
	return topics.SchemaTopic(slices.Compact(nss)...)
}

// filterOf returns q's fine filter, or nil when q does not qualify: one
// level, a where clause whose leaves all read the same cardinality-one
// attribute of the entity itself (no dotted path, no reverse link).
func filterOf(q *query.Query) *Filter {
	levels := q.Levels()
	if len(levels) != 1 || levels[0].Where == nil {
		return nil
	}
	l := levels[0]
	var attr *store.Attr
	ok := true
	var walk func(c *query.Cond)
	walk = func(c *query.Cond) {
		if c.Kind == query.CondLeaf {
			lf := c.Leaf
			if !lf.Local() || attr != nil && lf.Attr != attr {
				ok = false
			}
			attr = lf.Attr
			return
		}
		for _, s := range c.Subs {
			walk(s)
		}
	}
	walk(l.Where)
	if !ok || attr == nil || attr.Cardinality != store.CardinalityOne {
		return nil
	}
	id := attr.ID
	return &Filter{Attr: id, Match: func(values []store.Value) bool {
		matched, decidable := l.Match(func(a store.AttrID) []store.Value {
			if a == id {
				return values
			}
			return nil
		})
		return matched || !decidable
	}}
}
