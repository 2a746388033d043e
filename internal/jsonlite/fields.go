package jsonlite

import (
	"errors"
	"strings"

	"github.com/triplesync/triplesync/internal/errs"
)

// Helpers for the hand-written decoders that stand in for encoding/json
// decoding into structs, so that its rules and words are written once.

// Check returns the syntax error of data as one JSON text, or nil:
// json.Unmarshal checks the whole text first, so this error wins over
// any met while decoding.
func Check(data []byte) error {
	d := Decoder{data: data}
	err := d.Skip()
	if err == nil {
		err = d.End()
	}
	return err
}

// Match returns the name among names that an object's key k stands for,
// as encoding/json matches keys to a struct's fields: exactly, else
// case-insensitively (strings.EqualFold); "" for none.
func Match(k string, names []string) string {
	for _, n := range names {
		if k == n {
			return n
		}
	}
	for _, n := range names {
		if strings.EqualFold(k, n) {
			return n
		}
	}
	return ""
}

// ValueName names a value of kind k as encoding/json's type errors do:
// "bool" for a boolean, else k's String.
func (k Kind) ValueName() string {
	if k == Bool {
		return "bool"
	}
	return k.String()
}

// ValueTypeError is encoding/json's error for a value (ValueName, or
// "number 1.5") that Go type typ cannot hold, outside any struct.
func ValueTypeError(value, typ string) error {
	return errors.New("json: cannot unmarshal " + value + " into Go value of type " + typ)
}

// FieldTypeError is encoding/json's error for a value (ValueName, or
// "number 1.5") that field (its JSON name) of the struct named strct
// cannot hold, being of Go type typ.
func FieldTypeError(value, strct, field, typ string) error {
	return errors.New("json: cannot unmarshal " + value + " into Go struct field " + strct + "." + field + " of type " + typ)
}

// Unmarshal is json.Unmarshal(data, u) for a type whose UnmarshalJSON is
// written by hand, given as unmarshalJSON (u.UnmarshalJSON): encoding/json
// called that method only with well-formed JSON, so malformed data is
// reported as its syntax error whatever the method says of it. It takes
// the method rather than u: a call of UnmarshalJSON through an interface
// keeps that method of every type the browser client converts to an
// interface, time.Time's with time's layout parser among them.
func Unmarshal(data []byte, unmarshalJSON func([]byte) error) error {
	err := unmarshalJSON(data)
	if err != nil {
		if serr := Check(data); serr != nil {
			return serr
		}
	}
	return err
}

// MarshalerError is encoding/json's error for the MarshalJSON method of
// type typ (as "pkg.Name") that failed with err; it unwraps to err.
func MarshalerError(typ string, err error) error {
	return errs.With("json: error calling MarshalJSON for type "+typ+": "+err.Error(), err)
}
