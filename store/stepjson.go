package store

import (
	"errors"
	"slices"
	"strconv"

	"github.com/triplesync/triplesync/internal/jsonlite"
)

// The wire form of steps, read and written with internal/jsonlite. The
// step codec used encoding/json; its errors reach clients inside step
// messages, so these helpers word them as encoding/json did (held to it by
// the tests in stepjson_test.go).

// rawArray reads b, one JSON text, as json.Unmarshal reads it into a
// []json.RawMessage: the elements' exact bytes (nil for null).
func rawArray(b []byte) ([][]byte, error) {
	var d jsonlite.Decoder
	d.Reset(b)
	var out [][]byte
	var err error
	if !d.Null() {
		err = d.Array(func(int) error {
			raw, err := d.Raw()
			out = append(out, raw)
			return err
		})
	}
	if err == nil {
		err = d.End()
	}
	if err != nil {
		return nil, unmarshalErr(b, err, "[]json.RawMessage")
	}
	return out, nil
}

// unmarshalErr is err, met reading b, as json.Unmarshal reports it: a
// syntax error anywhere in b first (encoding/json checks the whole text
// before decoding), else a value of the wrong kind for type typ.
func unmarshalErr(b []byte, err error, typ string) error {
	if serr := jsonlite.Check(b); serr != nil {
		return serr
	}
	if te, ok := errors.AsType[*jsonlite.TypeError](err); ok {
		return jsonlite.ValueTypeError(te.Got.ValueName(), typ)
	}
	return err
}

// unmarshalString reads a valid JSON text as json.Unmarshal reads it into a
// string: null leaves s as it was.
func unmarshalString(b []byte, s *string) error {
	var d jsonlite.Decoder
	d.Reset(b)
	if d.Null() {
		return nil
	}
	v, err := d.String()
	if err != nil {
		return err
	}
	*s = v
	return nil
}

// structDecoder reads one JSON object into a struct the way encoding/json
// does with DisallowUnknownFields: keys matched exactly or else
// case-insensitively, null leaving a field as it was, a value of the wrong
// kind or an unknown key noted (the first one is the error) while reading
// goes on, an error from a field's UnmarshalText ending it at once.
type structDecoder struct {
	d      jsonlite.Decoder
	name   string // the struct's Go name, "stepOptions"
	typ    string // its qualified type, "store.stepOptions"
	fields []string
	saved  error
}

// decode reads b (a valid JSON text), calling set with the index of the
// field each key names. set reads the value with the helpers below.
func (s *structDecoder) decode(b []byte, set func(field int) error) error {
	s.d.Reset(b)
	s.saved = nil
	if s.d.Null() {
		return nil
	}
	if k := s.d.Peek(); k != jsonlite.Object {
		return jsonlite.ValueTypeError(k.ValueName(), s.typ)
	}
	err := s.d.Object(func(key string) error {
		f := s.field(key)
		if f < 0 {
			s.save(errors.New("json: unknown field " + strconv.Quote(key)))
			return s.d.Skip()
		}
		return set(f)
	})
	if err != nil {
		return err
	}
	return s.saved
}

func (s *structDecoder) field(key string) int {
	return slices.Index(s.fields, jsonlite.Match(key, s.fields))
}

func (s *structDecoder) save(err error) {
	if s.saved == nil {
		s.saved = err
	}
}

// mismatch notes a value of the wrong kind for field (of Go type typ) and
// skips it.
func (s *structDecoder) mismatch(field, typ string) error {
	s.save(jsonlite.FieldTypeError(s.d.Peek().ValueName(), s.name, field, typ))
	return s.d.Skip()
}

func (s *structDecoder) str(field string, dst *string) error {
	switch s.d.Peek() {
	case jsonlite.Null:
		s.d.Null()
		return nil
	case jsonlite.String:
		v, err := s.d.String()
		*dst = v
		return err
	}
	return s.mismatch(field, "string")
}

func (s *structDecoder) bool(field string, dst *bool) error {
	switch s.d.Peek() {
	case jsonlite.Null:
		s.d.Null()
		return nil
	case jsonlite.Bool:
		v, err := s.d.Bool()
		*dst = v
		return err
	}
	return s.mismatch(field, "bool")
}

// text reads a field of a type with UnmarshalText (Go type typ): a string
// goes to unmarshal, whose error ends the decoding.
func (s *structDecoder) text(field, typ string, unmarshal func([]byte) error) error {
	switch s.d.Peek() {
	case jsonlite.Null:
		s.d.Null()
		return nil
	case jsonlite.String:
		v, err := s.d.String()
		if err != nil {
			return err
		}
		return unmarshal([]byte(v))
	}
	return s.mismatch(field, typ)
}

var attrFields = []string{"id", "namespace", "label", "value-type", "cardinality", "unique", "indexed",
	"ref-namespace", "reverse-label", "on-delete-cascade"}

// decodeAttr reads an attribute definition as encoding/json's Decoder with
// DisallowUnknownFields read it into an Attr.
func decodeAttr(b []byte, a *Attr) error {
	s := structDecoder{name: "Attr", typ: "store.Attr", fields: attrFields}
	return s.decode(b, func(f int) error {
		name := attrFields[f]
		switch f {
		case 0:
			return s.text(name, "store.EntityID", a.ID.UnmarshalText)
		case 1:
			return s.str(name, &a.Namespace)
		case 2:
			return s.str(name, &a.Label)
		case 3:
			return s.text(name, "store.ValueType", a.Type.UnmarshalText)
		case 4:
			return s.text(name, "store.Cardinality", a.Cardinality.UnmarshalText)
		case 5:
			return s.bool(name, &a.Unique)
		case 6:
			return s.bool(name, &a.Indexed)
		case 7:
			return s.str(name, &a.RefNamespace)
		case 8:
			return s.str(name, &a.ReverseLabel)
		default:
			return s.bool(name, &a.OnDeleteCascade)
		}
	})
}

var optionFields = []string{"mode", "value-lookup"}

// decodeOptions reads a triple step's options as encoding/json's Decoder
// with DisallowUnknownFields read them into a stepOptions.
func decodeOptions(b []byte, o *stepOptions) error {
	s := structDecoder{name: "stepOptions", typ: "store.stepOptions", fields: optionFields}
	return s.decode(b, func(f int) error {
		if f == 0 {
			return s.str("mode", &o.Mode)
		}
		return s.bool("value-lookup", &o.ValueLookup)
	})
}

// AppendJSON appends a as json.Marshal encodes an Attr. It is the one
// writer of attributes' JSON: in steps here, and in init-ok, refresh-ok
// (internal/wire) and the stored registry (reactor).
func (a *Attr) AppendJSON(dst []byte) []byte {
	var id [36]byte
	a.ID.canon(&id)
	dst = append(dst, `{"id":"`...)
	dst = append(dst, id[:]...)
	dst = append(dst, `","namespace":`...)
	dst = jsonlite.AppendString(dst, a.Namespace)
	dst = append(dst, `,"label":`...)
	dst = jsonlite.AppendString(dst, a.Label)
	dst = append(dst, `,"value-type":`...)
	dst = jsonlite.AppendString(dst, a.Type.String())
	dst = append(dst, `,"cardinality":`...)
	dst = jsonlite.AppendString(dst, a.Cardinality.String())
	dst = append(dst, `,"unique":`...)
	dst = strconv.AppendBool(dst, a.Unique)
	dst = append(dst, `,"indexed":`...)
	dst = strconv.AppendBool(dst, a.Indexed)
	if a.RefNamespace != "" {
		dst = append(dst, `,"ref-namespace":`...)
		dst = jsonlite.AppendString(dst, a.RefNamespace)
	}
	if a.ReverseLabel != "" {
		dst = append(dst, `,"reverse-label":`...)
		dst = jsonlite.AppendString(dst, a.ReverseLabel)
	}
	if a.OnDeleteCascade {
		dst = append(dst, `,"on-delete-cascade":true`...)
	}
	return append(dst, '}')
}

// AppendAttrsJSON appends attrs as json.Marshal encodes a []Attr: nil as
// null, each element as AppendJSON writes it.
func AppendAttrsJSON(dst []byte, attrs []Attr) []byte {
	if attrs == nil {
		return append(dst, "null"...)
	}
	dst = append(dst, '[')
	for i := range attrs {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = attrs[i].AppendJSON(dst)
	}
	return append(dst, ']')
}

// appendOptions appends o as json.Marshal encodes a stepOptions.
func appendOptions(dst []byte, o stepOptions) []byte {
	dst = append(dst, '{')
	if o.Mode != "" {
		dst = append(dst, `"mode":`...)
		dst = jsonlite.AppendString(dst, o.Mode)
	}
	if o.ValueLookup {
		if o.Mode != "" {
			dst = append(dst, ',')
		}
		dst = append(dst, `"value-lookup":true`...)
	}
	return append(dst, '}')
}
