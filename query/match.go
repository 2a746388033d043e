package query

import (
	"slices"

	"github.com/triplesync/triplesync/store"
)

// Match reports whether values satisfy p. values is a leaf's value set for
// one entity, in any order, duplicates and nulls allowed (nulls count as
// absent).
func (p *Pred) Match(values []store.Value) bool {
	switch p.Op {
	case OpIn, OpNotIn:
		in := false
		empty := true
		for _, v := range values {
			if v.IsNull() {
				continue
			}
			empty = false
			if _, found := slices.BinarySearchFunc(p.Values, v, store.Compare); found {
				in = true
				break
			}
		}
		in = in || p.Null && empty
		return in == (p.Op == OpIn)
	case OpIsNull:
		for _, v := range values {
			if !v.IsNull() {
				return !p.Null
			}
		}
		return p.Null
	case OpGt, OpGte, OpLt, OpLte:
		x := p.Values[0]
		for _, v := range values {
			if v.Kind() != x.Kind() {
				continue
			}
			c := store.Compare(v, x)
			if p.Op == OpGt && c > 0 || p.Op == OpGte && c >= 0 || p.Op == OpLt && c < 0 || p.Op == OpLte && c <= 0 {
				return true
			}
		}
		return false
	case OpLike, OpILike:
		for _, v := range values {
			if p.Like.MatchValue(v) {
				return true
			}
		}
		return false
	}
	panic("query: unknown operator " + p.Op.String())
}

// MatchValue reports whether a single value satisfies the positive part of
// p: it is in the set, compares as asked or matches the pattern. For
// OpNotIn and OpIsNull, which hold only of whole sets, it reports whether
// the value would make the predicate hold were it the only one.
func (p *Pred) MatchValue(v store.Value) bool { return p.Match([]store.Value{v}) }

// Range returns the values that can satisfy a positive predicate (OpIn is
// better served by its Values), as an ordered range of the index, and
// whether p has one: comparisons stay within their operand's kind; a
// case-sensitive like with a literal prefix gives the prefix's range.
func (p *Pred) Range() (store.ValueRange, bool) {
	switch p.Op {
	case OpGt, OpGte, OpLt, OpLte:
		x := p.Values[0]
		lo, hi, hasHi := kindBounds(x.Kind())
		r := store.ValueRange{Lo: lo, HasLo: true, Hi: hi, HasHi: hasHi, HiExclusive: true}
		switch p.Op {
		case OpGt, OpGte:
			r.Lo, r.LoExclusive = x, p.Op == OpGt
		default:
			r.Hi, r.HasHi, r.HiExclusive = x, true, p.Op == OpLt
		}
		return r, true
	case OpLike:
		return p.Like.PrefixRange()
	}
	return store.ValueRange{}, false
}

// kindBounds returns the smallest value of kind k and the smallest value
// above every value of k (exclusive), which JSON objects and arrays, the
// last kind, lack.
func kindBounds(k store.Kind) (lo, hi store.Value, hasHi bool) {
	const maxFloat = 1.7976931348623157e308
	switch k {
	case store.KindNull:
		return store.Null(), store.Bool(false), true
	case store.KindBool:
		return store.Bool(false), store.Number(-maxFloat), true
	case store.KindNumber:
		return store.Number(-maxFloat), store.String(""), true
	case store.KindString:
		return store.String(""), store.Value{}, false
	}
	// Objects and arrays: no smallest value to name, so the range starts
	// after every string and the kind check in Match does the rest.
	return store.String(""), store.Value{}, false
}

// tri is a three-valued truth value: the fine filter may lack the values of
// some leaves.
type tri uint8

const (
	triFalse tri = iota
	triTrue
	triUnknown
)

func triOf(b bool) tri {
	if b {
		return triTrue
	}
	return triFalse
}

// eval evaluates c with leaf deciding each leaf.
func (c *Cond) eval(leaf func(*Leaf) tri) tri {
	switch c.Kind {
	case CondLeaf:
		return leaf(c.Leaf)
	case CondAnd:
		out := triTrue
		for _, s := range c.Subs {
			switch s.eval(leaf) {
			case triFalse:
				return triFalse
			case triUnknown:
				out = triUnknown
			}
		}
		return out
	default:
		out := triFalse
		for _, s := range c.Subs {
			switch s.eval(leaf) {
			case triTrue:
				return triTrue
			case triUnknown:
				out = triUnknown
			}
		}
		return out
	}
}

// Local reports whether the leaf reads only the entity's own triples: no
// hops and not a reverse link.
func (l *Leaf) Local() bool { return len(l.Hops) == 0 && !l.Reverse }

// Match decides the level's where clause for one entity from the entity's
// own attribute values: get(a) returns all values the entity holds for
// attribute a (nil for none). It is the fine filter of invalidation.
//
// decidable is false when the outcome depends on other entities' triples:
// a dotted path, or a reverse link, in a part of the clause that matters.
// An and with a false local part is decided false, and an or with a true
// local part true, whatever the rest. When decidable is false, matched is
// false and the caller must assume the entity may match. A level without a
// where matches every entity. Match does not check that the entity belongs
// to the namespace.
func (l *Level) Match(get func(a store.AttrID) []store.Value) (matched, decidable bool) {
	if l.Where == nil {
		return true, true
	}
	t := l.Where.eval(func(lf *Leaf) tri {
		if !lf.Local() {
			return triUnknown
		}
		return triOf(lf.Pred.Match(get(lf.Attr.ID)))
	})
	return t == triTrue, t != triUnknown
}
