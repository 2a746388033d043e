package query

import (
	"slices"
	"strconv"
	"strings"

	"github.com/triplesync/triplesync/store"
)

// CondKind says what a [Cond] is.
type CondKind uint8

const (
	CondAnd  CondKind = iota // every Sub holds (true when there are none)
	CondOr                   // some Sub holds (false when there are none)
	CondLeaf                 // Leaf holds
)

// Cond is a parsed where clause: a tree of and/or over leaves. A where
// object with several keys is the and of them; {"and": [...]}, {"or": [...]}
// nest.
type Cond struct {
	Kind CondKind
	Subs []*Cond
	Leaf *Leaf
}

// Hop is one step of a dotted path: a link followed forward (the current
// entity holds the ref) or in reverse (other entities hold refs to it).
type Hop struct {
	Attr    *store.Attr
	Reverse bool
}

// Leaf is one condition on a value set. The values of a leaf for an entity
// are found by following Hops from it (each hop to every entity linked that
// way) and then reading Attr of every entity reached: its values, or, when
// Reverse, the ids (as ref strings) of the entities that link to it through
// Attr. Null values count as absent everywhere. Pred then decides the set.
//
//	{"title": "x"}          no hops, Attr todos.title
//	{"owner": "<id>"}       no hops, Attr todos.owner (a ref: the target's id)
//	{"todos": {"$isNull": true}} on users: no hops, Attr todos.owner, Reverse
//	{"owner.name": "alice"} hop todos.owner forward, Attr users.name
type Leaf struct {
	Key     string // the where key as written, e.g. "owner.name"
	Hops    []Hop
	Attr    *store.Attr
	Reverse bool
	Pred    Pred
}

// Op is a where operator.
type Op uint8

const (
	OpIn     Op = iota // equality or $in: some value is in Values, or Null and no value
	OpNotIn            // $not / $ne: not OpIn
	OpIsNull           // $isNull: no value when Null, some value when not
	OpGt               // $gt: some value of the operand's kind is greater
	OpGte              // $gte
	OpLt               // $lt
	OpLte              // $lte
	OpLike             // $like: some string value matches
	OpILike            // $ilike: some string value matches, ignoring case
)

var opNames = [...]string{"$in", "$not", "$isNull", "$gt", "$gte", "$lt", "$lte", "$like", "$ilike"}

// String returns the operator as written in queries, e.g. "$gt";
// OpNotIn is "$not".
func (o Op) String() string {
	if int(o) < len(opNames) {
		return opNames[o]
	}
	return "Op(" + strconv.Itoa(int(o)) + ")"
}

// Pred is a leaf's predicate over the leaf's value set S (nulls removed):
//
//	OpIn     (some v in S is in Values) or (Null and S is empty)
//	OpNotIn  not OpIn
//	OpIsNull S is empty == Null
//	OpGt...  some v in S has the kind of Values[0] and compares so with it
//	OpLike   some v in S is a string Like matches
//
// Equality with null means "no value", so {"title": null} is OpIsNull and
// {"$ne": null} is OpIsNull with Null false.
type Pred struct {
	Op     Op
	Values []store.Value // OpIn, OpNotIn: the set, sorted, no nulls; comparisons: the operand
	Null   bool          // OpIn, OpNotIn: null is in the set; OpIsNull: want no value
	Like   *Like         // OpLike, OpILike
}

// parseWhere parses a where object of namespace ns.
func (q *Query) parseWhere(ns string, x any, path string) (*Cond, error) {
	obj, ok := x.(map[string]any)
	if !ok {
		return nil, errorAt(path, ErrMalformed, "where is a JSON object")
	}
	and := &Cond{Kind: CondAnd}
	for _, k := range sortedKeys(obj) {
		v, kpath := obj[k], path+"."+k
		switch k {
		case "and", "or":
			list, ok := v.([]any)
			if !ok {
				return nil, errorAt(kpath, ErrMalformed, k+" is an array of where objects")
			}
			c := &Cond{Kind: CondAnd}
			if k == "or" {
				c.Kind = CondOr
			}
			for i, e := range list {
				sub, err := q.parseWhere(ns, e, kpath+"."+strconv.Itoa(i))
				if err != nil {
					return nil, err
				}
				c.Subs = append(c.Subs, sub)
			}
			and.Subs = append(and.Subs, c)
		default:
			leaves, err := q.parseLeaves(ns, k, v, kpath)
			if err != nil {
				return nil, err
			}
			and.Subs = append(and.Subs, leaves...)
		}
	}
	if len(and.Subs) == 1 {
		return and.Subs[0], nil
	}
	return and, nil
}

// parseLeaves parses one where key (an attribute or dotted path) and its
// value (a value to equal, or an object of operators, all of which must
// hold).
func (q *Query) parseLeaves(ns, key string, x any, path string) ([]*Cond, error) {
	base, err := q.resolvePath(ns, key, path)
	if err != nil {
		return nil, err
	}
	obj, isObj := x.(map[string]any)
	if !isObj || !hasOperator(obj) {
		// A plain value (or an object with no "$" key: a JSON value) to equal.
		p, err := eqPred(base, x, path)
		if err != nil {
			return nil, err
		}
		return []*Cond{leafCond(base, p)}, nil
	}
	var out []*Cond
	for _, op := range sortedKeys(obj) {
		opath := path + "." + op
		if !strings.HasPrefix(op, "$") {
			return nil, errorAt(opath, ErrBadOperator, "operators and values cannot be mixed")
		}
		p, err := parsePred(base, op, obj[op], opath)
		if err != nil {
			return nil, err
		}
		out = append(out, leafCond(base, p))
	}
	return out, nil
}

func hasOperator(m map[string]any) bool {
	for k := range m {
		if strings.HasPrefix(k, "$") {
			return true
		}
	}
	return false
}

func leafCond(base *Leaf, p Pred) *Cond {
	l := *base
	l.Pred = p
	return &Cond{Kind: CondLeaf, Leaf: &l}
}

// resolvePath resolves a where key: every dot-separated step but the last
// must be a link; the last is an attribute, a forward link (its ref value)
// or a reverse link (the ids of the entities linking in).
func (q *Query) resolvePath(ns, key, path string) (*Leaf, error) {
	steps := strings.Split(key, ".")
	l := &Leaf{Key: key}
	for i, step := range steps {
		last := i == len(steps)-1
		if a, ok := q.attrs.ByName(ns, step); ok {
			if last {
				l.Attr = a
				return l, nil
			}
			if !a.IsRef() {
				return nil, errorAt(path, ErrUnknownAttr, ns+"."+step+" is not a link, so "+strconv.Quote(key)+" cannot go on")
			}
			l.Hops = append(l.Hops, Hop{Attr: a})
			ns = a.RefNamespace
			continue
		}
		if a, ok := q.attrs.Reverse(ns, step); ok {
			if last {
				l.Attr, l.Reverse = a, true
				return l, nil
			}
			l.Hops = append(l.Hops, Hop{Attr: a, Reverse: true})
			ns = a.Namespace
			continue
		}
		return nil, errorAt(path, ErrUnknownAttr, ns+" has no attribute or link "+strconv.Quote(step))
	}
	panic("unreachable")
}

// isIDLike reports whether the leaf's values are entity ids: the id
// attribute, a link read forward or a link read in reverse.
func (l *Leaf) isIDLike() bool {
	return l.Reverse || l.Attr.IsRef() || l.Attr.Label == store.IDLabel
}

// checkValue converts a query value to the form the leaf's triples hold it
// in, or fails with ErrWrongType.
func checkValue(l *Leaf, x any, path string) (store.Value, error) {
	x, _ = plainNumbers(x, false) // every number fits: appendCanon checked
	v, err := store.FromAny(x)
	if err != nil {
		return store.Value{}, errorAt(path, ErrWrongType, err.Error())
	}
	if l.isIDLike() {
		id, ok := v.AsEntityID()
		if !ok {
			return store.Value{}, errorAt(path, ErrWrongType, l.Key+" wants an entity id, got "+v.String())
		}
		return store.Ref(id), nil
	}
	cv, err := l.Attr.Check(v)
	if err != nil {
		return store.Value{}, errorAt(path, ErrWrongType, err.Error())
	}
	return cv, nil
}

// eqPred is the predicate of a plain value: equality, or "no value" for
// null.
func eqPred(l *Leaf, x any, path string) (Pred, error) {
	if x == nil {
		return Pred{Op: OpIsNull, Null: true}, nil
	}
	v, err := checkValue(l, x, path)
	if err != nil {
		return Pred{}, err
	}
	return Pred{Op: OpIn, Values: []store.Value{v}}, nil
}

// sortValues returns vs sorted by store.Compare, in a new slice. It sorts
// pointers, which share one generic sort instantiation with every other
// pointer sort (a sort of Value elements would cost the wasm client some
// 20 KB of code of its own).
func sortValues(vs []store.Value) []store.Value {
	ps := make([]*store.Value, len(vs))
	for i := range vs {
		ps[i] = &vs[i]
	}
	slices.SortFunc(ps, func(a, b *store.Value) int { return store.Compare(*a, *b) })
	out := make([]store.Value, len(vs))
	for i, p := range ps {
		out[i] = *p
	}
	return out
}

// parsePred parses one operator and its operand.
func parsePred(l *Leaf, op string, x any, path string) (Pred, error) {
	switch op {
	case "$in":
		list, ok := x.([]any)
		if !ok {
			return Pred{}, errorAt(path, ErrWrongType, "$in takes an array")
		}
		p := Pred{Op: OpIn, Values: []store.Value{}}
		for i, e := range list {
			if e == nil {
				p.Null = true
				continue
			}
			v, err := checkValue(l, e, path+"."+strconv.Itoa(i))
			if err != nil {
				return Pred{}, err
			}
			p.Values = append(p.Values, v)
		}
		p.Values = slices.Compact(sortValues(p.Values))
		return p, nil
	case "$not", "$ne":
		p, err := eqPred(l, x, path)
		if err != nil {
			return Pred{}, err
		}
		if p.Op == OpIsNull {
			p.Null = false
		} else {
			p.Op = OpNotIn
		}
		return p, nil
	case "$isNull":
		b, ok := x.(bool)
		if !ok {
			return Pred{}, errorAt(path, ErrWrongType, "$isNull takes true or false")
		}
		return Pred{Op: OpIsNull, Null: b}, nil
	case "$gt", "$gte", "$lt", "$lte":
		if l.isIDLike() {
			return Pred{}, errorAt(path, ErrBadOperator, l.Key+" compares ids only for equality")
		}
		if x == nil {
			return Pred{}, errorAt(path, ErrWrongType, op+" needs a non-null operand")
		}
		v, err := checkValue(l, x, path)
		if err != nil {
			return Pred{}, err
		}
		ops := map[string]Op{"$gt": OpGt, "$gte": OpGte, "$lt": OpLt, "$lte": OpLte}
		return Pred{Op: ops[op], Values: []store.Value{v}}, nil
	case "$like", "$ilike":
		if l.isIDLike() {
			return Pred{}, errorAt(path, ErrBadOperator, l.Key+" cannot be matched with "+op)
		}
		switch l.Attr.Type {
		case store.TypeString, store.TypeAny, store.TypeJSON:
		default:
			return Pred{}, errorAt(path, ErrWrongType, l.Key+" holds "+l.Attr.Type.String()+" values, not strings")
		}
		s, ok := x.(string)
		if !ok {
			return Pred{}, errorAt(path, ErrWrongType, op+" takes a string pattern")
		}
		like, err := NewLike(s, op == "$ilike")
		if err != nil {
			return Pred{}, &Error{Path: path, Err: err}
		}
		p := Pred{Op: OpLike, Like: like}
		if like.Fold {
			p.Op = OpILike
		}
		return p, nil
	}
	return Pred{}, errorAt(path, ErrBadOperator, "unknown operator "+strconv.Quote(op))
}
