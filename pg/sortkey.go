package pg

import (
	"encoding/binary"
	"math"

	"github.com/triplesync/triplesync/store"
)

// sortKeyCut is where triples_sort_key cuts strings and JSON texts (see the
// package comment): strings of this many bytes or more share their key with
// every string starting with the same bytes.
const sortKeyCut = 1024

// Kind bytes of triples_sort_key, one per store.Kind.
const (
	keyJSON byte = 4 // objects and arrays
)

// sortKey returns triples_sort_key(v) computed in Go, and whether v is
// fuzzy: a value whose key does not place it exactly in the store's order
// (a string of sortKeyCut bytes or more, whose key is shared with every
// string starting with the same bytes, or an object or array, whose key
// follows Postgres's text form rather than the canonical one). For an
// object or array the key returned is the lowest key of its kind, a lone
// kind byte, below every object and array.
//
// Keeping it in Go saves computing keys of parameters in SQL; the tests
// compare it with the SQL function.
func sortKey(v store.Value) (key []byte, fuzzy bool) {
	switch v.Kind() {
	case store.KindNull:
		return []byte{0}, false
	case store.KindBool:
		if b, _ := v.AsBool(); b {
			return []byte{1, 1}, false
		}
		return []byte{1, 0}, false
	case store.KindNumber:
		f, _ := v.AsNumber()
		bits := math.Float64bits(f)
		if bits>>63 == 1 {
			bits = ^bits // negative: all bits flipped
		} else {
			bits |= 1 << 63 // positive: the sign bit set
		}
		key = make([]byte, 9)
		key[0] = 2
		binary.BigEndian.PutUint64(key[1:], bits)
		return key, false
	case store.KindString:
		s, _ := v.AsString()
		if len(s) >= sortKeyCut {
			return append([]byte{3}, s[:sortKeyCut]...), true
		}
		return append([]byte{3}, s...), false
	}
	return []byte{keyJSON}, true
}
