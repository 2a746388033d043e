package query

import (
	"strconv"
	"unicode"
	"unicode/utf8"

	"github.com/triplesync/triplesync/store"
)

// Like is a compiled SQL LIKE pattern, the operand of "$like" and "$ilike".
//
// In Pattern, "%" matches any run of characters (none included), "_"
// exactly one character (a Unicode code point), and a backslash makes the
// next character literal ("\%", "\_", "\\"); a pattern may not end with a
// lone backslash. Everything else matches itself. The whole string must
// match, as in SQL. With Fold ("$ilike") characters match case-insensitively
// under Unicode simple case folding (the equivalence strings.EqualFold
// uses). A pattern only ever matches string values.
//
// A Like is immutable once built; share it freely.
type Like struct {
	Pattern string // as written in the query
	Fold    bool   // case-insensitive ($ilike)
	toks    []likeTok
}

type likeTok struct {
	kind uint8 // tokLit, tokOne, tokAny
	r    rune  // tokLit: the rune, folded when Fold
}

const (
	tokLit uint8 = iota
	tokOne
	tokAny
)

// NewLike compiles pattern. It fails, wrapping [ErrBadOperator], only for a
// pattern ending with a lone backslash.
func NewLike(pattern string, fold bool) (*Like, error) {
	l := &Like{Pattern: pattern, Fold: fold}
	esc := false
	for _, r := range pattern {
		switch {
		case esc:
			l.toks = append(l.toks, likeTok{kind: tokLit, r: l.fold(r)})
			esc = false
		case r == '\\':
			esc = true
		case r == '%':
			if n := len(l.toks); n == 0 || l.toks[n-1].kind != tokAny {
				l.toks = append(l.toks, likeTok{kind: tokAny})
			}
		case r == '_':
			l.toks = append(l.toks, likeTok{kind: tokOne})
		default:
			l.toks = append(l.toks, likeTok{kind: tokLit, r: l.fold(r)})
		}
	}
	if esc {
		return nil, wrapSentinel(ErrBadOperator, "like pattern "+strconv.Quote(pattern)+" ends with an escape character")
	}
	return l, nil
}

// fold maps r to the smallest rune of its case-folding orbit when l folds.
func (l *Like) fold(r rune) rune {
	if !l.Fold {
		return r
	}
	return foldRune(r)
}

func foldRune(r rune) rune {
	m := r
	for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
		if f < m {
			m = f
		}
	}
	return m
}

// MatchValue reports whether v is a string that matches.
func (l *Like) MatchValue(v store.Value) bool {
	s, ok := v.AsString()
	return ok && l.Match(s)
}

// Match reports whether s matches the whole pattern. It runs in
// O(len(s) × len(pattern)) at worst, without recursion.
func (l *Like) Match(s string) bool {
	toks := l.toks
	ti, si := 0, 0
	starT, starS := -1, 0 // the last % seen and where its match ends so far
	for {
		if ti < len(toks) && toks[ti].kind == tokAny {
			starT, starS = ti, si
			ti++
			continue
		}
		if si == len(s) {
			if ti == len(toks) {
				return true
			}
		} else if ti < len(toks) {
			r, size := utf8.DecodeRuneInString(s[si:])
			t := toks[ti]
			if t.kind == tokOne || t.r == l.fold(r) {
				ti++
				si += size
				continue
			}
		}
		// Mismatch (or pattern exhausted before s): let the last % take
		// one more character and retry from there.
		if starT < 0 || starS == len(s) {
			return false
		}
		_, size := utf8.DecodeRuneInString(s[starS:])
		starS += size
		ti, si = starT+1, starS
	}
}

// prefix returns the literal text every match starts with, when the
// pattern is case-sensitive; "" otherwise. Sources may use it to narrow an
// ordered scan to a value range.
func (l *Like) prefix() string {
	if l.Fold {
		return ""
	}
	var b []byte
	for _, t := range l.toks {
		// U+FFFD also matches invalid bytes, whose order differs: stop there.
		if t.kind != tokLit || t.r == utf8.RuneError {
			break
		}
		b = utf8.AppendRune(b, t.r)
	}
	return string(b)
}

// PrefixRange returns a value range holding every string that can match, or
// ok false when the pattern has no literal prefix (or folds case). A source
// scanning values in order may scan just this range and still apply
// [Like.MatchValue] to each value.
func (l *Like) PrefixRange() (r store.ValueRange, ok bool) {
	p := l.prefix()
	if p == "" {
		return store.ValueRange{}, false
	}
	// The smallest string above every string starting with p: p with its
	// last byte incremented (a JSON string's bytes are valid UTF-8, so never
	// 0xff; a cut-off multi-byte rune still bounds correctly bytewise).
	hi := []byte(p)
	hi[len(hi)-1]++
	return store.ValueRange{Lo: store.String(p), HasLo: true, Hi: store.String(string(hi)), HasHi: true, HiExclusive: true}, true
}
