package wire

import (
	"errors"
	"strconv"

	"github.com/triplesync/triplesync/store"
)

// Triples is a list of triples encoded compactly, each as
// ["<e>", "<a>", <v>, <created-at>].
type Triples []store.Triple

// MarshalJSON implements json.Marshaler.
func (ts Triples) MarshalJSON() ([]byte, error) {
	if ts == nil {
		return []byte("[]"), nil
	}
	b := make([]byte, 0, 2+len(ts)*100)
	b = append(b, '[')
	for i, t := range ts {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendTriple(b, t.E, t.A, t.V)
		b = b[:len(b)-1]
		b = append(b, ',')
		b = strconv.AppendInt(b, t.CreatedAt, 10)
		b = append(b, ']')
	}
	return append(b, ']'), nil
}

// UnmarshalJSON implements json.Unmarshaler. It keeps nothing of b.
func (ts *Triples) UnmarshalJSON(b []byte) error {
	out, err := decodeTuples(b, 4, func(i int, r [][]byte) (store.Triple, error) {
		e, a, v, err := decodeKey(r[:3])
		if err != nil {
			return store.Triple{}, errors.New("triple " + strconv.Itoa(i) + ": " + err.Error())
		}
		t, err := parseInt(r[3])
		if err != nil {
			return store.Triple{}, errors.New("triple " + strconv.Itoa(i) + " created-at: " + err.Error())
		}
		return store.Triple{E: e, A: a, V: v, CreatedAt: t}, nil
	})
	if err != nil {
		return malformed("triples: " + err.Error())
	}
	*ts = out
	return nil
}

// Keys is a list of triple keys encoded compactly, each as ["<e>", "<a>", <v>].
type Keys []store.TripleKey

// MarshalJSON implements json.Marshaler.
func (ks Keys) MarshalJSON() ([]byte, error) {
	if ks == nil {
		return []byte("[]"), nil
	}
	b := make([]byte, 0, 2+len(ks)*90)
	b = append(b, '[')
	for i, k := range ks {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendTriple(b, k.E, k.A, k.V)
	}
	return append(b, ']'), nil
}

// UnmarshalJSON implements json.Unmarshaler. It keeps nothing of b.
func (ks *Keys) UnmarshalJSON(b []byte) error {
	out, err := decodeTuples(b, 3, func(i int, r [][]byte) (store.TripleKey, error) {
		e, a, v, err := decodeKey(r)
		if err != nil {
			return store.TripleKey{}, errors.New("key " + strconv.Itoa(i) + ": " + err.Error())
		}
		return store.TripleKey{E: e, A: a, V: v}, nil
	})
	if err != nil {
		return malformed("keys: " + err.Error())
	}
	*ks = out
	return nil
}

func appendTriple(b []byte, e, a store.EntityID, v store.Value) []byte {
	b = append(b, `["`...)
	b = append(b, e.String()...)
	b = append(b, `","`...)
	b = append(b, a.String()...)
	b = append(b, `",`...)
	b = v.AppendJSON(b)
	return append(b, ']')
}

func decodeKey(r [][]byte) (e, a store.EntityID, v store.Value, err error) {
	if e, err = parseID(r[0]); err != nil {
		return e, a, v, errors.New("entity: " + err.Error())
	}
	if a, err = parseID(r[1]); err != nil {
		return e, a, v, errors.New("attribute: " + err.Error())
	}
	if v, err = store.ParseValue(r[2]); err != nil {
		return e, a, v, errors.New("value: " + err.Error())
	}
	return e, a, v, nil
}
