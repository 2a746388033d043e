package jsonlite

import (
	"errors"
	"maps"
	"math"
	"slices"
	"strconv"
	"unicode/utf8"
)

const hex = "0123456789abcdef"

// AppendString appends s as a JSON string, escaped exactly as
// encoding/json escapes it: quotes, backslashes and control characters;
// <, > and & as \u003c, \u003e, \u0026 (safe inside HTML); U+2028 and
// U+2029; and each byte of invalid UTF-8 as \ufffd.
func AppendString(dst []byte, s string) []byte {
	return appendString(dst, s, &safeSet)
}

// AppendStringNoHTML appends s as a JSON string as encoding/json does with
// SetEscapeHTML(false): as AppendString, but with <, > and & as they are.
func AppendStringNoHTML(dst []byte, s string) []byte {
	return appendString(dst, s, &safeSetNoHTML)
}

// appendString is AppendString with the ASCII bytes that go in as they
// are given by safe.
func appendString(dst []byte, s string, safe *[utf8.RuneSelf]bool) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		if b := s[i]; b < utf8.RuneSelf {
			if safe[b] {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch b {
			case '\\', '"':
				dst = append(dst, '\\', b)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hex[b>>4], hex[b&0xF])
			}
			i++
			start = i
			continue
		}
		c, size := utf8.DecodeRuneInString(s[i:])
		if c == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i++
			start = i
			continue
		}
		if c == '\u2028' || c == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hex[c&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// safeSet and safeSetNoHTML tell whether an ASCII byte goes into a JSON
// string as it is, with and without HTML escaping.
var safeSet, safeSetNoHTML = func() (set, noHTML [utf8.RuneSelf]bool) {
	for b := byte(0x20); b < utf8.RuneSelf; b++ {
		noHTML[b] = b != '"' && b != '\\'
		set[b] = noHTML[b] && b != '<' && b != '>' && b != '&'
	}
	return set, noHTML
}()

var errUnsupportedFloat = errors.New("json: unsupported value: NaN or ±Inf")

// AppendFloat appends f as encoding/json writes a float64: the shortest
// text that reads back as f, in exponent form below 1e-6 and from 1e21 on.
// NaN and the infinities have no JSON form and are an error.
func AppendFloat(dst []byte, f float64) ([]byte, error) {
	return appendFloat(dst, f, 64)
}

func appendFloat(dst []byte, f float64, bits int) ([]byte, error) {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return dst, errUnsupportedFloat
	}
	abs := math.Abs(f)
	format := byte('f')
	if abs != 0 {
		if bits == 64 && (abs < 1e-6 || abs >= 1e21) ||
			bits == 32 && (float32(abs) < 1e-6 || float32(abs) >= 1e21) {
			format = 'e'
		}
	}
	dst = strconv.AppendFloat(dst, f, format, -1, bits)
	if format == 'e' {
		// e-09 to e-9, as encoding/json does
		n := len(dst)
		if n >= 4 && dst[n-4] == 'e' && dst[n-3] == '-' && dst[n-2] == '0' {
			dst[n-2] = dst[n-1]
			dst = dst[:n-1]
		}
	}
	return dst, nil
}

// AppendAny appends v in JSON. v may be nil, a bool, a string, a float or
// an integer of any width, a Num (which must be a valid number), a Raw
// (appended as it is, unchecked), a value with a MarshalJSON method (its
// output appended as it is), or a []any, []string, map[string]any or
// map[string]string of those; object keys come out sorted, as with
// encoding/json. Anything else is an error.
func AppendAny(dst []byte, v any) ([]byte, error) {
	switch x := v.(type) {
	case nil:
		return append(dst, "null"...), nil
	case bool:
		return strconv.AppendBool(dst, x), nil
	case string:
		return AppendString(dst, x), nil
	case float64:
		return appendFloat(dst, x, 64)
	case float32:
		return appendFloat(dst, float64(x), 32)
	case int:
		return strconv.AppendInt(dst, int64(x), 10), nil
	case int8:
		return strconv.AppendInt(dst, int64(x), 10), nil
	case int16:
		return strconv.AppendInt(dst, int64(x), 10), nil
	case int32:
		return strconv.AppendInt(dst, int64(x), 10), nil
	case int64:
		return strconv.AppendInt(dst, x, 10), nil
	case uint:
		return strconv.AppendUint(dst, uint64(x), 10), nil
	case uint8:
		return strconv.AppendUint(dst, uint64(x), 10), nil
	case uint16:
		return strconv.AppendUint(dst, uint64(x), 10), nil
	case uint32:
		return strconv.AppendUint(dst, uint64(x), 10), nil
	case uint64:
		return strconv.AppendUint(dst, x, 10), nil
	case Num:
		if x == "" {
			return append(dst, '0'), nil // encoding/json writes an empty Number as 0
		}
		d := Decoder{data: []byte(x)}
		if _, err := d.number(); err != nil || d.pos != len(x) {
			return dst, errors.New("json: invalid number literal " + strconv.Quote(string(x)))
		}
		return append(dst, x...), nil
	case Raw:
		if x == nil {
			return append(dst, "null"...), nil
		}
		return append(dst, x...), nil
	case []any:
		if x == nil {
			return append(dst, "null"...), nil
		}
		dst = append(dst, '[')
		for i, e := range x {
			if i > 0 {
				dst = append(dst, ',')
			}
			var err error
			if dst, err = AppendAny(dst, e); err != nil {
				return dst, err
			}
		}
		return append(dst, ']'), nil
	case []string:
		if x == nil {
			return append(dst, "null"...), nil
		}
		dst = append(dst, '[')
		for i, e := range x {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = AppendString(dst, e)
		}
		return append(dst, ']'), nil
	case map[string]any:
		if x == nil {
			return append(dst, "null"...), nil
		}
		dst = append(dst, '{')
		for i, k := range slices.Sorted(maps.Keys(x)) {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = append(AppendString(dst, k), ':')
			var err error
			if dst, err = AppendAny(dst, x[k]); err != nil {
				return dst, err
			}
		}
		return append(dst, '}'), nil
	case map[string]string:
		if x == nil {
			return append(dst, "null"...), nil
		}
		dst = append(dst, '{')
		for i, k := range slices.Sorted(maps.Keys(x)) {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = append(AppendString(dst, k), ':')
			dst = AppendString(dst, x[k])
		}
		return append(dst, '}'), nil
	case interface{ MarshalJSON() ([]byte, error) }:
		b, err := x.MarshalJSON()
		if err != nil {
			return dst, err
		}
		return append(dst, b...), nil
	}
	return dst, errors.New("json: unsupported type")
}
