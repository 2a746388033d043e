package query

import (
	"errors"
	"math"
	"slices"
	"strconv"

	"github.com/triplesync/triplesync/internal/jsonlite"
	"github.com/triplesync/triplesync/store"
)

// decodeJSON decodes one JSON document into the plain types (nil, bool,
// jsonlite.Num, string, map[string]any, []any) and rejects anything but
// whitespace after it. Its errors read as they did when it used
// encoding/json's Decoder: "EOF" for no value at all, "unexpected EOF" for
// input that ends inside the value, the syntax error otherwise.
func decodeJSON(data []byte) (any, error) {
	d := jsonlite.NewDecoder(data)
	x, err := d.Any()
	if err != nil {
		msg := err.Error()
		if se, ok := errors.AsType[*jsonlite.SyntaxError](err); ok && se.Truncated {
			msg = "EOF"
			for _, c := range data {
				if !isSpace(c) {
					msg = "unexpected EOF"
					break
				}
			}
		}
		return nil, errorAt("", ErrMalformed, msg)
	}
	for _, c := range data[d.Offset():] {
		if !isSpace(c) {
			return nil, errorAt("", ErrMalformed, "trailing data after the query")
		}
	}
	return x, nil
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// plainNumbers returns x with every jsonlite.Num replaced by its float64,
// as encoding/json decodes numbers into an any (and as store.FromAny takes
// them); false if a number does not fit a float64. Objects and arrays are
// rewritten in place when inPlace, else copied.
func plainNumbers(x any, inPlace bool) (any, bool) {
	switch t := x.(type) {
	case jsonlite.Num:
		f, err := t.Float64()
		return f, err == nil
	case []any:
		out := t
		if !inPlace {
			out = make([]any, len(t))
		}
		for i, e := range t {
			var ok bool
			if out[i], ok = plainNumbers(e, inPlace); !ok {
				return nil, false
			}
		}
		return out, true
	case map[string]any:
		out := t
		if !inPlace {
			out = make(map[string]any, len(t))
		}
		for k, e := range t {
			v, ok := plainNumbers(e, inPlace)
			if !ok {
				return nil, false
			}
			out[k] = v
		}
		return out, true
	}
	return x, true
}

// appendCanon appends the canonical JSON text of a decoded document: object
// keys sorted, no insignificant space, numbers formatted as store formats
// them. Equal queries written differently get the same text, and the text
// parses back to itself. It fails only on a number float64 cannot hold.
func appendCanon(dst []byte, x any) ([]byte, bool) {
	switch t := x.(type) {
	case nil:
		return append(dst, "null"...), true
	case bool:
		if t {
			return append(dst, "true"...), true
		}
		return append(dst, "false"...), true
	case jsonlite.Num:
		f, err := strconv.ParseFloat(string(t), 64)
		if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
			return dst, false
		}
		return store.Number(f).AppendJSON(dst), true
	case string:
		return store.String(t).AppendJSON(dst), true
	case []any:
		dst = append(dst, '[')
		for i, e := range t {
			if i > 0 {
				dst = append(dst, ',')
			}
			var ok bool
			if dst, ok = appendCanon(dst, e); !ok {
				return dst, false
			}
		}
		return append(dst, ']'), true
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
			dst = store.String(k).AppendJSON(dst)
			dst = append(dst, ':')
			var ok bool
			if dst, ok = appendCanon(dst, t[k]); !ok {
				return dst, false
			}
		}
		return append(dst, '}'), true
	}
	return dst, false
}

// sortedKeys returns m's keys in order, so parsing visits them (and reports
// the first error) deterministically.
func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
