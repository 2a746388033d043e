package store

import (
	"io"
	"strconv"

	"github.com/triplesync/triplesync/internal/errs"
)

// EntityID is an entity's UUID. It is comparable and cheap to copy, so it
// serves directly as a map key and inside btree items. The zero value is the
// nil UUID, which no valid entity uses.
type EntityID [16]byte

// AttrID identifies an attribute. Attributes are UUIDs like entities.
type AttrID = EntityID

// NewEntityID returns a random (version 4) UUID read from r. The store does no
// IO of its own: callers pass crypto/rand.Reader or a seeded source in tests.
func NewEntityID(r io.Reader) (EntityID, error) {
	var id EntityID
	if _, err := io.ReadFull(r, id[:]); err != nil {
		return EntityID{}, errs.Wrap("new entity id", err)
	}
	id[6] = (id[6] & 0x0f) | 0x40
	id[8] = (id[8] & 0x3f) | 0x80
	return id, nil
}

// ParseEntityID parses the canonical 36-character form
// (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx), in either case.
func ParseEntityID(s string) (EntityID, error) {
	var id EntityID
	if len(s) != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
		return id, wrapErr(ErrInvalidID, strconv.Quote(s))
	}
	var bad byte
	for j, i := range hexPositions {
		hi, lo := hexDigit[s[i]], hexDigit[s[i+1]]
		bad |= hi | lo
		id[j] = hi<<4 | lo&0x0f
	}
	if bad&0xf0 != 0 {
		return EntityID{}, wrapErr(ErrInvalidID, strconv.Quote(s))
	}
	return id, nil
}

// hexDigit maps a hex digit (either case) to its value and every other
// byte to 0xff: ParseEntityID ors the lookups together and checks once.
var hexDigit = func() (t [256]byte) {
	for c := range t {
		v, ok := fromHex(byte(c))
		if !ok {
			v = 0xff
		}
		t[c] = v
	}
	return t
}()

// hexPositions are where each byte's two hex digits start in the canonical
// form. (Skipping any '-' instead let a misplaced dash walk the parser off
// the end of the string: FuzzApply found it.)
var hexPositions = [16]int{0, 2, 4, 6, 9, 11, 14, 16, 19, 21, 24, 26, 28, 30, 32, 34}

// MustParseEntityID is ParseEntityID for constants in tests and examples; it
// panics on a malformed id.
func MustParseEntityID(s string) EntityID {
	id, err := ParseEntityID(s)
	if err != nil {
		panic(err)
	}
	return id
}

func fromHex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// String returns the canonical lower-case form.
func (id EntityID) String() string {
	var b [36]byte
	id.canon(&b)
	return string(b[:])
}

// Append appends the canonical form to dst.
func (id EntityID) Append(dst []byte) []byte {
	var b [36]byte
	id.canon(&b)
	return append(dst, b[:]...)
}

// isRef reports whether v is Ref(id), without allocating Ref(id).
func (id EntityID) isRef(v Value) bool {
	if v.kind != KindString || v.num != 0 || len(v.str) != 36 {
		return false
	}
	var b [36]byte
	id.canon(&b)
	return string(b[:]) == v.str
}

// canon writes the canonical form into b. (By hand: encoding/hex
// imports fmt, which the wasm client cannot afford.)
func (id EntityID) canon(b *[36]byte) {
	const digits = "0123456789abcdef"
	for i, c := range id {
		j := hexPositions[i]
		b[j], b[j+1] = digits[c>>4], digits[c&0xF]
	}
	b[8], b[13], b[18], b[23] = '-', '-', '-', '-'
}

// IsZero reports whether id is the nil UUID.
func (id EntityID) IsZero() bool { return id == EntityID{} }

// Compare orders ids bytewise, which is also the order of their canonical
// strings and of Postgres's uuid type.
func (id EntityID) Compare(o EntityID) int { return cmpID(&id, &o) }

// SearchIDs returns the index of the first of the sorted ids not below x,
// and whether it is x.
func SearchIDs(ids []EntityID, x EntityID) (int, bool) {
	lo, hi := 0, len(ids)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if cmpID(&ids[m], &x) < 0 {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo, lo < len(ids) && ids[lo] == x
}

// MarshalText implements encoding.TextMarshaler.
func (id EntityID) MarshalText() ([]byte, error) { return []byte(id.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (id *EntityID) UnmarshalText(b []byte) error {
	v, err := ParseEntityID(string(b))
	if err != nil {
		return err
	}
	*id = v
	return nil
}
