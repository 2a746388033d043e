package wire

import (
	"errors"
	"strconv"
	"strings"

	"github.com/triplesync/triplesync/internal/errs"
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

// parser decodes one frame.
type parser struct {
	data    []byte
	d       jsonlite.Decoder
	typeErr *typeError // the first value of the wrong type
}

// typeError is encoding/json's UnmarshalTypeError, reduced to its text.
type typeError struct {
	value  string // "number", "string", "number 1.5" ...
	typ    string // the Go type as encoding/json names it
	strct  string // the Go struct's name
	field  string // dotted path
	noPath bool   // a top-level value, not a field
}

func (e *typeError) Error() string {
	if e.noPath {
		return "json: cannot unmarshal " + e.value + " into Go value of type " + e.typ
	}
	return "json: cannot unmarshal " + e.value + " into Go struct field " + e.strct + "." + e.field + " of type " + e.typ
}

// reason is how Parse words it (jsonReason before).
func (e *typeError) reason() string {
	if e.noPath || e.field == "" {
		return e.Error()
	}
	return "field " + strconv.Quote(e.field) + " must be " + e.typ + ", not " + e.value
}

// kindValue names a JSON value's kind as encoding/json's type errors do.
func kindValue(k jsonlite.Kind) string {
	switch k {
	case jsonlite.Bool:
		return "bool"
	case jsonlite.Number:
		return "number"
	case jsonlite.String:
		return "string"
	case jsonlite.Array:
		return "array"
	case jsonlite.Object:
		return "object"
	case jsonlite.Null:
		return "null"
	}
	return "invalid"
}

// syntaxErr returns the syntax error of data as one JSON text, or nil.
func syntaxErr(data []byte) error {
	d := jsonlite.NewDecoder(data)
	err := d.Skip()
	if err == nil {
		err = d.End()
	}
	var se *jsonlite.SyntaxError
	if errors.As(err, &se) && se.Error() == "exceeded max depth" && se.Offset < int64(len(data)) {
		// encoding/json's words for it, which jsonlite lacks for now.
		return errs.With("invalid character '"+string(data[se.Offset])+"' exceeded max depth", err)
	}
	return err
}

// null consumes the null at hand.
func (p *parser) null() error {
	if p.d.Null() {
		return nil
	}
	return p.d.Skip() // "nul", "nullx": the syntax error
}

// mismatch notes that the next value has the wrong type for the field and
// skips it.
func (p *parser) mismatch(strct, field, typ string) error {
	if p.typeErr == nil {
		p.typeErr = &typeError{value: kindValue(p.d.Peek()), typ: typ, strct: strct, field: field}
	}
	return p.d.Skip()
}

// key returns which of names k stands for, "" for none.
func key(k string, names []string) string {
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

func (p *parser) str(dst *string, strct, field string) error {
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
	return p.mismatch(strct, field, "string")
}

func (p *parser) bool(dst *bool, strct, field string) error {
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
	return p.mismatch(strct, field, "bool")
}

// int64 decodes an integer into a field of Go type typ (int or
// store.TxID): encoding/json's ParseInt, and its "number 1.5" when that
// fails.
func (p *parser) int64(dst *int64, strct, field, typ string) error {
	switch p.d.Peek() {
	case jsonlite.Number:
		n, err := p.d.Number()
		if err != nil {
			return err
		}
		v, err := strconv.ParseInt(string(n), 10, 64)
		if err != nil {
			if p.typeErr == nil {
				p.typeErr = &typeError{value: "number " + string(n), typ: typ, strct: strct, field: field}
			}
			return nil
		}
		*dst = v
		return nil
	case jsonlite.Null:
		return p.null()
	}
	return p.mismatch(strct, field, typ)
}

func (p *parser) int(dst *int, strct, field string) error {
	v := int64(*dst)
	err := p.int64(&v, strct, field, "int")
	*dst = int(v)
	return err
}

func (p *parser) txID(dst *store.TxID, strct, field string) error {
	v := int64(*dst)
	err := p.int64(&v, strct, field, "store.TxID")
	*dst = store.TxID(v)
	return err
}

// raw copies the next value's text, null included, as json.RawMessage did.
func (p *parser) raw(dst *[]byte) error {
	b, err := p.d.Raw()
	if err != nil {
		return err
	}
	*dst = append((*dst)[:0:0], b...)
	return nil
}

func (p *parser) triples(dst *Triples) error {
	b, err := p.d.Raw()
	if err != nil {
		return err
	}
	return dst.UnmarshalJSON(b)
}

func (p *parser) keys(dst *Keys) error {
	b, err := p.d.Raw()
	if err != nil {
		return err
	}
	return dst.UnmarshalJSON(b)
}

// text decodes a string into a field with an UnmarshalText method (ids,
// value types, cardinalities), whose error ends the decoding.
func (p *parser) text(u interface{ UnmarshalText([]byte) error }, strct, field, typ string) error {
	switch p.d.Peek() {
	case jsonlite.String:
		s, err := p.d.String()
		if err != nil {
			return err
		}
		return u.UnmarshalText([]byte(s))
	case jsonlite.Null:
		return p.null()
	}
	return p.mismatch(strct, field, typ)
}

// object decodes the object at hand into a struct named strct at path
// field (for type errors): null leaves it as it was, another kind is a
// type error.
func (p *parser) object(strct, field, typ string, each func(k string) error) error {
	switch p.d.Peek() {
	case jsonlite.Object:
		return p.d.Object(each)
	case jsonlite.Null:
		return p.null()
	}
	return p.mismatch(strct, field, typ)
}

var initFields = []string{"client-event-id", "token"}

func (p *parser) init(m *Init) error {
	return p.d.Object(func(k string) error {
		switch key(k, initFields) {
		case "client-event-id":
			return p.str(&m.ClientEventID, "Init", "client-event-id")
		case "token":
			return p.str(&m.Token, "Init", "token")
		}
		return p.d.Skip()
	})
}

var addQueryFields = []string{"client-event-id", "query-id", "q"}

func (p *parser) addQuery(m *AddQuery) error {
	return p.d.Object(func(k string) error {
		switch key(k, addQueryFields) {
		case "client-event-id":
			return p.str(&m.ClientEventID, "AddQuery", "client-event-id")
		case "query-id":
			return p.str(&m.QueryID, "AddQuery", "query-id")
		case "q":
			return p.raw(&m.Q)
		}
		return p.d.Skip()
	})
}

var queryIDFields = []string{"client-event-id", "query-id"}

func (p *parser) removeQuery(m *RemoveQuery) error {
	return p.d.Object(func(k string) error {
		switch key(k, queryIDFields) {
		case "client-event-id":
			return p.str(&m.ClientEventID, "RemoveQuery", "client-event-id")
		case "query-id":
			return p.str(&m.QueryID, "RemoveQuery", "query-id")
		}
		return p.d.Skip()
	})
}

func (p *parser) removeQueryOK(m *RemoveQueryOK) error {
	return p.d.Object(func(k string) error {
		switch key(k, queryIDFields) {
		case "client-event-id":
			return p.str(&m.ClientEventID, "RemoveQueryOK", "client-event-id")
		case "query-id":
			return p.str(&m.QueryID, "RemoveQueryOK", "query-id")
		}
		return p.d.Skip()
	})
}

var transactFields = []string{"client-event-id", "mutation-id", "tx-steps"}

// transact decodes a transact as its UnmarshalJSON method did with
// encoding/json: the ids and the steps' text first (type errors reported
// before any step is looked at), then the steps (nil for a missing or null
// tx-steps, which validate reports).
func (p *parser) transact(m *Transact) error {
	var raw Transact
	var steps []byte
	err := p.object("", "", "struct { ClientEventID string \"json:\\\"client-event-id\\\"\"; MutationID string \"json:\\\"mutation-id\\\"\"; Steps json.RawMessage \"json:\\\"tx-steps\\\"\" }", func(k string) error {
		switch key(k, transactFields) {
		case "client-event-id":
			return p.str(&raw.ClientEventID, "", "client-event-id")
		case "mutation-id":
			return p.str(&raw.MutationID, "", "mutation-id")
		case "tx-steps":
			b, err := p.d.Raw()
			steps = b
			return err
		}
		return p.d.Skip()
	})
	if err != nil {
		return err
	}
	if err := p.d.End(); err != nil {
		return err
	}
	if p.typeErr != nil {
		if p.typeErr.field == "" {
			p.typeErr.noPath = true
		}
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

var initOKFields = []string{"client-event-id", "session-id", "attrs", "auth-id"}

func (p *parser) initOK(m *InitOK) error {
	return p.d.Object(func(k string) error {
		switch key(k, initOKFields) {
		case "client-event-id":
			return p.str(&m.ClientEventID, "InitOK", "client-event-id")
		case "session-id":
			return p.str(&m.SessionID, "InitOK", "session-id")
		case "attrs":
			return p.attrs(&m.Attrs, "InitOK")
		case "auth-id":
			return p.str(&m.AuthID, "InitOK", "auth-id")
		}
		return p.d.Skip()
	})
}

var addQueryOKFields = []string{"client-event-id", "query-id", "q", "result", "processed-tx-id"}

func (p *parser) addQueryOK(m *AddQueryOK) error {
	return p.d.Object(func(k string) error {
		switch key(k, addQueryOKFields) {
		case "client-event-id":
			return p.str(&m.ClientEventID, "AddQueryOK", "client-event-id")
		case "query-id":
			return p.str(&m.QueryID, "AddQueryOK", "query-id")
		case "q":
			return p.raw(&m.Q)
		case "result":
			return p.triples(&m.Result)
		case "processed-tx-id":
			return p.txID(&m.ProcessedTxID, "AddQueryOK", "processed-tx-id")
		}
		return p.d.Skip()
	})
}

var transactOKFields = []string{"client-event-id", "mutation-id", "tx-id"}

func (p *parser) transactOK(m *TransactOK) error {
	return p.d.Object(func(k string) error {
		switch key(k, transactOKFields) {
		case "client-event-id":
			return p.str(&m.ClientEventID, "TransactOK", "client-event-id")
		case "mutation-id":
			return p.str(&m.MutationID, "TransactOK", "mutation-id")
		case "tx-id":
			return p.txID(&m.TxID, "TransactOK", "tx-id")
		}
		return p.d.Skip()
	})
}

var refreshOKFields = []string{"processed-tx-id", "computations", "attrs"}

func (p *parser) refreshOK(m *RefreshOK) error {
	return p.d.Object(func(k string) error {
		switch key(k, refreshOKFields) {
		case "processed-tx-id":
			return p.txID(&m.ProcessedTxID, "RefreshOK", "processed-tx-id")
		case "computations":
			return p.computations(&m.Computations)
		case "attrs":
			return p.attrs(&m.Attrs, "RefreshOK")
		}
		return p.d.Skip()
	})
}

var errorFields = []string{"client-event-id", "status", "type", "message", "query-id", "mutation-id", "original-event"}

func (p *parser) error(m *Error) error {
	return p.d.Object(func(k string) error {
		switch key(k, errorFields) {
		case "client-event-id":
			return p.str(&m.ClientEventID, "Error", "client-event-id")
		case "status":
			return p.int(&m.Status, "Error", "status")
		case "type":
			return p.str(&m.Type, "Error", "type")
		case "message":
			return p.str(&m.Message, "Error", "message")
		case "query-id":
			return p.str(&m.QueryID, "Error", "query-id")
		case "mutation-id":
			return p.str(&m.MutationID, "Error", "mutation-id")
		case "original-event":
			return p.raw(&m.OriginalEvent)
		}
		return p.d.Skip()
	})
}

// array decodes a JSON array into a slice of n elements as encoding/json
// does: null makes it nil, an array reuses the elements the slice has (and
// those its capacity holds), [] makes it empty but not nil. grow(i) makes
// room for element i and elem(i) decodes it; done(n) sets the length.
func (p *parser) array(strct, field, typ string, setNil func(), grow func(i int), elem func(i int) error, done func(n int)) error {
	switch p.d.Peek() {
	case jsonlite.Array:
	case jsonlite.Null:
		setNil()
		return p.null()
	default:
		return p.mismatch(strct, field, typ)
	}
	n := 0
	err := p.d.Array(func(i int) error {
		grow(i)
		n = i + 1
		return elem(i)
	})
	if err != nil {
		return err
	}
	done(n)
	return nil
}

var attrFields = []string{"id", "namespace", "label", "value-type", "cardinality", "unique", "indexed", "ref-namespace", "reverse-label", "on-delete-cascade"}

func (p *parser) attrs(dst *[]store.Attr, strct string) error {
	s := *dst
	return p.array(strct, "attrs", "[]store.Attr",
		func() { *dst = nil },
		func(i int) {
			if i < len(s) {
				return
			}
			if i < cap(s) {
				s = s[:i+1]
			} else {
				s = append(s, store.Attr{})
			}
		},
		func(i int) error { return p.attr(&s[i]) },
		func(n int) {
			if n == 0 {
				s = []store.Attr{}
			}
			*dst = s[:n]
		})
}

func (p *parser) attr(a *store.Attr) error {
	return p.object("", "attrs", "store.Attr", func(k string) error {
		switch key(k, attrFields) {
		case "id":
			return p.text(&a.ID, "Attr", "attrs.id", "store.EntityID")
		case "namespace":
			return p.str(&a.Namespace, "Attr", "attrs.namespace")
		case "label":
			return p.str(&a.Label, "Attr", "attrs.label")
		case "value-type":
			return p.text(&a.Type, "Attr", "attrs.value-type", "store.ValueType")
		case "cardinality":
			return p.text(&a.Cardinality, "Attr", "attrs.cardinality", "store.Cardinality")
		case "unique":
			return p.bool(&a.Unique, "Attr", "attrs.unique")
		case "indexed":
			return p.bool(&a.Indexed, "Attr", "attrs.indexed")
		case "ref-namespace":
			return p.str(&a.RefNamespace, "Attr", "attrs.ref-namespace")
		case "reverse-label":
			return p.str(&a.ReverseLabel, "Attr", "attrs.reverse-label")
		case "on-delete-cascade":
			return p.bool(&a.OnDeleteCascade, "Attr", "attrs.on-delete-cascade")
		}
		return p.d.Skip()
	})
}

var computationFields = []string{"query-id", "full", "added", "removed"}

func (p *parser) computations(dst *[]Computation) error {
	s := *dst
	return p.array("RefreshOK", "computations", "[]wire.Computation",
		func() { *dst = nil },
		func(i int) {
			if i < len(s) {
				return
			}
			if i < cap(s) {
				s = s[:i+1]
			} else {
				s = append(s, Computation{})
			}
		},
		func(i int) error { return p.computation(&s[i]) },
		func(n int) {
			if n == 0 {
				s = []Computation{}
			}
			*dst = s[:n]
		})
}

func (p *parser) computation(c *Computation) error {
	return p.object("RefreshOK", "computations", "wire.Computation", func(k string) error {
		switch key(k, computationFields) {
		case "query-id":
			return p.str(&c.QueryID, "Computation", "computations.query-id")
		case "full":
			return p.bool(&c.Full, "Computation", "computations.full")
		case "added":
			return p.triples(&c.Added)
		case "removed":
			return p.keys(&c.Removed)
		}
		return p.d.Skip()
	})
}
