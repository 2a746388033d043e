package topics

import (
	"fmt"
	"unicode"
	"unicode/utf8"

	"github.com/triplesync/triplesync/store"
)

// Op is a comparison operator of a v part, named as in InstaQL where
// clauses.
type Op uint8

const (
	Gt     Op = iota + 1 // $gt: the value sorts after the argument
	Gte                  // $gte: the value sorts after or equals the argument
	Lt                   // $lt: the value sorts before the argument
	Lte                  // $lte: the value sorts before or equals the argument
	Like                 // $like: a string matching the pattern (% any run, _ one character)
	ILike                // $ilike: $like ignoring case
	Not                  // $not: the value differs from the argument
	IsNull               // $isNull: the value is null (argument true) or is not (false)
)

var opNames = [...]string{Gt: "$gt", Gte: "$gte", Lt: "$lt", Lte: "$lte", Like: "$like", ILike: "$ilike", Not: "$not", IsNull: "$isNull"}

// String returns the operator's InstaQL name, e.g. "$gt".
func (o Op) String() string {
	if o >= Gt && int(o) < len(opNames) {
		return opNames[o]
	}
	return fmt.Sprintf("Op(%d)", uint8(o))
}

// ParseOp parses an InstaQL operator name such as "$gte".
func ParseOp(s string) (Op, error) {
	for i, n := range opNames {
		if n != "" && n == s {
			return Op(i), nil
		}
	}
	return 0, fmt.Errorf("%w: operator %q", ErrInvalidComparison, s)
}

// comparison is a compiled v comparison.
type comparison struct {
	op     Op
	arg    store.Value
	like   []likeTok // Like, ILike: the compiled pattern
	prefix string    // Like: the literal text every match starts with
}

// Cmp returns the comparison "value op arg" as a v part. The ordering
// operators use the total order of [store.Compare] (null < booleans <
// numbers < strings < JSON), so {"$gt": 5} holds for every string: that is
// coarser than a typed comparison, never finer, so a topic never misses a
// value the query engine would accept. $like and $ilike need a string
// argument and hold only for strings; $isNull needs a boolean.
//
// Every operator here judges one value of a change. InstaQL's $not and
// $isNull judge an entity's whole value set, absent values included ("no
// title" is $not "x"), so adding or removing any value can flip them: a
// query's topic for those is a value set or the wildcard, never these
// comparisons (see invalidator.PlanOf).
func Cmp(op Op, arg store.Value) (Part, error) {
	c := &comparison{op: op, arg: arg}
	switch op {
	case Gt, Gte, Lt, Lte, Not:
	case Like, ILike:
		s, ok := arg.AsString()
		if !ok {
			return Part{}, fmt.Errorf("%w: %s needs a string, got %s", ErrInvalidComparison, op, arg)
		}
		c.like = compileLike(s)
		if op == Like {
			c.prefix = likePrefix(c.like)
		}
	case IsNull:
		if _, ok := arg.AsBool(); !ok {
			return Part{}, fmt.Errorf("%w: %s needs a boolean, got %s", ErrInvalidComparison, op, arg)
		}
	default:
		return Part{}, fmt.Errorf("%w: %s", ErrInvalidComparison, op)
	}
	return Part{kind: kindCmp, cmp: c}, nil
}

// MustCmp is [Cmp] for constants in tests and examples; it panics on an
// invalid comparison.
func MustCmp(op Op, arg store.Value) Part {
	p, err := Cmp(op, arg)
	if err != nil {
		panic(err)
	}
	return p
}

// Satisfies reports whether v satisfies the comparison op arg, with the
// semantics documented on [Cmp]. It is false for an invalid comparison.
func Satisfies(v store.Value, op Op, arg store.Value) bool {
	p, err := Cmp(op, arg)
	if err != nil {
		return false
	}
	return p.cmp.match(v)
}

// match reports whether v satisfies c.
func (c *comparison) match(v store.Value) bool {
	switch c.op {
	case Gt:
		return store.Compare(v, c.arg) > 0
	case Gte:
		return store.Compare(v, c.arg) >= 0
	case Lt:
		return store.Compare(v, c.arg) < 0
	case Lte:
		return store.Compare(v, c.arg) <= 0
	case Like, ILike:
		s, ok := v.AsString()
		return ok && likeMatch(c.like, s, c.op == ILike)
	case Not:
		return v != c.arg
	case IsNull:
		want, _ := c.arg.AsBool()
		return v.IsNull() == want
	}
	return false
}

// matchAny reports whether some value of vs satisfies c; vs is sorted, so
// the ordering operators look only at its ends.
func (c *comparison) matchAny(vs []store.Value) bool {
	if len(vs) == 0 {
		return false
	}
	switch c.op {
	case Gt, Gte:
		return c.match(vs[len(vs)-1])
	case Lt, Lte:
		return c.match(vs[0])
	}
	for _, v := range vs {
		if c.match(v) {
			return true
		}
	}
	return false
}

// likeTok is one element of a compiled LIKE pattern.
type likeTok struct {
	kind uint8 // tokLit, tokOne, tokMany
	r    rune
}

const (
	tokLit  uint8 = iota // the rune itself
	tokOne               // _: exactly one character
	tokMany              // %: any run of characters, the empty one included
)

// compileLike splits a LIKE pattern into tokens. A backslash makes the
// next character literal (so `\%` matches a percent sign), as in
// Postgres; a trailing backslash stands for itself. Runs of % collapse.
func compileLike(pat string) []likeTok {
	toks := make([]likeTok, 0, len(pat))
	for i := 0; i < len(pat); {
		r, size := utf8.DecodeRuneInString(pat[i:])
		i += size
		switch r {
		case '%':
			if n := len(toks); n > 0 && toks[n-1].kind == tokMany {
				continue
			}
			toks = append(toks, likeTok{kind: tokMany})
		case '_':
			toks = append(toks, likeTok{kind: tokOne})
		case '\\':
			if i < len(pat) {
				r, size = utf8.DecodeRuneInString(pat[i:])
				i += size
			}
			toks = append(toks, likeTok{kind: tokLit, r: r})
		default:
			toks = append(toks, likeTok{kind: tokLit, r: r})
		}
	}
	return toks
}

// likePrefix returns the literal text at the start of a compiled pattern.
func likePrefix(toks []likeTok) string {
	var b []byte
	for _, t := range toks {
		if t.kind != tokLit {
			break
		}
		b = utf8.AppendRune(b, t.r)
	}
	return string(b)
}

// likeMatch matches s against a compiled pattern, character by character
// (a character is a UTF-8 rune; an invalid byte counts as one). It is the
// usual wildcard walk that backtracks only to the last %, so it runs in
// O(len(pattern)·len(s)) at worst and linear time in practice.
func likeMatch(pat []likeTok, s string, fold bool) bool {
	pi, si := 0, 0
	starPi, starSi := -1, 0
	for si < len(s) {
		r, size := utf8.DecodeRuneInString(s[si:])
		if pi < len(pat) {
			switch t := pat[pi]; t.kind {
			case tokMany:
				starPi, starSi = pi, si
				pi++
				continue
			case tokOne:
				pi++
				si += size
				continue
			default:
				if t.r == r || fold && foldEqual(t.r, r) {
					pi++
					si += size
					continue
				}
			}
		}
		if starPi < 0 {
			return false
		}
		// Let the last % swallow one more character and retry.
		_, size = utf8.DecodeRuneInString(s[starSi:])
		starSi += size
		si = starSi
		pi = starPi + 1
	}
	for pi < len(pat) && pat[pi].kind == tokMany {
		pi++
	}
	return pi == len(pat)
}

// foldEqual reports whether two runes are equal ignoring case under any of
// the usual definitions: same lower case, same upper case, or the same
// Unicode simple case-folding orbit (as strings.EqualFold). Taking the
// union keeps $ilike coarse whichever definition the query engine uses.
func foldEqual(a, b rune) bool {
	if a == b || unicode.ToLower(a) == unicode.ToLower(b) || unicode.ToUpper(a) == unicode.ToUpper(b) {
		return true
	}
	for r := unicode.SimpleFold(a); r != a; r = unicode.SimpleFold(r) {
		if r == b {
			return true
		}
	}
	return false
}
