package wire

import (
	"strconv"
	"strings"

	"github.com/triplesync/triplesync/internal/jsonlite"
	"github.com/triplesync/triplesync/store"
)

// The decoders below read each message with jsonlite, keeping what
// encoding/json into the tagged structs these types used to be did: keys
// matched exactly or else case-insensitively (strings.EqualFold, as
// encoding/json folds), unknown keys skipped, the last of duplicate keys
// winning, null leaving a scalar field as it was, a value of the wrong
// type noted (the first one is reported, in encoding/json's words, once the
// rest has been read) and skipped, and the error of a field decoded by
// its own method (triples, keys, ids, value types) ending the decoding.
// A syntax error anywhere in the frame beats all of these, as encoding/json
// checked the whole text first.

// parser decodes one frame. Each struct is decoded by fields, from a list
// of its keys and where their values go: one decoder for them all, smaller
// in the wasm client than one per struct.
type parser struct {
	data    []byte
	d       jsonlite.Decoder
	typeErr *typeError // the first value of the wrong type
}

// typeError is encoding/json's UnmarshalTypeError, reduced to its text.
type typeError struct {
	value  string // "number", "string", "number 1.5" ...
	typ    string // the Go type as encoding/json names it
	field  string // dotted path
	noPath bool   // a top-level value, not a field
}

// Error is what encoding/json said, for the anonymous struct
// Transact.UnmarshalJSON decoded into (the only one whose type errors are
// shown this way; Parse words them with reason).
func (e *typeError) Error() string {
	if e.noPath {
		return "json: cannot unmarshal " + e.value + " into Go value of type " + e.typ
	}
	return "json: cannot unmarshal " + e.value + " into Go struct field ." + e.field + " of type " + e.typ
}

// reason is how Parse words it (jsonReason before).
func (e *typeError) reason() string {
	if e.noPath || e.field == "" {
		return e.Error()
	}
	return "field " + strconv.Quote(e.field) + " must be " + e.typ + ", not " + e.value
}

// null consumes the null at hand.
func (p *parser) null() error {
	if p.d.Null() {
		return nil
	}
	return p.d.Skip() // "nul", "nullx": the syntax error
}

// mismatch notes that the next value has the wrong type for the field
// path+name and skips it.
func (p *parser) mismatch(path, name, typ string) error {
	if p.typeErr == nil {
		p.typeErr = &typeError{value: p.d.Peek().ValueName(), typ: typ, field: path + name}
	}
	return p.d.Skip()
}

// field is a struct member: its key and where its value goes.
type field struct {
	name string
	dst  any
}

// fields decodes an object into the fields fs; path ("", "attrs." ...)
// names the struct in type errors.
//
//go:noinline
func (p *parser) fields(path string, fs []field) error {
	return p.d.Object(func(k string) error {
		for i := range fs {
			if fs[i].name == k {
				return p.value(path, &fs[i])
			}
		}
		for i := range fs {
			if strings.EqualFold(fs[i].name, k) {
				return p.value(path, &fs[i])
			}
		}
		return p.d.Skip()
	})
}

// object is fields for a struct inside another: null leaves it as it is,
// another kind of value is a type error of the field path+name.
func (p *parser) object(path, name, typ string, fs []field) error {
	switch p.d.Peek() {
	case jsonlite.Object:
		return p.fields(path+name+".", fs)
	case jsonlite.Null:
		return p.null()
	}
	return p.mismatch(path, name, typ)
}

// value decodes the next value into f.
func (p *parser) value(path string, f *field) error {
	switch dst := f.dst.(type) {
	case *string:
		return p.str(dst, path, f.name)
	case *bool:
		return p.bool(dst, path, f.name)
	case *int:
		v := int64(*dst)
		err := p.int64(&v, path, f.name, "int")
		*dst = int(v)
		return err
	case *store.TxID:
		v := int64(*dst)
		err := p.int64(&v, path, f.name, "store.TxID")
		*dst = store.TxID(v)
		return err
	case *[]byte: // json.RawMessage: the text as it is, null included
		b, err := p.d.Raw()
		if err != nil {
			return err
		}
		*dst = append((*dst)[:0:0], b...)
		return nil
	case *Triples:
		b, err := p.d.Raw()
		if err != nil {
			return err
		}
		return dst.UnmarshalJSON(b)
	case *Keys:
		b, err := p.d.Raw()
		if err != nil {
			return err
		}
		return dst.UnmarshalJSON(b)
	case *store.EntityID:
		return p.text(dst.UnmarshalText, path, f.name, "store.EntityID")
	case *store.ValueType:
		return p.text(dst.UnmarshalText, path, f.name, "store.ValueType")
	case *store.Cardinality:
		return p.text(dst.UnmarshalText, path, f.name, "store.Cardinality")
	case *[]store.Attr:
		return p.attrs(dst, path, f.name)
	case *[]Computation:
		return p.computations(dst, path, f.name)
	}
	panic("wire: no decoder for " + f.name)
}

func (p *parser) str(dst *string, path, name string) error {
	switch p.d.Peek() {
	case jsonlite.String:
		s, err := p.d.String()
		if err != nil {
			return err
		}
		*dst = s
		return nil
	case jsonlite.Null:
		return p.null()
	}
	return p.mismatch(path, name, "string")
}

func (p *parser) bool(dst *bool, path, name string) error {
	switch p.d.Peek() {
	case jsonlite.Bool:
		b, err := p.d.Bool()
		if err != nil {
			return err
		}
		*dst = b
		return nil
	case jsonlite.Null:
		return p.null()
	}
	return p.mismatch(path, name, "bool")
}

// int64 decodes an integer into a field of Go type typ (int or
// store.TxID): encoding/json's ParseInt, and its "number 1.5" when that
// fails.
func (p *parser) int64(dst *int64, path, name, typ string) error {
	switch p.d.Peek() {
	case jsonlite.Number:
		n, err := p.d.Number()
		if err != nil {
			return err
		}
		v, err := strconv.ParseInt(string(n), 10, 64)
		if err != nil {
			if p.typeErr == nil {
				p.typeErr = &typeError{value: "number " + string(n), typ: typ, field: path + name}
			}
			return nil
		}
		*dst = v
		return nil
	case jsonlite.Null:
		return p.null()
	}
	return p.mismatch(path, name, typ)
}

// text decodes a string into a field with an UnmarshalText method (ids,
// value types, cardinalities), whose error ends the decoding. It takes the
// method, not an interface holding the field: a call of UnmarshalText
// through an interface keeps that method of every type converted to an
// interface in the binary, time.Time's with time's layout parser among them.
func (p *parser) text(unmarshalText func([]byte) error, path, name, typ string) error {
	switch p.d.Peek() {
	case jsonlite.String:
		s, err := p.d.String()
		if err != nil {
			return err
		}
		return unmarshalText([]byte(s))
	case jsonlite.Null:
		return p.null()
	}
	return p.mismatch(path, name, typ)
}

// array reads the JSON array for a slice field as encoding/json did: null
// makes the slice nil (setNil), [] empty but not nil, and elem(i) decodes
// element i; elements the slice has (or its capacity holds) are decoded
// into again. It returns the element count, or -1 for null or a value of
// another type.
func (p *parser) array(path, name, typ string, elem func(i int) error) (int, error) {
	switch p.d.Peek() {
	case jsonlite.Array:
	case jsonlite.Null:
		return -1, p.null()
	default:
		return -2, p.mismatch(path, name, typ)
	}
	n := 0
	err := p.d.Array(func(i int) error {
		n = i + 1
		return elem(i)
	})
	return n, err
}

// DecodeAttrs reads a JSON list of attributes (init-ok's attrs, as the
// client stores them) as json.Unmarshal into []store.Attr read it: the
// same list, or an error where that failed (its text need not be
// encoding/json's).
func DecodeAttrs(data []byte) ([]store.Attr, error) {
	p := parser{data: data}
	p.d.Reset(data)
	var list []store.Attr
	err := p.attrs(&list, "", "")
	if err == nil {
		err = p.d.End()
	}
	if err == nil && p.typeErr != nil {
		err = p.typeErr
	}
	if err != nil {
		return nil, err
	}
	return list, nil
}

func (p *parser) attrs(dst *[]store.Attr, path, name string) error {
	s := *dst
	n, err := p.array(path, name, "[]store.Attr", func(i int) error {
		if i >= len(s) {
			if i < cap(s) {
				s = s[:i+1]
			} else {
				s = append(s, store.Attr{})
			}
		}
		a := &s[i]
		return p.object(path, name, "store.Attr", []field{
			{"id", &a.ID}, {"namespace", &a.Namespace}, {"label", &a.Label},
			{"value-type", &a.Type}, {"cardinality", &a.Cardinality},
			{"unique", &a.Unique}, {"indexed", &a.Indexed},
			{"ref-namespace", &a.RefNamespace}, {"reverse-label", &a.ReverseLabel},
			{"on-delete-cascade", &a.OnDeleteCascade},
		})
	})
	switch {
	case err != nil || n == -2:
	case n == -1:
		*dst = nil
	case n == 0:
		*dst = []store.Attr{}
	default:
		*dst = s[:n]
	}
	return err
}

func (p *parser) computations(dst *[]Computation, path, name string) error {
	s := *dst
	n, err := p.array(path, name, "[]wire.Computation", func(i int) error {
		if i >= len(s) {
			if i < cap(s) {
				s = s[:i+1]
			} else {
				s = append(s, Computation{})
			}
		}
		c := &s[i]
		return p.object(path, name, "wire.Computation", []field{
			{"query-id", &c.QueryID}, {"full", &c.Full}, {"added", &c.Added}, {"removed", &c.Removed},
		})
	})
	switch {
	case err != nil || n == -2:
	case n == -1:
		*dst = nil
	case n == 0:
		*dst = []Computation{}
	default:
		*dst = s[:n]
	}
	return err
}

// message decodes the frame into m.
func (p *parser) message(m Message) error {
	switch m := m.(type) {
	case *Init:
		return p.fields("", []field{{"client-event-id", &m.ClientEventID}, {"token", &m.Token}})
	case *AddQuery:
		return p.fields("", []field{{"client-event-id", &m.ClientEventID}, {"query-id", &m.QueryID}, {"q", &m.Q}})
	case *RemoveQuery:
		return p.fields("", []field{{"client-event-id", &m.ClientEventID}, {"query-id", &m.QueryID}})
	case *Transact:
		return p.transact(m)
	case *InitOK:
		return p.fields("", []field{{"client-event-id", &m.ClientEventID}, {"session-id", &m.SessionID}, {"attrs", &m.Attrs}, {"auth-id", &m.AuthID}})
	case *AddQueryOK:
		return p.fields("", []field{{"client-event-id", &m.ClientEventID}, {"query-id", &m.QueryID}, {"q", &m.Q}, {"result", &m.Result}, {"processed-tx-id", &m.ProcessedTxID}})
	case *RemoveQueryOK:
		return p.fields("", []field{{"client-event-id", &m.ClientEventID}, {"query-id", &m.QueryID}})
	case *TransactOK:
		return p.fields("", []field{{"client-event-id", &m.ClientEventID}, {"mutation-id", &m.MutationID}, {"tx-id", &m.TxID}})
	case *RefreshOK:
		return p.fields("", []field{{"processed-tx-id", &m.ProcessedTxID}, {"computations", &m.Computations}, {"attrs", &m.Attrs}})
	case *Error:
		return p.fields("", []field{{"client-event-id", &m.ClientEventID}, {"status", &m.Status}, {"type", &m.Type}, {"message", &m.Message},
			{"query-id", &m.QueryID}, {"mutation-id", &m.MutationID}, {"original-event", &m.OriginalEvent}})
	}
	panic("wire: no decoder for " + m.Op())
}

// transact decodes a transact as its UnmarshalJSON method did with
// encoding/json: the ids and the steps' text first (type errors reported
// before any step is looked at), then the steps (nil for a missing or null
// tx-steps, which validate reports).
func (p *parser) transact(m *Transact) error {
	var raw Transact
	var steps []byte
	var err error
	switch k := p.d.Peek(); k {
	case jsonlite.Object:
		err = p.fields("", []field{{"client-event-id", &raw.ClientEventID}, {"mutation-id", &raw.MutationID}, {"tx-steps", &steps}})
	case jsonlite.Null:
		err = p.null()
	default:
		if p.typeErr == nil {
			p.typeErr = &typeError{value: k.ValueName(), noPath: true,
				typ: `struct { ClientEventID string "json:\"client-event-id\""; MutationID string "json:\"mutation-id\""; Steps json.RawMessage "json:\"tx-steps\"" }`}
		}
		err = p.d.Skip()
	}
	if err != nil {
		return err
	}
	if err := p.d.End(); err != nil {
		return err
	}
	if p.typeErr != nil {
		return p.typeErr
	}
	*m = raw
	if steps == nil || string(steps) == "null" {
		return nil
	}
	s, err := store.DecodeSteps(steps)
	if err != nil {
		return err
	}
	m.Steps = s
	return nil
}
