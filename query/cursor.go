package query

import (
	"encoding/base64"

	"github.com/triplesync/triplesync/store"
)

// Cursor is a position in a level's order: the sort value of an entity and
// its id. Cursors are opaque to clients; [Cursor.String] gives the text that
// pageInfo carries and "after"/"before" take back.
//
// A level's order is total: entities with a non-null value of the order
// attribute come first, by value (ascending or descending as asked) and then
// by id in the same direction; entities without a value (no triple, or only
// null) come last, whatever the direction, by id in the order's direction
// ("nulls last"). The default order is by id ascending.
type Cursor struct {
	Missing bool           // the entity has no non-null value of the order attribute
	V       store.Value    // the sort value; Null when Missing
	E       store.EntityID // the entity
}

// String encodes c: unpadded base64url of the JSON array ["<id>", <value>],
// or ["<id>"] when the value is missing.
func (c Cursor) String() string {
	b := make([]byte, 0, 64)
	b = append(b, '[', '"')
	b = append(b, c.E.String()...)
	b = append(b, '"')
	if !c.Missing {
		b = append(b, ',')
		b = c.V.AppendJSON(b)
	}
	b = append(b, ']')
	return base64.RawURLEncoding.EncodeToString(b)
}

// MarshalText implements encoding.TextMarshaler.
func (c Cursor) MarshalText() ([]byte, error) { return []byte(c.String()), nil }

// ParseCursor decodes a cursor made by [Cursor.String]. Any other input gives
// an error wrapping [ErrBadCursor]; it never panics.
func ParseCursor(s string) (Cursor, error) {
	bad := func(why string) (Cursor, error) {
		return Cursor{}, wrapSentinel(ErrBadCursor, why)
	}
	if len(s) > 1<<16 {
		return bad("too long")
	}
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return bad("not base64url")
	}
	x, err := decodeJSON(raw)
	if err != nil {
		return bad("not JSON")
	}
	arr, ok := x.([]any)
	if !ok || len(arr) < 1 || len(arr) > 2 {
		return bad("not an array of one or two elements")
	}
	es, ok := arr[0].(string)
	if !ok {
		return bad("entity is not a string")
	}
	e, err := store.ParseEntityID(es)
	if err != nil {
		return bad("entity is not a uuid")
	}
	if len(arr) == 1 {
		return Cursor{Missing: true, E: e}, nil
	}
	plain, ok := plainNumbers(arr[1], true)
	if !ok {
		return bad("value is not a JSON value")
	}
	v, err := store.FromAny(plain)
	if err != nil {
		return bad("value is not a JSON value")
	}
	if v.IsNull() {
		return bad("null value: a missing value has no value element")
	}
	return Cursor{V: v, E: e}, nil
}

// comparePos orders two positions in a level's order (see [Cursor]): desc
// reverses values and ids, but missing values sort last either way.
func comparePos(a, b Cursor, desc bool) int {
	if a.Missing != b.Missing {
		if a.Missing {
			return 1
		}
		return -1
	}
	c := 0
	if !a.Missing {
		c = store.Compare(a.V, b.V)
	}
	if c == 0 {
		c = cmpID(&a.E, &b.E)
	}
	if desc {
		return -c
	}
	return c
}
