package reactor

import (
	"strconv"

	"github.com/triplesync/triplesync/internal/jsonlite"
	"github.com/triplesync/triplesync/internal/wire"
	"github.com/triplesync/triplesync/store"
)

// The record formats of [Mutation] and [CachedQuery] were written by
// encoding/json from struct types (mutationJSON and cachedQueryJSON, kept
// in record_oracle_test.go). They are encoded and decoded here by hand, for
// the size of the WebAssembly client, to the same bytes and with the same
// results and error messages: records already on disk and in IndexedDB
// must load, and hashes or comparisons of stored bytes must not change.
// The tests hold both directions to encoding/json.

// MarshalJSON implements json.Marshaler: the record format storages keep,
// {"v":1,"id":…,"seq":…,"steps":[…],"created":…,"tx-id":…,"confirmed":…}
// with tx-id and confirmed only when set.
func (m Mutation) MarshalJSON() ([]byte, error) {
	dst := make([]byte, 0, 128)
	dst = append(dst, `{"v":`...)
	dst = strconv.AppendInt(dst, recordVersion, 10)
	dst = append(dst, `,"id":`...)
	dst = jsonlite.AppendString(dst, m.ID)
	dst = append(dst, `,"seq":`...)
	dst = strconv.AppendUint(dst, m.Seq, 10)
	dst = append(dst, `,"steps":[`...)
	for i, s := range m.Steps {
		if i > 0 {
			dst = append(dst, ',')
		}
		b, err := s.MarshalJSON()
		if dst, err = appendMarshaled(dst, b, err, "store.Step"); err != nil {
			return nil, err
		}
	}
	dst = append(dst, `],"created":`...)
	dst = strconv.AppendInt(dst, m.Created, 10)
	if m.TxID != 0 {
		dst = append(dst, `,"tx-id":`...)
		dst = strconv.AppendInt(dst, int64(m.TxID), 10)
	}
	if m.Confirmed != 0 {
		dst = append(dst, `,"confirmed":`...)
		dst = strconv.AppendInt(dst, m.Confirmed, 10)
	}
	return append(dst, '}'), nil
}

var mutationFields = []string{"v", "id", "seq", "steps", "created", "tx-id", "confirmed"}

// UnmarshalJSON implements json.Unmarshaler. Errors wrap [ErrCorrupt].
func (m *Mutation) UnmarshalJSON(b []byte) error {
	var j Mutation
	var v int
	r := recordDecoder{typ: "mutationJSON", data: b}
	err := r.top(func(k string) error {
		switch name := jsonlite.Match(k, mutationFields); name {
		case "v":
			return r.int(&v, name, "int")
		case "id":
			return r.string(&j.ID, name)
		case "seq":
			return r.uint64(&j.Seq, name)
		case "steps":
			return r.steps(&j.Steps)
		case "created":
			return r.int64(&j.Created, name, "int64")
		case "tx-id":
			return r.int64((*int64)(&j.TxID), name, "store.TxID")
		case "confirmed":
			return r.int64(&j.Confirmed, name, "int64")
		}
		return r.d.Skip()
	})
	if err != nil {
		return corrupt("mutation: " + err.Error())
	}
	if v != recordVersion || j.ID == "" {
		return corrupt("mutation: version " + strconv.Itoa(v) + ", id " + strconv.Quote(j.ID))
	}
	*m = j
	return nil
}

// MarshalJSON implements json.Marshaler: the record format storages keep,
// {"v":1,"id":…,"q":…,"triples":[…],"processed-tx-id":…,"last-used":…}.
func (q CachedQuery) MarshalJSON() ([]byte, error) {
	raw := q.Q
	if len(raw) == 0 {
		raw = []byte("null")
	}
	dst := make([]byte, 0, 128+len(raw)+100*len(q.Triples))
	dst = append(dst, `{"v":`...)
	dst = strconv.AppendInt(dst, recordVersion, 10)
	dst = append(dst, `,"id":`...)
	dst = jsonlite.AppendString(dst, q.ID)
	dst = append(dst, `,"q":`...)
	var err error
	if dst, err = appendMarshaled(dst, raw, nil, "json.RawMessage"); err != nil {
		return nil, err
	}
	dst = append(dst, `,"triples":`...)
	b, err := wire.Triples(q.Triples).MarshalJSON()
	if dst, err = appendMarshaled(dst, b, err, "wire.Triples"); err != nil {
		return nil, err
	}
	dst = append(dst, `,"processed-tx-id":`...)
	dst = strconv.AppendInt(dst, int64(q.ProcessedTxID), 10)
	dst = append(dst, `,"last-used":`...)
	dst = strconv.AppendInt(dst, q.LastUsed, 10)
	return append(dst, '}'), nil
}

var cachedQueryFields = []string{"v", "id", "q", "triples", "processed-tx-id", "last-used"}

// UnmarshalJSON implements json.Unmarshaler. Errors wrap [ErrCorrupt].
func (q *CachedQuery) UnmarshalJSON(b []byte) error {
	var j CachedQuery
	var v int
	var triples wire.Triples
	r := recordDecoder{typ: "cachedQueryJSON", data: b}
	err := r.top(func(k string) error {
		switch name := jsonlite.Match(k, cachedQueryFields); name {
		case "v":
			return r.int(&v, name, "int")
		case "id":
			return r.string(&j.ID, name)
		case "q":
			raw, err := r.d.Raw()
			if err != nil {
				return err
			}
			j.Q = append(j.Q[:0], raw...) // as json.RawMessage: null is "null"
			return nil
		case "triples":
			raw, err := r.d.Raw()
			if err != nil {
				return err
			}
			return triples.UnmarshalJSON(raw)
		case "processed-tx-id":
			return r.int64((*int64)(&j.ProcessedTxID), name, "store.TxID")
		case "last-used":
			return r.int64(&j.LastUsed, name, "int64")
		}
		return r.d.Skip()
	})
	if err != nil {
		return corrupt("cached query: " + err.Error())
	}
	if v != recordVersion || j.ID == "" {
		return corrupt("cached query: version " + strconv.Itoa(v) + ", id " + strconv.Quote(j.ID))
	}
	j.Triples = triples
	*q = j
	return nil
}

// appendMarshaled appends a MarshalJSON method's output b (or its error)
// as encoding/json does: an error names the type, invalid output is an
// error, and the text goes in compacted, with <, >, &, U+2028 and U+2029
// escaped.
func appendMarshaled(dst, b []byte, err error, typ string) ([]byte, error) {
	if err == nil {
		err = jsonlite.Check(b)
	}
	if err != nil {
		return dst, jsonlite.MarshalerError(typ, err)
	}
	return jsonlite.AppendCompact(dst, b), nil
}

// recordDecoder decodes a record as encoding/json decoded it into a struct
// (named typ in messages): keys match field names case-insensitively;
// unknown keys are skipped; null leaves a field as it is (a slice becomes
// nil); a value of the wrong type is an error after which the rest of the
// record is still decoded, the first such error reported unless a field's
// UnmarshalJSON fails; and malformed JSON anywhere is reported before all
// else, since encoding/json checks the whole text before decoding it.
//
// The field readers return only errors that end the decoding: malformed
// JSON and a field's UnmarshalJSON error.
type recordDecoder struct {
	d    jsonlite.Decoder
	data []byte
	typ  string
	err  error // the first wrong-type error
}

// top decodes the record, calling member for each key.
func (r *recordDecoder) top(member func(k string) error) error {
	r.d.Reset(r.data)
	var err error
	switch r.d.Peek() {
	case jsonlite.Null, jsonlite.Invalid:
		err = r.d.Skip()
	case jsonlite.Object:
		err = r.d.Object(member)
	default:
		r.err = jsonlite.ValueTypeError(r.kind(), "reactor."+r.typ)
		err = r.d.Skip()
	}
	if err == nil {
		err = r.d.End()
	}
	if err != nil {
		// Malformed JSON anywhere wins over what decoding met first.
		if serr := jsonlite.Check(r.data); serr != nil {
			return serr
		}
		return err
	}
	return r.err
}

// kind names the next value as encoding/json's type errors do.
func (r *recordDecoder) kind() string {
	switch r.d.Peek() {
	case jsonlite.Bool:
		return "bool"
	case jsonlite.Number:
		return "number"
	case jsonlite.String:
		return "string"
	case jsonlite.Array:
		return "array"
	case jsonlite.Object:
		return "object"
	}
	return "null"
}

// wrong records that field got a value it cannot hold (value describes
// it), unless an earlier field did.
func (r *recordDecoder) wrong(value, field, typ string) {
	if r.err == nil {
		r.err = jsonlite.FieldTypeError(value, r.typ, field, typ)
	}
}

// wrongKind records that field got a value of the wrong kind and skips it.
func (r *recordDecoder) wrongKind(field, typ string) error {
	r.wrong(r.kind(), field, typ)
	return r.d.Skip()
}

func (r *recordDecoder) string(dst *string, field string) error {
	switch r.d.Peek() {
	case jsonlite.Null:
		return r.d.Skip()
	case jsonlite.String:
		s, err := r.d.String()
		if err == nil {
			*dst = s
		}
		return err
	}
	return r.wrongKind(field, "string")
}

// number reads the number for an integer field; ok is false when the
// value was null or of another kind (recorded and skipped).
func (r *recordDecoder) number(field, typ string) (n jsonlite.Num, ok bool, err error) {
	switch r.d.Peek() {
	case jsonlite.Null:
		return "", false, r.d.Skip()
	case jsonlite.Number:
		n, err = r.d.Number()
		return n, err == nil, err
	}
	return "", false, r.wrongKind(field, typ)
}

func (r *recordDecoder) int64(dst *int64, field, typ string) error {
	n, ok, err := r.number(field, typ)
	if ok {
		if v, perr := strconv.ParseInt(string(n), 10, 64); perr == nil {
			*dst = v
		} else {
			r.wrong("number "+string(n), field, typ)
		}
	}
	return err
}

func (r *recordDecoder) int(dst *int, field, typ string) error {
	n, ok, err := r.number(field, typ)
	if ok {
		if v, perr := strconv.ParseInt(string(n), 10, 64); perr == nil && int64(int(v)) == v {
			*dst = int(v)
		} else {
			r.wrong("number "+string(n), field, typ)
		}
	}
	return err
}

func (r *recordDecoder) uint64(dst *uint64, field string) error {
	n, ok, err := r.number(field, "uint64")
	if ok {
		if v, perr := strconv.ParseUint(string(n), 10, 64); perr == nil {
			*dst = v
		} else {
			r.wrong("number "+string(n), field, "uint64")
		}
	}
	return err
}

// steps decodes a mutation's steps, each by store.Step.UnmarshalJSON,
// whose error ends the decoding as it is.
func (r *recordDecoder) steps(dst *[]store.Step) error {
	switch r.d.Peek() {
	case jsonlite.Null:
		*dst = nil
		return r.d.Skip()
	case jsonlite.Array:
	default:
		return r.wrongKind("steps", "[]store.Step")
	}
	steps := (*dst)[:0]
	if steps == nil {
		steps = []store.Step{}
	}
	err := r.d.Array(func(i int) error {
		raw, err := r.d.Raw()
		if err != nil {
			return err
		}
		steps = append(steps, store.Step{})
		return steps[i].UnmarshalJSON(raw)
	})
	*dst = steps
	return err
}
