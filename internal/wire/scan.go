package wire

import (
	"errors"
	"strconv"

	"github.com/triplesync/triplesync/internal/jsonlite"
	"github.com/triplesync/triplesync/store"
)

// The triples of refresh-ok and add-query-ok are most of what crosses the
// wire, so they are taken apart here by hand rather than through
// reflection ([][]json.RawMessage, then a decode per
// element): a scanner finds each tuple's elements, and the common element
// shapes — an id string, a plain string, a number, a literal — are decoded
// directly (values by store.ParseValue, whose own fast path takes the
// scalars). Ids with escapes, or not strings at all, take a slow path that
// says what encoding/json said of them.

// scanner walks JSON text that has already been found to be one
// well-formed value; it still checks what it relies on, so that it fails
// cleanly on anything else.
type scanner struct {
	b []byte
	i int
}

func (s *scanner) ws() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// next skips whitespace and reports the next byte, 0 at the end.
func (s *scanner) next() byte {
	s.ws()
	if s.i == len(s.b) {
		return 0
	}
	return s.b[s.i]
}

// value returns the raw text of the value at the current position and
// moves past it. Only strings and bracket nesting are checked; the
// element's decoder checks the rest.
func (s *scanner) value() ([]byte, error) {
	var start int
	switch c := s.next(); c {
	case 0:
		return nil, errors.New("unexpected end of input")
	case '"':
		start = s.i
		if err := s.skipString(); err != nil {
			return nil, err
		}
	case '[', '{':
		start = s.i
		depth := 0
		for s.i < len(s.b) {
			switch s.b[s.i] {
			case '"':
				if err := s.skipString(); err != nil {
					return nil, err
				}
				continue
			case '[', '{':
				depth++
			case ']', '}':
				depth--
			}
			s.i++
			if depth == 0 {
				return s.b[start:s.i], nil
			}
		}
		return nil, errors.New("unexpected end of input")
	case ',', ']', '}', ':':
		return nil, errors.New("unexpected " + strconv.QuoteRune(rune(c)))
	default:
		start = s.i
		for s.i < len(s.b) {
			switch s.b[s.i] {
			case ',', ']', '}', ' ', '\t', '\n', '\r':
				return s.b[start:s.i], nil
			}
			s.i++
		}
	}
	return s.b[start:s.i], nil
}

// skipString moves past the string starting at the current position.
func (s *scanner) skipString() error {
	for s.i++; s.i < len(s.b); s.i++ {
		switch c := s.b[s.i]; {
		case c == '\\':
			s.i++
		case c == '"':
			s.i++
			return nil
		case c < 0x20:
			return errors.New("control character in string")
		}
	}
	return errors.New("unterminated string")
}

// decodeTuples decodes a JSON array of arrays of n elements each, handing
// each tuple's raw elements to add. null decodes as an empty list, as
// encoding/json would. (Not generic: each instantiation cost the wasm
// client ~10 KB of code.)
func decodeTuples(b []byte, n int, add func(i int, r [][]byte) error) error {
	s := &scanner{b: b}
	switch s.next() {
	case 'n':
		if raw, err := s.value(); err != nil || string(raw) != "null" {
			return errors.New("must be an array of arrays")
		}
		return s.end()
	case '[':
		s.i++
	default:
		return errors.New("must be an array of arrays")
	}
	raws := make([][]byte, 0, n)
	if s.next() == ']' {
		s.i++
		return s.end()
	}
	for i := 0; ; i++ {
		if s.next() != '[' {
			return errors.New("element " + strconv.Itoa(i) + " must be an array")
		}
		s.i++
		raws = raws[:0]
		if s.next() == ']' {
			s.i++
		} else {
			for {
				raw, err := s.value()
				if err != nil {
					return errors.New("element " + strconv.Itoa(i) + ": " + err.Error())
				}
				raws = append(raws, raw)
				c := s.next()
				s.i++
				if c == ']' {
					break
				}
				if c != ',' {
					return errors.New("element " + strconv.Itoa(i) + ": expected ',' or ']'")
				}
			}
		}
		if len(raws) != n {
			return errors.New("element " + strconv.Itoa(i) + " has " + strconv.Itoa(len(raws)) + " elements, want " + strconv.Itoa(n))
		}
		if err := add(i, raws); err != nil {
			return err
		}
		c := s.next()
		s.i++
		if c == ']' {
			return s.end()
		}
		if c != ',' {
			return errors.New("after element " + strconv.Itoa(i) + ": expected ',' or ']'")
		}
	}
}

func (s *scanner) end() error {
	if s.ws(); s.i != len(s.b) { // not next() == 0: that is also a NUL byte
		return errors.New("trailing data")
	}
	return nil
}

// plainString reports the contents of a JSON string without escapes.
func plainString(raw []byte) ([]byte, bool) {
	if len(raw) < 2 || raw[0] != '"' || raw[len(raw)-1] != '"' {
		return nil, false
	}
	in := raw[1 : len(raw)-1]
	for _, c := range in {
		if c == '\\' || c == '"' || c < 0x20 {
			return nil, false
		}
	}
	return in, true
}

// parseID decodes an entity or attribute id: a JSON string holding a uuid.
func parseID(raw []byte) (store.EntityID, error) {
	if in, ok := plainString(raw); ok {
		return store.ParseEntityID(string(in))
	}
	// Escapes, or not a string at all: what encoding/json decoding into a
	// store.EntityID (a TextUnmarshaler) made of it.
	if err := jsonlite.Check(raw); err != nil {
		return store.EntityID{}, err
	}
	d := jsonlite.NewDecoder(raw)
	switch k := d.Peek(); k {
	case jsonlite.String:
		s, err := d.String()
		if err != nil {
			return store.EntityID{}, err
		}
		return store.ParseEntityID(s)
	case jsonlite.Null:
		return store.EntityID{}, nil // encoding/json leaves the id zero
	default:
		return store.EntityID{}, jsonlite.ValueTypeError(k.ValueName(), "*store.EntityID")
	}
}

// parseInt decodes a JSON integer (-?(0|[1-9][0-9]*): no fraction, no
// exponent, no plus sign or leading zero) into an int64.
func parseInt(raw []byte) (int64, error) {
	digits := raw
	if len(digits) > 0 && digits[0] == '-' {
		digits = digits[1:]
	}
	ok := len(digits) > 0 && (digits[0] != '0' || len(digits) == 1)
	for _, c := range digits {
		ok = ok && '0' <= c && c <= '9'
	}
	if !ok {
		return 0, errors.New(strconv.Quote(string(raw)) + " is not an integer")
	}
	n, err := strconv.ParseInt(string(raw), 10, 64)
	if err != nil {
		return 0, errors.New(strconv.Quote(string(raw)) + " is not a 64-bit integer")
	}
	return n, nil
}
