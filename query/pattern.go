package query

import (
	"strconv"
	"strings"

	"github.com/triplesync/triplesync/store"
)

// Role says why a [Pattern] is part of a query.
type Role uint8

const (
	// RoleNamespace lists a level's entities: [?L <ns>.id ?L].
	RoleNamespace Role = iota
	// RoleLink joins a level to its parent: forward [?P <link> ?C], reverse
	// [?C <link> ?P].
	RoleLink
	// RoleWhere is part of a where leaf: one pattern per hop of a dotted
	// path, then one for the final attribute, whose V (or E, for a reverse
	// link) carries the leaf's constants or comparison.
	RoleWhere
	// RoleOrder reads the order attribute: [?L <attr> ?L.$order]; absent
	// when the level orders by id.
	RoleOrder
	// RoleField reads the returned attributes: [?L <attr> ?L.<label>] per
	// field, or [?L ?L.$a ?L.$v] (any attribute) when the level returns all.
	RoleField
)

var roleNames = [...]string{"namespace", "link", "where", "order", "field"}

// String returns the role's name, e.g. "where".
func (r Role) String() string {
	if int(r) < len(roleNames) {
		return roleNames[r]
	}
	return "Role(" + strconv.Itoa(int(r)) + ")"
}

// TermKind says what a [Term] is.
type TermKind uint8

const (
	TermVar   TermKind = iota // a variable: any value, joined with every other use of the name
	TermConst                 // one of a set of constants
	TermCmp                   // a value satisfying a predicate (V of a where leaf's last pattern)
)

// Term is one position of a pattern.
type Term struct {
	Kind TermKind
	// Var names a TermVar, and also the variable a TermCmp binds. Variables
	// are "?" + a level path ("?todos.owner") for a level's entities, and
	// "?" + path + "." + "$"-suffix for the rest (see [Query.Patterns]).
	Var string
	// IDs are the constants of a TermConst in E or A position (sorted).
	IDs []store.EntityID
	// Values are the constants of a TermConst in V position (sorted).
	Values []store.Value
	// Pred is a TermCmp's predicate; see [Pred.Affects] for which values of
	// a changed triple can change its outcome.
	Pred *Pred
}

// Pattern is one datalog pattern [E A V] of a compiled query. Patterns
// sharing a variable join on it.
type Pattern struct {
	Level   *Level
	Role    Role
	E, A, V Term
}

func tvar(name string) Term          { return Term{Kind: TermVar, Var: name} }
func tattr(a *store.Attr) Term       { return Term{Kind: TermConst, IDs: []store.EntityID{a.ID}} }
func tcmp(name string, p *Pred) Term { return Term{Kind: TermCmp, Var: name, Pred: p} }
func tvals(vals []store.Value) Term  { return Term{Kind: TermConst, Values: vals} }
func tids(ids []store.EntityID) Term { return Term{Kind: TermConst, IDs: ids} }

// String renders the pattern for debugging, e.g. "[?todos {<attr>} ?todos]".
func (p Pattern) String() string {
	return "[" + p.E.String() + " " + p.A.String() + " " + p.V.String() + "]"
}

// String renders the term for debugging: a variable, a constant set in
// braces, or a predicate.
func (t Term) String() string {
	switch t.Kind {
	case TermVar:
		return t.Var
	case TermConst:
		var parts []string
		for _, id := range t.IDs {
			parts = append(parts, id.String())
		}
		for _, v := range t.Values {
			parts = append(parts, v.String())
		}
		return "{" + strings.Join(parts, " ") + "}"
	}
	return t.Var + "(" + t.Pred.String() + ")"
}

// String renders the predicate, e.g. "$gt 5" or "$in [1 2]".
func (p *Pred) String() string {
	switch p.Op {
	case OpIsNull:
		return "$isNull " + strconv.FormatBool(p.Null)
	case OpLike, OpILike:
		return p.Op.String() + " " + strconv.Quote(p.Like.Pattern)
	}
	var parts []string
	for _, v := range p.Values {
		parts = append(parts, v.String())
	}
	if p.Null {
		parts = append(parts, "null")
	}
	return p.Op.String() + " [" + strings.Join(parts, " ") + "]"
}

// Affects reports whether adding or removing a triple with value v can
// change whether a value set satisfies p. Only the values p names matter
// to OpIn and OpNotIn, unless null is in the set, when any value can make
// the set non-empty; any value matters to OpIsNull; a comparison or like
// is affected by the values it matches.
func (p *Pred) Affects(v store.Value) bool {
	switch p.Op {
	case OpIn, OpNotIn:
		if p.Null {
			return true
		}
		for _, x := range p.Values {
			if x == v {
				return true
			}
		}
		return false
	case OpIsNull:
		return true
	}
	return p.MatchValue(v)
}

// Patterns compiles q into datalog patterns, level by level in the order of
// [Query.Levels]. For a level L with variable ?L ([Level.Var]) they are:
//
//  1. RoleLink, for a nested level under P: [?P link ?L] when the link is
//     forward (P's entities hold it), [?L link ?P] when reverse.
//  2. RoleNamespace: [?L <ns>.id ?L].
//  3. RoleWhere, for each where leaf k (numbered in the clause's pre-order
//     from 0, and/or ignored): for hop i of a dotted path, from variable X
//     (first ?L) to ?L.$w<k>.<i>: forward [X link ?L.$w<k>.<i>], reverse
//     [?L.$w<k>.<i> link X]. Then, from the last variable Y, the attribute:
//     [Y attr V] where V is a TermConst of the values for equality and $in
//     (without null), else a TermCmp binding ?L.$w<k> with the leaf's
//     predicate. For a reverse link as the last step the ids are in E:
//     [E link Y] with E a TermConst of the ids for equality and $in, else
//     the variable ?L.$w<k>.
//  4. RoleOrder, unless the level orders by id: [?L attr ?L.$order].
//  5. RoleField, unless the level only counts: [?L attr ?L.<label>] for
//     each field; [?L ?L.$a ?L.$v] when the level returns all attributes.
//
// The slice is freshly built; the caller owns it.
func (q *Query) Patterns() []Pattern {
	var out []Pattern
	for _, l := range q.levels {
		v := l.Var()
		if l.Parent != nil {
			pv := l.Parent.Var()
			if l.Reverse {
				out = append(out, Pattern{Level: l, Role: RoleLink, E: tvar(v), A: tattr(l.Link), V: tvar(pv)})
			} else {
				out = append(out, Pattern{Level: l, Role: RoleLink, E: tvar(pv), A: tattr(l.Link), V: tvar(v)})
			}
		}
		out = append(out, Pattern{Level: l, Role: RoleNamespace, E: tvar(v), A: tattr(l.ID), V: tvar(v)})
		k := 0
		l.Where.leaves(func(lf *Leaf) {
			out = append(out, leafPatterns(l, lf, v+".$w"+strconv.Itoa(k))...)
			k++
		})
		if l.Order.Attr != l.ID {
			out = append(out, Pattern{Level: l, Role: RoleOrder, E: tvar(v), A: tattr(l.Order.Attr), V: tvar(v + ".$order")})
		}
		if l.Count {
			continue
		}
		if l.Fields == nil {
			out = append(out, Pattern{Level: l, Role: RoleField, E: tvar(v), A: tvar(v + ".$a"), V: tvar(v + ".$v")})
		}
		for _, a := range l.Fields {
			out = append(out, Pattern{Level: l, Role: RoleField, E: tvar(v), A: tattr(a), V: tvar(v + "." + a.Label)})
		}
	}
	return out
}

// leafPatterns compiles one where leaf; name is the leaf's variable prefix.
func leafPatterns(l *Level, lf *Leaf, name string) []Pattern {
	var out []Pattern
	x := l.Var()
	for i, h := range lf.Hops {
		y := name + "." + strconv.Itoa(i)
		if h.Reverse {
			out = append(out, Pattern{Level: l, Role: RoleWhere, E: tvar(y), A: tattr(h.Attr), V: tvar(x)})
		} else {
			out = append(out, Pattern{Level: l, Role: RoleWhere, E: tvar(x), A: tattr(h.Attr), V: tvar(y)})
		}
		x = y
	}
	p := &lf.Pred
	exact := p.Op == OpIn && !p.Null
	if lf.Reverse {
		e := tvar(name)
		if exact {
			ids := make([]store.EntityID, 0, len(p.Values))
			for _, v := range p.Values {
				id, _ := v.AsEntityID()
				ids = append(ids, id)
			}
			e = tids(ids)
		}
		return append(out, Pattern{Level: l, Role: RoleWhere, E: e, A: tattr(lf.Attr), V: tvar(x)})
	}
	v := tcmp(name, p)
	if exact {
		v = tvals(p.Values)
	}
	return append(out, Pattern{Level: l, Role: RoleWhere, E: tvar(x), A: tattr(lf.Attr), V: v})
}

// leaves calls fn for each leaf of c in pre-order; c may be nil.
func (c *Cond) leaves(fn func(*Leaf)) {
	if c == nil {
		return
	}
	if c.Kind == CondLeaf {
		fn(c.Leaf)
		return
	}
	for _, s := range c.Subs {
		s.leaves(fn)
	}
}
