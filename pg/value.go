package pg

import (
	"strconv"
	"unicode/utf8"

	"github.com/triplesync/triplesync/store"
)

// parseStored decodes a value as Postgres prints a jsonb: the common
// scalars (strings without escapes, numbers, booleans, null) directly,
// everything else through store.ParseValue, which gives the same result
// slower. A query result can hold tens of thousands of values.
func parseStored(text []byte) (store.Value, error) {
	if n := len(text); n >= 2 && text[0] == '"' && text[n-1] == '"' {
		// jsonb escapes quotes, backslashes and control characters, so a
		// string without a backslash is its own text.
		inner := text[1 : n-1]
		if plain(inner) {
			return store.String(string(inner)), nil
		}
		return store.ParseValue(text)
	}
	switch string(text) {
	case "true":
		return store.Bool(true), nil
	case "false":
		return store.Bool(false), nil
	case "null":
		return store.Null(), nil
	}
	if len(text) > 0 && (text[0] == '-' || '0' <= text[0] && text[0] <= '9') {
		// jsonb prints numbers as plain decimals.
		if f, err := strconv.ParseFloat(string(text), 64); err == nil {
			return store.NumberOK(f)
		}
	}
	return store.ParseValue(text)
}

// plain reports whether b is a JSON string's inside that needs no
// decoding: valid UTF-8 without quotes, backslashes or control characters.
func plain(b []byte) bool {
	for _, c := range b {
		if c < 0x20 || c == '"' || c == '\\' {
			return false
		}
	}
	return utf8.Valid(b)
}
