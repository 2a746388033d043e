package topics

import "github.com/triplesync/triplesync/store"

// Term is one position of a [Pattern]: a variable when Var is set, else the
// constant Part (an id set, a value set or a comparison). A variable may
// carry a Part too: a comparison that the values it binds must satisfy
// (InstaQL's {"$gt": 5} binds the value it compares).
type Term struct {
	Var  string
	Part Part
}

// Pattern is a datalog pattern [E A V] as topics sees it: the query
// package's patterns translate into it (topics imports nothing but store).
// Idx, when set, is the indexes the pattern reads.
type Pattern struct {
	Idx     store.IndexFlags
	E, A, V Term
}

// Coarse returns the pattern's coarse topic: constants as they are,
// variables as wildcards (or as their comparison). It describes every
// triple the pattern can ever match, so it is sound with no knowledge of
// the data: register it before the query first runs, and fall back to it
// whenever a refinement may be out of date.
func (p Pattern) Coarse() Topic {
	return Topic{Idx: p.Idx, E: p.E.Part, A: p.A.Part, V: p.V.Part}
}

// Narrow returns the pattern's topic with some variables narrowed: bind
// returns the set a variable is narrowed to (ids or values; they are
// converted to the position's kind), or ok false to leave it as in
// [Pattern.Coarse]. A variable that carries a comparison keeps it.
//
// Narrowing is the caller's claim that changes to triples outside the set
// cannot change the result. That holds when the set is the projection on
// the variable of the matches of other patterns (their full match sets,
// not only the rows that survive the whole join, and taken from the same
// snapshot the query ran against), and those other patterns' own topics
// wake the query whenever their matches change. Then a triple of this
// pattern with a value outside the set joins nothing, before the change
// and after, unless another pattern's matches changed too, which wakes the
// query through that pattern. Narrowing may chain (a link pattern narrowed
// to the parents found, the children's attributes narrowed to the children
// found) as long as no pattern is narrowed, directly or through others, by
// its own matches: the narrowing order must be acyclic. Patterns that decide
// membership under order and limit (the where, order and namespace patterns
// of a paginated level) must stay coarse in the entity, since an entity
// outside the page can enter it.
func (p Pattern) Narrow(bind func(name string) (Part, bool)) Topic {
	t := p.Coarse()
	if p.E.Var != "" && p.E.Part.IsAny() {
		if s, ok := bind(p.E.Var); ok {
			t.E = asIDs(s)
		}
	}
	if p.A.Var != "" && p.A.Part.IsAny() {
		if s, ok := bind(p.A.Var); ok {
			t.A = asIDs(s)
		}
	}
	if p.V.Var != "" && p.V.Part.IsAny() {
		if s, ok := bind(p.V.Var); ok {
			t.V = asValues(s)
		}
	}
	return t
}

// asIDs converts a set for an e or a position: values that are ref strings
// become ids; other values cannot equal an id and are dropped. The wildcard
// and id sets pass through; a comparison cannot stand there and widens to
// the wildcard.
func asIDs(p Part) Part {
	switch p.kind {
	case kindValues:
		ids := make([]store.EntityID, 0, len(p.vals))
		for _, v := range p.vals {
			if id, ok := v.AsEntityID(); ok {
				ids = append(ids, id)
			}
		}
		return IDs(ids...)
	case kindCmp:
		return Any()
	}
	return p
}

// asValues converts a set for the v position: ids become their ref
// strings.
func asValues(p Part) Part {
	if p.kind != kindIDs {
		return p
	}
	vs := make([]store.Value, len(p.ids))
	for i, id := range p.ids {
		vs[i] = store.Ref(id)
	}
	return Values(vs...)
}
