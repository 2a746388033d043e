package topics

import (
	"slices"
	"strings"

	"github.com/triplesync/triplesync/store"
)

// kind says which of its forms a Part takes.
type kind uint8

const (
	kindAny    kind = iota // the wildcard: the zero Part
	kindIDs                // a set of entity or attribute ids (e and a)
	kindValues             // a set of values (v)
	kindCmp                // a comparison (v)
)

// Part is one position of a [Topic]: the wildcard (the zero Part, see
// [Any]), a set of ids ([IDs], for e and a), a set of values ([Values], for
// v) or a comparison ([Cmp], for v). Parts are immutable once built and may
// be shared.
type Part struct {
	kind kind
	ids  []store.EntityID // kindIDs: sorted, no duplicates
	vals []store.Value    // kindValues: sorted by store.Compare, no duplicates
	cmp  *comparison      // kindCmp
}

// Any returns the wildcard, which intersects every part. It is the zero
// Part.
func Any() Part { return Part{} }

// IDs returns the set of ids. An empty set intersects nothing. IDs copies
// ids.
func IDs(ids ...store.EntityID) Part {
	s := slices.Clone(ids)
	if s == nil {
		s = []store.EntityID{}
	}
	slices.SortFunc(s, store.EntityID.Compare)
	return Part{kind: kindIDs, ids: slices.Compact(s)}
}

// ID returns the set holding only id, without sorting.
func ID(id store.EntityID) Part {
	return Part{kind: kindIDs, ids: []store.EntityID{id}}
}

// Values returns the set of values. An empty set intersects nothing.
// Values copies vs.
func Values(vs ...store.Value) Part {
	s := slices.Clone(vs)
	if s == nil {
		s = []store.Value{}
	}
	slices.SortFunc(s, store.Compare)
	return Part{kind: kindValues, vals: slices.Compact(s)}
}

// IsAny reports whether p is the wildcard.
func (p Part) IsAny() bool { return p.kind == kindAny }

// IDSet returns the ids of an id set, sorted, and whether p is one. The
// caller must not modify the slice.
func (p Part) IDSet() ([]store.EntityID, bool) { return p.ids, p.kind == kindIDs }

// ValueSet returns the values of a value set, sorted, and whether p is one.
// The caller must not modify the slice.
func (p Part) ValueSet() ([]store.Value, bool) { return p.vals, p.kind == kindValues }

// Comparison returns the operator and argument of a comparison, and whether
// p is one.
func (p Part) Comparison() (Op, store.Value, bool) {
	if p.kind != kindCmp {
		return 0, store.Value{}, false
	}
	return p.cmp.op, p.cmp.arg, true
}

// Intersects reports whether p and q have an element in common: an empty
// set intersects nothing, not even the wildcard; the wildcard intersects
// everything else; two sets intersect when they share an
// element (an id equals a value when the value is the id's ref string); a
// comparison intersects a set when some element satisfies it. Two
// comparisons are assumed to intersect: that is never wrong, only coarse.
func (p Part) Intersects(q Part) bool {
	if p.isEmpty() || q.isEmpty() {
		return false
	}
	if p.kind == kindAny || q.kind == kindAny {
		return true
	}
	if p.kind > q.kind {
		p, q = q, p
	}
	switch p.kind {
	case kindIDs:
		switch q.kind {
		case kindIDs:
			return intersectSorted(p.ids, q.ids, store.EntityID.Compare)
		case kindValues:
			for _, id := range p.ids {
				if _, ok := slices.BinarySearchFunc(q.vals, store.Ref(id), store.Compare); ok {
					return true
				}
			}
			return false
		default:
			for _, id := range p.ids {
				if q.cmp.match(store.Ref(id)) {
					return true
				}
			}
			return false
		}
	case kindValues:
		if q.kind == kindValues {
			return intersectSorted(p.vals, q.vals, store.Compare)
		}
		return q.cmp.matchAny(p.vals)
	}
	return true // two comparisons
}

// isEmpty reports whether p is an empty set.
func (p Part) isEmpty() bool {
	return p.kind == kindIDs && len(p.ids) == 0 || p.kind == kindValues && len(p.vals) == 0
}

// intersectSorted reports whether two sorted slices share an element,
// binary-searching the longer one for each element of the shorter.
func intersectSorted[T any](a, b []T, cmp func(T, T) int) bool {
	if len(a) > len(b) {
		a, b = b, a
	}
	if len(a) == 0 {
		return false
	}
	if len(a) == 1 {
		_, ok := slices.BinarySearchFunc(b, a[0], cmp)
		return ok
	}
	// Merge when the sizes are close, search when one is much smaller.
	if len(a)*8 < len(b) {
		for _, x := range a {
			if _, ok := slices.BinarySearchFunc(b, x, cmp); ok {
				return true
			}
		}
		return false
	}
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		switch c := cmp(a[i], b[j]); {
		case c == 0:
			return true
		case c < 0:
			i++
		default:
			j++
		}
	}
	return false
}

// containsID reports whether p holds id (the wildcard holds everything).
func (p Part) containsID(id store.EntityID) bool {
	switch p.kind {
	case kindAny:
		return true
	case kindIDs:
		if len(p.ids) == 1 {
			return p.ids[0] == id
		}
		_, ok := slices.BinarySearchFunc(p.ids, id, store.EntityID.Compare)
		return ok
	}
	return p.Intersects(ID(id))
}

// String formats p for transcripts and test failures: "_" for the wildcard,
// "{a b}" for a set, "$gt 5" for a comparison.
func (p Part) String() string {
	var b strings.Builder
	switch p.kind {
	case kindAny:
		return "_"
	case kindIDs:
		b.WriteByte('{')
		for i, id := range p.ids {
			if i > 0 {
				b.WriteByte(' ')
			}
			b.WriteString(id.String())
		}
		b.WriteByte('}')
	case kindValues:
		b.WriteByte('{')
		for i, v := range p.vals {
			if i > 0 {
				b.WriteByte(' ')
			}
			b.Write(v.AppendJSON(nil))
		}
		b.WriteByte('}')
	case kindCmp:
		b.WriteString(p.cmp.op.String())
		b.WriteByte(' ')
		b.Write(p.cmp.arg.AppendJSON(nil))
	}
	return b.String()
}

// Equal reports whether p and q are the same part.
func (p Part) Equal(q Part) bool {
	if p.kind != q.kind {
		return false
	}
	switch p.kind {
	case kindIDs:
		return slices.Equal(p.ids, q.ids)
	case kindValues:
		return slices.Equal(p.vals, q.vals)
	case kindCmp:
		return p.cmp.op == q.cmp.op && p.cmp.arg == q.cmp.arg
	}
	return true
}
