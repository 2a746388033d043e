package wire

import (
	"errors"
	"strconv"

	"github.com/triplesync/triplesync/internal/jsonlite"
	"github.com/triplesync/triplesync/store"
)

// Triples is a list of triples encoded compactly, each as
// ["<e>", "<a>", <v>, <created-at>].
type Triples []store.Triple

// MarshalJSON implements json.Marshaler.
func (ts Triples) MarshalJSON() ([]byte, error) {
	return appendTriples(make([]byte, 0, 2+len(ts)*100), ts, false), nil
}

// appendTriples appends ts as MarshalJSON writes them, nil as []; escape
// makes it what encoding/json made of that (see appendTriple).
func appendTriples(b []byte, ts Triples, escape bool) []byte {
	b = append(b, '[')
	for i := range ts {
		t := &ts[i]
		if i > 0 {
			b = append(b, ',')
		}
		b = appendTriple(b, t.E, t.A, t.V, escape)
		b[len(b)-1] = ','
		b = strconv.AppendInt(b, t.CreatedAt, 10)
		b = append(b, ']')
	}
	return append(b, ']')
}

// UnmarshalJSON implements json.Unmarshaler. It keeps nothing of b.
func (ts *Triples) UnmarshalJSON(b []byte) error {
	out := make([]store.Triple, 0, 8)
	err := decodeTuples(b, 4, func(i int, r [][]byte) error {
		e, a, v, err := decodeKey(r[:3])
		if err != nil {
			return errors.New("triple " + strconv.Itoa(i) + ": " + err.Error())
		}
		t, err := parseInt(r[3])
		if err != nil {
			return errors.New("triple " + strconv.Itoa(i) + " created-at: " + err.Error())
		}
		out = append(out, store.Triple{E: e, A: a, V: v, CreatedAt: t})
		return nil
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
	return appendKeys(make([]byte, 0, 2+len(ks)*90), ks, false), nil
}

// appendKeys appends ks as MarshalJSON writes them, nil as []; escape as
// for appendTriples.
func appendKeys(b []byte, ks Keys, escape bool) []byte {
	b = append(b, '[')
	for i := range ks {
		k := &ks[i]
		if i > 0 {
			b = append(b, ',')
		}
		b = appendTriple(b, k.E, k.A, k.V, escape)
	}
	return append(b, ']')
}

// UnmarshalJSON implements json.Unmarshaler. It keeps nothing of b.
func (ks *Keys) UnmarshalJSON(b []byte) error {
	out := make([]store.TripleKey, 0, 8)
	err := decodeTuples(b, 3, func(i int, r [][]byte) error {
		e, a, v, err := decodeKey(r)
		if err != nil {
			return errors.New("key " + strconv.Itoa(i) + ": " + err.Error())
		}
		out = append(out, store.TripleKey{E: e, A: a, V: v})
		return nil
	})
	if err != nil {
		return malformed("keys: " + err.Error())
	}
	*ks = out
	return nil
}

// appendTriple appends [e, a, v]. With escape, v is what encoding/json
// made of its canonical text when it compacted a MarshalJSON's output:
// objects and arrays keep <, > and & as they are, encoding/json escaped
// them (scalar strings come escaped already).
func appendTriple(b []byte, e, a store.EntityID, v store.Value, escape bool) []byte {
	b = append(b, '[')
	b = appendID(b, e)
	b = append(b, ',')
	b = appendID(b, a)
	b = append(b, ',')
	n := len(b)
	b = v.AppendJSON(b)
	if escape {
		b = jsonlite.CompactTail(b, n)
	}
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

// appendID appends id's canonical string, quoted, without the allocation
// of id.String().
func appendID(b []byte, id store.EntityID) []byte {
	return append(id.Append(append(b, '"')), '"')
}
