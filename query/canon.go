package query

import (
	"bytes"
	"encoding/json"
	"math"
	"slices"
	"strconv"

	"github.com/triplesync/triplesync/store"
)

// decodeJSON decodes one JSON document into the plain types (nil, bool,
// json.Number, string, map[string]any, []any) and rejects anything but
// whitespace after it.
func decodeJSON(data []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var x any
	if err := dec.Decode(&x); err != nil {
		return nil, errorAt("", ErrMalformed, err.Error())
	}
	for _, c := range data[dec.InputOffset():] {
		if c != ' ' && c != '\t' && c != '\n' && c != '\r' {
			return nil, errorAt("", ErrMalformed, "trailing data after the query")
		}
	}
	return x, nil
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
	case json.Number:
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
