package store

import (
	"bytes"
	"encoding/json"
	"math"
	"strconv"
	"strings"
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

// parseValueDecoded is ParseValue through encoding/json: every shape.
func parseValueDecoded(data []byte) (Value, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var x any
	if err := dec.Decode(&x); err != nil {
		return Value{}, wrapErr(ErrInvalidValue, err.Error())
	}
	// Only JSON whitespace may follow. (dec.More and dec.Token let a stray
	// closing bracket through: "1 ]" decoded as 1.)
	for _, c := range data[dec.InputOffset():] {
		if c != ' ' && c != '\t' && c != '\n' && c != '\r' {
			return Value{}, wrapErr(ErrInvalidValue, "trailing data after JSON value")
		}
	}
	return FromAny(x)
}

// FromAny converts a decoded JSON value (nil, bool, float64, json.Number,
// string, map[string]any, []any, and the other Go numeric types) into a
// Value. Any other Go value (a struct, []string, an [EntityID], ...) goes
// through encoding/json first, so FromAny(x) equals ParseValue of x's JSON.
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
	b, err := json.Marshal(x)
	if err != nil {
		return Value{}, wrapErr(ErrInvalidValue, typeName(x)+": "+err.Error())
	}
	return ParseValue(b)
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
	case json.Number:
		f, perr := strconv.ParseFloat(string(t), 64)
		if perr != nil {
			return Value{}, true, wrapErr(ErrInvalidValue, "number "+string(t))
		}
		v, err = NumberOK(f)
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
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(norm); err != nil {
		return nil, wrapErr(ErrInvalidValue, err.Error())
	}
	return bytes.TrimRight(buf.Bytes(), "\n"), nil
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
	case json.Number:
		f, err := strconv.ParseFloat(string(t), 64)
		if err != nil || math.IsInf(f, 0) {
			return nil, wrapErr(ErrInvalidValue, "number "+string(t))
		}
		if f == 0 {
			f = 0
		}
		return f, nil
	case Value:
		return t.Any(), nil
	case nil, bool, string:
		return x, nil
	}
	// Any other Go value: take its JSON and decode that, so struct field
	// order or a custom marshaler cannot leak into the canonical form.
	b, err := json.Marshal(x)
	if err != nil {
		return nil, wrapErr(ErrInvalidValue, typeName(x)+": "+err.Error())
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var y any
	if err := dec.Decode(&y); err != nil {
		return nil, wrapErr(ErrInvalidValue, typeName(x)+": "+err.Error())
	}
	return normalise(y)
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
		var x any
		if err := json.Unmarshal([]byte(v.str), &x); err != nil {
			panic("store: corrupt canonical JSON in value: " + err.Error())
		}
		return x
	}
	return nil
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
			b, _ := json.Marshal(s) // a Go string always encodes
			return append(dst, b...)
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
