package store

import (
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/triplesync/triplesync/internal/errs"
	"github.com/triplesync/triplesync/internal/jsonlite"
)

// Kind is the JSON type of a [Value]. The constants are declared in the
// order of the value order: every null sorts before every boolean, every
// boolean before every number, and so on.
type Kind uint8

const (
	KindNull   Kind = iota // JSON null
	KindBool               // false < true
	KindNumber             // float64, numeric order
	KindString             // bytewise (UTF-8 code point) order, like COLLATE "C"
	KindJSON               // an object or array, ordered by its canonical text
)

var kindNames = [...]string{"null", "boolean", "number", "string", "json"}

// String returns the kind's name: "null", "boolean", "number", "string" or "json".
func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "Kind(" + strconv.Itoa(int(k)) + ")"
}

// Value is one JSON value held by a triple. It is immutable and comparable
// with ==, which agrees with [Compare] (== is true exactly when Compare is 0),
// so values serve directly as map keys and btree key parts.
//
// The value order, used by every index, by order-by, ranges and cursors, is
// total: first by [Kind] (null < boolean < number < string < json), then
// within a kind: false < true; numbers numerically; strings bytewise; objects
// and arrays by their canonical JSON text bytewise. Refs are strings holding
// the canonical lower-case UUID, so they order as strings. Dates are
// normalised to numbers (milliseconds since the Unix epoch) when written
// through an attribute of type date (see [Attr.Check]).
type Value struct {
	kind Kind
	num  float64 // KindNumber; KindBool: 0 or 1
	str  string  // KindString; KindJSON: canonical JSON text
}

// Null is the JSON null value.
func Null() Value { return Value{} }

// Bool returns a boolean value.
func Bool(b bool) Value {
	if b {
		return Value{kind: KindBool, num: 1}
	}
	return Value{kind: KindBool}
}

// Number returns a number value. NaN and infinities have no JSON form and no
// place in the value order; use [NumberOK] where the input is untrusted.
// Number panics on them.
func Number(f float64) Value {
	v, err := NumberOK(f)
	if err != nil {
		panic(err)
	}
	return v
}

// NumberOK is Number that reports NaN and infinities as ErrInvalidValue.
func NumberOK(f float64) (Value, error) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return Value{}, wrapErr(ErrInvalidValue, "number "+strconv.FormatFloat(f, 'g', -1, 64))
	}
	if f == 0 {
		f = 0 // fold -0 into 0 so == agrees with the order
	}
	return Value{kind: KindNumber, num: f}, nil
}

// String returns a string value.
func String(s string) Value { return Value{kind: KindString, str: s} }

// Ref returns the value a ref attribute holds for a link to id.
func Ref(id EntityID) Value { return String(id.String()) }

// Kind returns the value's JSON type.
func (v Value) Kind() Kind { return v.kind }

// IsNull reports whether v is JSON null.
func (v Value) IsNull() bool { return v.kind == KindNull }

// AsBool returns the boolean and whether v is one.
func (v Value) AsBool() (bool, bool) { return v.num == 1, v.kind == KindBool }

// AsNumber returns the number and whether v is one.
func (v Value) AsNumber() (float64, bool) { return v.num, v.kind == KindNumber }

// AsString returns the string and whether v is one.
func (v Value) AsString() (string, bool) { return v.str, v.kind == KindString }

// AsEntityID returns the entity a ref value points at, and whether v is a
// string holding a canonical UUID.
func (v Value) AsEntityID() (EntityID, bool) {
	if v.kind != KindString {
		return EntityID{}, false
	}
	id, err := ParseEntityID(v.str)
	return id, err == nil
}

// Compare returns -1, 0 or +1 as a sorts before, with or after b in the value
// order documented on [Value].
func Compare(a, b Value) int {
	if a.kind != b.kind {
		if a.kind < b.kind {
			return -1
		}
		return 1
	}
	switch a.kind {
	case KindNull:
		return 0
	case KindBool, KindNumber:
		switch {
		case a.num < b.num:
			return -1
		case a.num > b.num:
			return 1
		}
		return 0
	default:
		return strings.Compare(a.str, b.str)
	}
}

// Less reports whether a sorts before b.
func Less(a, b Value) bool { return Compare(a, b) < 0 }

// ParseValue decodes one JSON value. Objects and arrays are kept in canonical
// form (object keys sorted, no insignificant space, numbers as Go formats
// float64), so equal JSON gives equal values.
func ParseValue(data []byte) (Value, error) {
	if v, ok := parseScalar(data); ok {
		return v, nil
	}
	return parseValueDecoded(data)
}

// parseValueDecoded is ParseValue for every shape. Its errors read as
// those of the encoding/json stream decoder it replaces.
func parseValueDecoded(data []byte) (Value, error) {
	var d jsonlite.Decoder
	d.Reset(data)
	x, err := d.Any()
	if err != nil {
		return Value{}, wrapErr(ErrInvalidValue, streamErrText(data, err))
	}
	// Only JSON whitespace may follow.
	for _, c := range data[d.Offset():] {
		if c != ' ' && c != '\t' && c != '\n' && c != '\r' {
			return Value{}, wrapErr(ErrInvalidValue, "trailing data after JSON value")
		}
	}
	return FromAny(x)
}

// streamErrText is err (from reading data's first value) as
// encoding/json's stream decoder words it: input that ends inside the value
// is "unexpected EOF", input of only whitespace "EOF".
func streamErrText(data []byte, err error) string {
	se, ok := err.(*jsonlite.SyntaxError)
	if !ok || se.Offset <= int64(len(data)) && se.Error() != "unexpected end of JSON input" {
		return err.Error()
	}
	for _, c := range data {
		if c != ' ' && c != '\t' && c != '\n' && c != '\r' {
			return "unexpected EOF"
		}
	}
	return "EOF"
}

// FromAny converts a decoded JSON value (nil, bool, float64, a number's
// text as json.Number or jsonlite.Num, string, map[string]any, []any, and
// the other Go numeric types) into a Value. A few other Go values go
// through their JSON first, so FromAny(x) equals ParseValue of x's JSON:
// []string, map[string]string, a value with a MarshalJSON method (such as
// json.RawMessage) or a MarshalText method (such as an [EntityID]), and
// []EntityID. Any other type (a struct without those methods, a channel)
// is an error wrapping ErrInvalidValue: the package does without
// encoding/json and its reflection, which the WebAssembly client cannot
// afford.
func FromAny(x any) (Value, error) {
	if v, ok, err := fromScalar(x); ok {
		return v, err
	}
	switch t := x.(type) {
	case Value:
		return t, nil
	case map[string]any, []any:
		canon, err := canonicalJSON(t)
		if err != nil {
			return Value{}, err
		}
		return Value{kind: KindJSON, str: string(canon)}, nil
	}
	b, err := marshalOther(x)
	if err != nil {
		return Value{}, wrapErr(ErrInvalidValue, typeName(x)+": "+err.Error())
	}
	return ParseValue(b)
}

// marshalOther is x's JSON for the Go types FromAny takes through JSON.
func marshalOther(x any) ([]byte, error) {
	switch t := x.(type) {
	case interface{ MarshalJSON() ([]byte, error) }:
		b, err := t.MarshalJSON()
		if err != nil {
			return nil, errs.Wrap("json: error calling MarshalJSON for type "+typeName(x), err)
		}
		return b, nil
	case interface{ MarshalText() ([]byte, error) }:
		b, err := t.MarshalText()
		if err != nil {
			return nil, errs.Wrap("json: error calling MarshalText for type "+typeName(x), err)
		}
		return jsonlite.AppendString(nil, string(b)), nil
	case []EntityID:
		if t == nil {
			return []byte("null"), nil
		}
		b := []byte{'['}
		for i, id := range t {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, '"')
			b = append(b, id.String()...)
			b = append(b, '"')
		}
		return append(b, ']'), nil
	}
	return jsonlite.AppendAny(nil, x)
}

// fromScalar converts the Go types that map straight to a JSON scalar. ok is
// false for anything else.
func fromScalar(x any) (v Value, ok bool, err error) {
	switch t := x.(type) {
	case nil:
		return Null(), true, nil
	case bool:
		return Bool(t), true, nil
	case string:
		return String(t), true, nil
	case jsonlite.Num:
		v, err = numberText(string(t))
		return v, true, err
	case numberType:
		v, err = numberText(t.String())
		return v, true, err
	}
	if f, isNum := toFloat(x); isNum {
		v, err = NumberOK(f)
		return v, true, err
	}
	return Value{}, false, nil
}

// toFloat converts Go's numeric types to float64, as JSON numbers are.
func toFloat(x any) (float64, bool) {
	switch t := x.(type) {
	case float64:
		return t, true
	case float32:
		return float64(t), true
	case int:
		return float64(t), true
	case int8:
		return float64(t), true
	case int16:
		return float64(t), true
	case int32:
		return float64(t), true
	case int64:
		return float64(t), true
	case uint:
		return float64(t), true
	case uint8:
		return float64(t), true
	case uint16:
		return float64(t), true
	case uint32:
		return float64(t), true
	case uint64:
		return float64(t), true
	}
	return 0, false
}

// canonicalJSON encodes an object or array with sorted keys and numbers
// normalised through float64, rejecting what JSON cannot carry.
func canonicalJSON(x any) ([]byte, error) {
	norm, err := normalise(x)
	if err != nil {
		return nil, err
	}
	return appendCanonical(nil, norm), nil
}

// appendCanonical appends normalised x (nil, bool, finite float64, string,
// map[string]any, []any) as encoding/json's Encoder with SetEscapeHTML(false)
// writes it: keys sorted bytewise, no space.
func appendCanonical(dst []byte, x any) []byte {
	switch t := x.(type) {
	case nil:
		return append(dst, "null"...)
	case bool:
		return strconv.AppendBool(dst, t)
	case float64:
		dst, _ = jsonlite.AppendFloat(dst, t) // normalise let only finite numbers through
		return dst
	case string:
		return jsonlite.AppendStringNoHTML(dst, t)
	case []any:
		dst = append(dst, '[')
		for i, e := range t {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendCanonical(dst, e)
		}
		return append(dst, ']')
	case map[string]any:
		keys := make([]string, 0, len(t))
		for k := range t {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		dst = append(dst, '{')
		for i, k := range keys {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = jsonlite.AppendStringNoHTML(dst, k)
			dst = append(dst, ':')
			dst = appendCanonical(dst, t[k])
		}
		return append(dst, '}')
	}
	panic("store: appendCanonical of " + typeName(x))
}

// normalise rewrites x into the plain JSON types (nil, bool, float64,
// string, map[string]any, []any) with -0 folded into 0, so that the encoding
// of equal JSON is byte-for-byte equal.
func normalise(x any) (any, error) {
	if f, ok := toFloat(x); ok {
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return nil, wrapErr(ErrInvalidValue, "number "+strconv.FormatFloat(f, 'g', -1, 64))
		}
		if f == 0 {
			f = 0
		}
		return f, nil
	}
	switch t := x.(type) {
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, e := range t {
			n, err := normalise(e)
			if err != nil {
				return nil, err
			}
			out[k] = n
		}
		return out, nil
	case []any:
		out := make([]any, len(t))
		for i, e := range t {
			n, err := normalise(e)
			if err != nil {
				return nil, err
			}
			out[i] = n
		}
		return out, nil
	case jsonlite.Num:
		return normaliseNumber(string(t))
	case numberType:
		return normaliseNumber(t.String())
	case Value:
		return t.Any(), nil
	case nil, bool, string:
		return x, nil
	}
	// Any other Go value: take its JSON and decode that, so a custom
	// marshaler cannot leak into the canonical form.
	b, err := marshalOther(x)
	if err != nil {
		return nil, wrapErr(ErrInvalidValue, typeName(x)+": "+err.Error())
	}
	y, err := jsonlite.Decode(b)
	if err != nil {
		return nil, wrapErr(ErrInvalidValue, typeName(x)+": "+err.Error())
	}
	return normalise(y)
}

// numberType is a number's text with encoding/json's Number methods:
// json.Number, without importing encoding/json.
type numberType interface {
	String() string
	Float64() (float64, error)
	Int64() (int64, error)
}

// numberText is the Value of a number's text.
func numberText(s string) (Value, error) {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return Value{}, wrapErr(ErrInvalidValue, "number "+s)
	}
	return NumberOK(f)
}

// normaliseNumber is normalise of a number's text.
func normaliseNumber(s string) (any, error) {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsInf(f, 0) {
		return nil, wrapErr(ErrInvalidValue, "number "+s)
	}
	if f == 0 {
		f = 0
	}
	return f, nil
}

// Any returns v as the Go value encoding/json would decode it into: nil,
// bool, float64, string, map[string]any or []any. Objects and arrays are
// decoded afresh on each call, so the caller owns the result.
func (v Value) Any() any {
	switch v.kind {
	case KindBool:
		return v.num == 1
	case KindNumber:
		return v.num
	case KindString:
		return v.str
	case KindJSON:
		var d jsonlite.Decoder
		d.Reset([]byte(v.str))
		x, err := decodeFloats(&d)
		if err != nil {
			panic("store: corrupt canonical JSON in value: " + err.Error())
		}
		return x
	}
	return nil
}

// decodeFloats reads the next value as encoding/json decodes it into an
// any: nil, bool, float64, string, []any, map[string]any.
func decodeFloats(d *jsonlite.Decoder) (any, error) {
	switch d.Peek() {
	case jsonlite.Array:
		out := []any{}
		err := d.Array(func(int) error {
			x, err := decodeFloats(d)
			out = append(out, x)
			return err
		})
		return out, err
	case jsonlite.Object:
		out := map[string]any{}
		err := d.Object(func(k string) error {
			x, err := decodeFloats(d)
			out[k] = x
			return err
		})
		return out, err
	case jsonlite.Number:
		return d.Float64()
	}
	return d.Any()
}

// AppendJSON appends v's canonical JSON text to dst.
func (v Value) AppendJSON(dst []byte) []byte {
	switch v.kind {
	case KindNull:
		return append(dst, "null"...)
	case KindBool:
		if v.num == 1 {
			return append(dst, "true"...)
		}
		return append(dst, "false"...)
	case KindNumber:
		// The same format as encoding/json, so a number reads the same
		// alone and inside an object.
		f := byte('f')
		if a := math.Abs(v.num); a != 0 && (a < 1e-6 || a >= 1e21) {
			f = 'e'
		}
		dst = strconv.AppendFloat(dst, v.num, f, -1, 64)
		if f == 'e' {
			// encoding/json writes 1e-7, not 1e-07.
			if n := len(dst); n >= 4 && dst[n-4] == 'e' && dst[n-3] == '-' && dst[n-2] == '0' {
				dst[n-2] = dst[n-1]
				dst = dst[:n-1]
			}
		}
		return dst
	case KindString:
		return appendQuoted(dst, v.str)
	default:
		return append(dst, v.str...)
	}
}

// appendQuoted appends s as encoding/json encodes it. Strings of printable
// ASCII that encoding/json leaves as they are (most ids, labels and text)
// are copied between quotes, without its reflection and allocation.
func appendQuoted(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			return jsonlite.AppendString(dst, s)
		}
	}
	dst = append(dst, '"')
	dst = append(dst, s...)
	return append(dst, '"')
}

// MarshalJSON implements json.Marshaler with the canonical text.
func (v Value) MarshalJSON() ([]byte, error) { return v.AppendJSON(nil), nil }

// UnmarshalJSON implements json.Unmarshaler; see [ParseValue].
func (v *Value) UnmarshalJSON(b []byte) error {
	x, err := ParseValue(b)
	if err != nil {
		return err
	}
	*v = x
	return nil
}

// GoString shows the value as JSON in test failures.
func (v Value) GoString() string { return string(v.AppendJSON(nil)) }

// String returns the canonical JSON text.
func (v Value) String() string { return string(v.AppendJSON(nil)) }
