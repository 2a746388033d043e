package topics

import (
	"fmt"
	"strings"

	"github.com/triplesync/triplesync/store"
)

// Topic is a vector [idx e a v] describing a set of triples: those in one of
// the indexes Idx (zero means any index) whose entity, attribute and value
// lie in E, A and V. E and A are the wildcard or id sets; V is the
// wildcard, a value set or a comparison.
//
// A change's topics describe the triples it touched; a query's topics
// describe the triples its result can depend on. The query must re-run when
// one of its topics matches one of the change's.
type Topic struct {
	Idx store.IndexFlags
	E   Part
	A   Part
	V   Part
}

// Validate checks that every part stands where it may.
func (t Topic) Validate() error {
	if k := t.E.kind; k != kindAny && k != kindIDs {
		return fmt.Errorf("%w: e must be the wildcard or an id set, got %s", ErrInvalidPart, t.E)
	}
	if k := t.A.kind; k != kindAny && k != kindIDs {
		return fmt.Errorf("%w: a must be the wildcard or an id set, got %s", ErrInvalidPart, t.A)
	}
	if t.V.kind == kindIDs {
		return fmt.Errorf("%w: v must be the wildcard, a value set or a comparison, got ids %s", ErrInvalidPart, t.V)
	}
	return nil
}

// Match reports whether t and u intersect in every part; the zero Idx
// intersects every index set, the empty one included (a triple in no index
// still belongs to the triples table).
func (t Topic) Match(u Topic) bool {
	if t.Idx != 0 && u.Idx != 0 && t.Idx&u.Idx == 0 {
		return false
	}
	return t.A.Intersects(u.A) && t.E.Intersects(u.E) && t.V.Intersects(u.V)
}

// String formats t as "[idx e a v]", e.g. "[ea|ave _ {…} $gt 5]", with "*"
// for any index.
func (t Topic) String() string {
	var b strings.Builder
	b.WriteByte('[')
	if t.Idx == 0 {
		b.WriteByte('*')
	} else {
		b.WriteString(t.Idx.String())
	}
	for _, p := range [...]Part{t.E, t.A, t.V} {
		b.WriteByte(' ')
		b.WriteString(p.String())
	}
	b.WriteByte(']')
	return b.String()
}

// Equal reports whether t and u are the same topic.
func (t Topic) Equal(u Topic) bool {
	return t.Idx == u.Idx && t.E.Equal(u.E) && t.A.Equal(u.A) && t.V.Equal(u.V)
}

// MatchAny reports whether some topic of a matches some topic of b: the
// naive answer [Index.Lookup] gives through its maps.
func MatchAny(a, b []Topic) bool {
	for _, t := range a {
		for _, u := range b {
			if t.Match(u) {
				return true
			}
		}
	}
	return false
}
