// Package jsonlite reads and writes JSON without reflection.
//
// The browser client is Go compiled to WebAssembly, and encoding/json with
// the reflect package behind it costs that binary about 200 KB gzip; the
// packages the client links (store, query, internal/wire, reactor, wasm)
// therefore decode and encode by hand through this package. It accepts
// exactly what encoding/json accepts (RFC 8259: no comments, no trailing
// commas, no NaN, nesting up to 10000), reports syntax errors in
// encoding/json's words, and writes strings and numbers byte for byte as
// encoding/json does, so that texts hashed or stored by one can be read and
// reproduced by the other. The tests hold it to that against encoding/json.
//
// Decoding is pull-style over a byte slice: a Decoder hands out the next
// value as the caller asks for it (String, Float64, Object with a callback
// per member, Raw for the value's bytes, ...). Nothing is copied except
// the strings returned.
//
// The package is pure: no IO, no global state.
package jsonlite

import (
	"errors"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// Kind is the kind of a JSON value.
type Kind byte

// The kinds of JSON values. Invalid stands for the end of the input or a
// byte that begins no value.
const (
	Invalid Kind = iota
	Null
	Bool
	Number
	String
	Array
	Object
)

var kindNames = [...]string{"invalid", "null", "boolean", "number", "string", "array", "object"}

// String returns the kind's name: "null", "boolean", "number", "string",
// "array", "object" or "invalid".
func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "invalid"
}

// article returns the kind's name with "a" or "an" in front.
func (k Kind) article() string {
	switch k {
	case Array, Object, Invalid:
		return "an " + k.String()
	case Null:
		return "null"
	}
	return "a " + k.String()
}

// Num is a JSON number's text as it was written (encoding/json's Number).
type Num string

// Float64 returns the number as a float64.
func (n Num) Float64() (float64, error) { return strconv.ParseFloat(string(n), 64) }

// Int64 returns the number as an int64; a fraction, an exponent or a value
// out of range is an error.
func (n Num) Int64() (int64, error) { return strconv.ParseInt(string(n), 10, 64) }

// String returns the number's text.
func (n Num) String() string { return string(n) }

// Raw is a JSON text that AppendAny writes as it is (encoding/json's
// RawMessage).
type Raw []byte

// A SyntaxError is malformed JSON, described as encoding/json describes it.
type SyntaxError struct {
	msg    string
	Offset int64 // bytes read before the error
	// Truncated is set when the input ended inside the value: more input
	// could have made it well formed (json.Decoder's io.ErrUnexpectedEOF).
	Truncated bool
}

func (e *SyntaxError) Error() string { return e.msg }

// A TypeError is a well-formed value of another kind than the one asked for.
type TypeError struct {
	Offset    int64 // where the value begins
	Want, Got Kind
}

func (e *TypeError) Error() string {
	return "expected " + e.Want.article() + ", found " + e.Got.article()
}

// maxDepth is encoding/json's nesting limit.
const maxDepth = 10000

// Decoder reads one JSON text from a byte slice, value by value.
type Decoder struct {
	data  []byte
	pos   int
	depth int
}

// NewDecoder returns a Decoder reading data, which it does not copy and
// the caller must not change while decoding.
func NewDecoder(data []byte) *Decoder { return &Decoder{data: data} }

// Reset makes d read data from its beginning.
func (d *Decoder) Reset(data []byte) { *d = Decoder{data: data} }

// Offset returns the position of the next unread byte.
func (d *Decoder) Offset() int { return d.pos }

func (d *Decoder) skipSpace() {
	for d.pos < len(d.data) {
		switch d.data[d.pos] {
		case ' ', '\t', '\n', '\r':
			d.pos++
		default:
			return
		}
	}
}

// Peek returns the kind of the next value without consuming it.
func (d *Decoder) Peek() Kind {
	d.skipSpace()
	if d.pos >= len(d.data) {
		return Invalid
	}
	return kindOf(d.data[d.pos])
}

func kindOf(c byte) Kind {
	switch c {
	case 'n':
		return Null
	case 't', 'f':
		return Bool
	case '"':
		return String
	case '[':
		return Array
	case '{':
		return Object
	case '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		return Number
	}
	return Invalid
}

// errAt describes the byte at d.pos (or the end of the input) in the
// context given, as encoding/json does.
func (d *Decoder) errAt(context string) error {
	if d.pos >= len(d.data) {
		return &SyntaxError{msg: "unexpected end of JSON input", Offset: int64(len(d.data)), Truncated: true}
	}
	return &SyntaxError{msg: "invalid character " + quoteChar(d.data[d.pos]) + " " + context, Offset: int64(d.pos + 1)}
}

// errIn is errAt for the inside of a number or a literal, where
// encoding/json reports the end of the input as a space it did not expect.
func (d *Decoder) errIn(context string) error {
	if d.pos >= len(d.data) {
		return &SyntaxError{msg: "invalid character ' ' " + context, Offset: int64(len(d.data) + 1), Truncated: true}
	}
	return d.errAt(context)
}

func quoteChar(c byte) string {
	if c == '\'' {
		return `'\''`
	}
	if c == '"' {
		return `'"'`
	}
	s := strconv.Quote(string(rune(c)))
	return "'" + s[1:len(s)-1] + "'"
}

// want checks that the next value is of kind k, without consuming it.
func (d *Decoder) want(k Kind) error {
	got := d.Peek()
	if got == k {
		return nil
	}
	if got == Invalid {
		return d.errAt("looking for beginning of value")
	}
	return &TypeError{Offset: int64(d.pos), Want: k, Got: got}
}

// Null consumes a null and reports true if the next value is one;
// otherwise it consumes nothing and reports false.
func (d *Decoder) Null() bool {
	d.skipSpace()
	if d.pos+4 <= len(d.data) && string(d.data[d.pos:d.pos+4]) == "null" {
		d.pos += 4
		return true
	}
	return false
}

// literal consumes the literal word (null, true or false) at d.pos.
func (d *Decoder) literal(word string) error {
	for i := 0; i < len(word); i++ {
		if d.pos >= len(d.data) || d.data[d.pos] != word[i] {
			return d.errIn("in literal " + word + " (expecting " + quoteChar(word[i]) + ")")
		}
		d.pos++
	}
	return nil
}

// Bool reads a boolean.
func (d *Decoder) Bool() (bool, error) {
	if err := d.want(Bool); err != nil {
		return false, err
	}
	if d.data[d.pos] == 't' {
		return true, d.literal("true")
	}
	return false, d.literal("false")
}

// Number reads a number's text.
func (d *Decoder) Number() (Num, error) {
	b, err := d.number()
	return Num(b), err
}

func (d *Decoder) number() ([]byte, error) {
	if err := d.want(Number); err != nil {
		return nil, err
	}
	start := d.pos
	if d.data[d.pos] == '-' {
		d.pos++
	}
	if d.pos < len(d.data) && d.data[d.pos] == '0' {
		d.pos++
	} else if !d.digits() {
		return nil, d.errIn("in numeric literal")
	}
	if d.pos < len(d.data) && d.data[d.pos] == '.' {
		d.pos++
		if !d.digits() {
			return nil, d.errIn("after decimal point in numeric literal")
		}
	}
	if d.pos < len(d.data) && (d.data[d.pos] == 'e' || d.data[d.pos] == 'E') {
		d.pos++
		if d.pos < len(d.data) && (d.data[d.pos] == '+' || d.data[d.pos] == '-') {
			d.pos++
		}
		if !d.digits() {
			return nil, d.errIn("in exponent of numeric literal")
		}
	}
	return d.data[start:d.pos], nil
}

// digits consumes a run of decimal digits and reports whether there was one.
func (d *Decoder) digits() bool {
	start := d.pos
	for d.pos < len(d.data) && d.data[d.pos] >= '0' && d.data[d.pos] <= '9' {
		d.pos++
	}
	return d.pos > start
}

// Float64 reads a number as a float64; one out of float64's range is an
// error, as in encoding/json.
func (d *Decoder) Float64() (float64, error) {
	start := d.pos
	b, err := d.number()
	if err != nil {
		return 0, err
	}
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil {
		d.pos = start
		return 0, errors.New("number " + string(b) + " is out of range for a float64")
	}
	return f, nil
}

// Int64 reads a number that must be an integer within int64's range.
func (d *Decoder) Int64() (int64, error) {
	start := d.pos
	b, err := d.number()
	if err != nil {
		return 0, err
	}
	n, err := strconv.ParseInt(string(b), 10, 64)
	if err != nil {
		d.pos = start
		return 0, errors.New("number " + string(b) + " is not an integer within int64's range")
	}
	return n, nil
}

// Uint64 reads a number that must be an integer within uint64's range.
func (d *Decoder) Uint64() (uint64, error) {
	start := d.pos
	b, err := d.number()
	if err != nil {
		return 0, err
	}
	n, err := strconv.ParseUint(string(b), 10, 64)
	if err != nil {
		d.pos = start
		return 0, errors.New("number " + string(b) + " is not an integer within uint64's range")
	}
	return n, nil
}

// String reads a string. Escapes are resolved; invalid UTF-8 and unpaired
// surrogate escapes become U+FFFD, as in encoding/json.
func (d *Decoder) String() (string, error) {
	if err := d.want(String); err != nil {
		return "", err
	}
	raw, plain, err := d.str()
	if err != nil {
		return "", err
	}
	if plain {
		return string(raw), nil
	}
	return string(unquote(raw)), nil
}

// str consumes a string at d.pos and returns its contents between the
// quotes, and whether they can be used as they are (no escapes, valid
// UTF-8).
func (d *Decoder) str() (raw []byte, plain bool, err error) {
	d.pos++ // the opening quote
	start := d.pos
	plain = true
	for d.pos < len(d.data) {
		c := d.data[d.pos]
		switch {
		case c == '"':
			raw = d.data[start:d.pos]
			d.pos++
			return raw, plain, nil
		case c == '\\':
			plain = false
			d.pos++
			if d.pos >= len(d.data) {
				return nil, false, d.errIn("in string escape code")
			}
			switch d.data[d.pos] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				d.pos++
			case 'u':
				d.pos++
				for i := 0; i < 4; i++ {
					if d.pos >= len(d.data) || !isHex(d.data[d.pos]) {
						return nil, false, d.errIn("in \\u hexadecimal character escape")
					}
					d.pos++
				}
			default:
				return nil, false, d.errAt("in string escape code")
			}
		case c < 0x20:
			return nil, false, d.errAt("in string literal")
		case c < utf8.RuneSelf:
			d.pos++
		default:
			r, size := utf8.DecodeRune(d.data[d.pos:])
			if r == utf8.RuneError && size == 1 {
				plain = false
			}
			d.pos += size
		}
	}
	return nil, false, d.errAt("")
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func hexVal(b []byte) rune {
	var r rune
	for _, c := range b {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c = c - 'a' + 10
		default:
			c = c - 'A' + 10
		}
		r = r<<4 | rune(c)
	}
	return r
}

// unquote resolves the escapes of a string's contents already checked by
// str, replacing invalid UTF-8 and unpaired surrogates with U+FFFD.
func unquote(s []byte) []byte {
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); {
		c := s[i]
		if c == '\\' {
			switch s[i+1] {
			case 'b':
				out = append(out, '\b')
			case 'f':
				out = append(out, '\f')
			case 'n':
				out = append(out, '\n')
			case 'r':
				out = append(out, '\r')
			case 't':
				out = append(out, '\t')
			case 'u':
				r := hexVal(s[i+2 : i+6])
				i += 6
				if utf16.IsSurrogate(r) {
					r = utf8.RuneError
					if i+6 <= len(s) && s[i] == '\\' && s[i+1] == 'u' {
						if r2 := utf16.DecodeRune(hexVal(s[i-4:i]), hexVal(s[i+2:i+6])); r2 != utf8.RuneError {
							r = r2
							i += 6
						}
					}
				}
				out = utf8.AppendRune(out, r)
				continue
			default: // " \ /
				out = append(out, s[i+1])
			}
			i += 2
			continue
		}
		if c < utf8.RuneSelf {
			out = append(out, c)
			i++
			continue
		}
		r, size := utf8.DecodeRune(s[i:])
		if r == utf8.RuneError && size == 1 {
			out = utf8.AppendRune(out, utf8.RuneError)
		} else {
			out = append(out, s[i:i+size]...)
		}
		i += size
	}
	return out
}

// Object reads an object, calling each with every member's key in turn;
// each must consume exactly that member's value (read it, Skip it or take
// it Raw). An error from each ends the reading and is returned as it is.
// Duplicate keys are passed on; the caller decides.
func (d *Decoder) Object(each func(key string) error) error {
	if err := d.want(Object); err != nil {
		return err
	}
	if d.depth++; d.depth > maxDepth {
		return d.errAt("exceeded max depth")
	}
	d.pos++
	d.skipSpace()
	if d.pos < len(d.data) && d.data[d.pos] == '}' {
		d.pos++
		d.depth--
		return nil
	}
	for {
		d.skipSpace()
		if d.pos >= len(d.data) || d.data[d.pos] != '"' {
			return d.errAt("looking for beginning of object key string")
		}
		raw, plain, err := d.str()
		if err != nil {
			return err
		}
		var key string
		if plain {
			key = string(raw)
		} else {
			key = string(unquote(raw))
		}
		d.skipSpace()
		if d.pos >= len(d.data) || d.data[d.pos] != ':' {
			return d.errAt("after object key")
		}
		d.pos++
		if err := each(key); err != nil {
			return err
		}
		d.skipSpace()
		if d.pos >= len(d.data) {
			return d.errAt("")
		}
		switch d.data[d.pos] {
		case ',':
			d.pos++
		case '}':
			d.pos++
			d.depth--
			return nil
		default:
			return d.errAt("after object key:value pair")
		}
	}
}

// Array reads an array, calling each with every element's index in turn;
// each must consume exactly that element.
func (d *Decoder) Array(each func(i int) error) error {
	if err := d.want(Array); err != nil {
		return err
	}
	if d.depth++; d.depth > maxDepth {
		return d.errAt("exceeded max depth")
	}
	d.pos++
	d.skipSpace()
	if d.pos < len(d.data) && d.data[d.pos] == ']' {
		d.pos++
		d.depth--
		return nil
	}
	for i := 0; ; i++ {
		if err := each(i); err != nil {
			return err
		}
		d.skipSpace()
		if d.pos >= len(d.data) {
			return d.errAt("")
		}
		switch d.data[d.pos] {
		case ',':
			d.pos++
		case ']':
			d.pos++
			d.depth--
			return nil
		default:
			return d.errAt("after array element")
		}
	}
}

// Skip consumes the next value, checking that it is well formed.
func (d *Decoder) Skip() error {
	switch d.Peek() {
	case Null:
		return d.literal("null")
	case Bool:
		_, err := d.Bool()
		return err
	case Number:
		_, err := d.number()
		return err
	case String:
		_, _, err := d.str()
		return err
	case Array:
		return d.Array(func(int) error { return d.Skip() })
	case Object:
		return d.Object(func(string) error { return d.Skip() })
	}
	return d.errAt("looking for beginning of value")
}

// Raw consumes the next value, checking that it is well formed, and
// returns its bytes: a subslice of the input, not a copy.
func (d *Decoder) Raw() ([]byte, error) {
	d.skipSpace()
	start := d.pos
	if err := d.Skip(); err != nil {
		return nil, err
	}
	return d.data[start:d.pos], nil
}

// Any reads the next value into the generic form: nil, bool, Num, string,
// []any or map[string]any (of the same). In an object a key given twice
// keeps its last value, as in encoding/json.
func (d *Decoder) Any() (any, error) {
	switch d.Peek() {
	case Null:
		return nil, d.literal("null")
	case Bool:
		return d.Bool()
	case Number:
		return d.Number()
	case String:
		return d.String()
	case Array:
		out := []any{}
		err := d.Array(func(int) error {
			v, err := d.Any()
			out = append(out, v)
			return err
		})
		return out, err
	case Object:
		out := map[string]any{}
		err := d.Object(func(k string) error {
			v, err := d.Any()
			out[k] = v
			return err
		})
		return out, err
	}
	return nil, d.errAt("looking for beginning of value")
}

// End checks that nothing but whitespace is left.
func (d *Decoder) End() error {
	d.skipSpace()
	if d.pos < len(d.data) {
		return d.errAt("after top-level value")
	}
	return nil
}

// Valid reports whether data is one well-formed JSON text, as
// encoding/json.Valid does.
func Valid(data []byte) bool { return Check(data) == nil }

// Decode reads data, which must be one JSON text, into the generic form
// Any returns.
func Decode(data []byte) (any, error) {
	d := Decoder{data: data}
	v, err := d.Any()
	if err != nil {
		return nil, err
	}
	if err := d.End(); err != nil {
		return nil, err
	}
	return v, nil
}
