package store

import (
	"strconv"
	"unicode/utf8"
)

// parseScalar is ParseValue's fast path for the values most triples hold:
// a string without escapes, a number, true, false, null, written with no
// surrounding space. It gives exactly the Value the decoder would
// (FuzzParseScalar checks that) and reports false for anything else:
// objects, arrays, escaped strings, and whatever the decoder must judge.
func parseScalar(b []byte) (Value, bool) {
	switch {
	case len(b) == 0:
	case b[0] == '"' && len(b) >= 2 && b[len(b)-1] == '"':
		if s := b[1 : len(b)-1]; plainString(s) {
			return String(string(s)), true
		}
	case string(b) == "null":
		return Null(), true
	case string(b) == "true":
		return Bool(true), true
	case string(b) == "false":
		return Bool(false), true
	case b[0] == '-' || '0' <= b[0] && b[0] <= '9':
		if plainNumber(b) {
			if f, err := strconv.ParseFloat(string(b), 64); err == nil {
				if v, err := NumberOK(f); err == nil {
					return v, true
				}
			}
		}
	}
	return Value{}, false
}

// plainString reports whether s, the inside of a JSON string, needs no
// unescaping: no quote, backslash or control character, valid UTF-8.
func plainString(s []byte) bool {
	for _, c := range s {
		if c < 0x20 || c == '"' || c == '\\' {
			return false
		}
	}
	return utf8.Valid(s)
}

// plainNumber reports whether b is a JSON number: -?int(.digits)?([eE][+-]?digits)?
// with no leading zeros, which is what strconv.ParseFloat must not be
// given more leniently (it also takes "0x1p3", "Inf", "1_000").
func plainNumber(b []byte) bool {
	i := 0
	if i < len(b) && b[i] == '-' {
		i++
	}
	digits := func() int {
		n := 0
		for i < len(b) && '0' <= b[i] && b[i] <= '9' {
			i++
			n++
		}
		return n
	}
	start := i
	n := digits()
	if n == 0 || n > 1 && b[start] == '0' {
		return false
	}
	if i < len(b) && b[i] == '.' {
		i++
		if digits() == 0 {
			return false
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if digits() == 0 {
			return false
		}
	}
	return i == len(b)
}
