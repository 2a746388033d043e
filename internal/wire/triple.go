package wire

import (
	"encoding/json"
	"fmt"

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
		b = fmt.Appendf(b, "%d]", t.CreatedAt)
	}
	return append(b, ']'), nil
}

// UnmarshalJSON implements json.Unmarshaler. It keeps nothing of b.
func (ts *Triples) UnmarshalJSON(b []byte) error {
	var raws [][]json.RawMessage
	if err := json.Unmarshal(b, &raws); err != nil {
		return fmt.Errorf("%w: triples must be an array of arrays: %v", ErrMalformed, err)
	}
	out := make(Triples, len(raws))
	for i, r := range raws {
		if len(r) != 4 {
			return fmt.Errorf("%w: triple %d has %d elements, want 4", ErrMalformed, i, len(r))
		}
		e, a, v, err := decodeKey(r[:3])
		if err != nil {
			return fmt.Errorf("%w: triple %d: %v", ErrMalformed, i, err)
		}
		var t int64
		if err := json.Unmarshal(r[3], &t); err != nil {
			return fmt.Errorf("%w: triple %d created-at: %v", ErrMalformed, i, err)
		}
		out[i] = store.Triple{E: e, A: a, V: v, CreatedAt: t}
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
	var raws [][]json.RawMessage
	if err := json.Unmarshal(b, &raws); err != nil {
		return fmt.Errorf("%w: keys must be an array of arrays: %v", ErrMalformed, err)
	}
	out := make(Keys, len(raws))
	for i, r := range raws {
		if len(r) != 3 {
			return fmt.Errorf("%w: key %d has %d elements, want 3", ErrMalformed, i, len(r))
		}
		e, a, v, err := decodeKey(r)
		if err != nil {
			return fmt.Errorf("%w: key %d: %v", ErrMalformed, i, err)
		}
		out[i] = store.TripleKey{E: e, A: a, V: v}
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

func decodeKey(r []json.RawMessage) (e, a store.EntityID, v store.Value, err error) {
	if err = json.Unmarshal(r[0], &e); err != nil {
		return e, a, v, fmt.Errorf("entity: %v", err)
	}
	if err = json.Unmarshal(r[1], &a); err != nil {
		return e, a, v, fmt.Errorf("attribute: %v", err)
	}
	if v, err = store.ParseValue(r[2]); err != nil {
		return e, a, v, fmt.Errorf("value: %v", err)
	}
	return e, a, v, nil
}
