package wasm

import (
	"errors"
	"io"
	"strconv"
	"strings"

	"github.com/triplesync/triplesync/internal/errs"
	"github.com/triplesync/triplesync/internal/jsonlite"
	"github.com/triplesync/triplesync/store"
)

// LookupPrefix starts the string form of a lookup, as the JS API's
// lookup(label, value) makes it and InstantDB spells it:
// lookup__<label>__<value as JSON>, e.g. lookup__email__"ann@x.io". It
// stands for an entity id wherever one is expected: an op's entity, a link
// target.
const LookupPrefix = "lookup__"

// opJSON is one op as the JS tx builder produces it.
type opJSON struct {
	Action    string
	Namespace string
	ID        string
	Args      map[string][]byte // each value's JSON text
	Mode      string
}

// DecodeOps decodes the JSON array of ops the JS API's tx builder makes
// into [store.TxOp]s for [reactor.Client.Transact]:
//
//	[{"action": "update", "namespace": "todos", "id": "<uuid>",
//	  "args": {"title": "Milk", "done": false}},
//	 {"action": "link", "namespace": "todos", "id": "<uuid>",
//	  "args": {"owner": "<uuid>", "tags": ["<uuid>", "lookup__name__\"red\""]}},
//	 {"action": "update", "namespace": "users", "id": "lookup__email__\"ann@x.io\"",
//	  "args": {"name": "Ann"}, "mode": "update"}]
//
// action is create, update, merge, delete, link or unlink; id is a UUID
// or a lookup ([LookupPrefix]); mode, for update and merge, is "upsert"
// (the default) or "update" (the entity must exist). Link and unlink
// targets are ids or lookups, alone or in arrays. Errors wrap [ErrBadOp]
// and name the op's index.
//
// The decoding was encoding/json's (into []json.RawMessage, then each op
// into a struct, each value with UseNumber) and keeps its results and
// error messages; ops_oracle_internal_test.go holds it to the old code.
// Numbers reach store as float64, which is what store made of them (a
// number out of float64's range fails in Transform as before, as ±Inf).
func DecodeOps(data []byte) ([]store.TxOp, error) {
	// As json.Unmarshal into []json.RawMessage.
	d := jsonlite.NewDecoder(data)
	var raw [][]byte
	var err, typeErr error
	switch k := d.Peek(); k {
	case jsonlite.Null, jsonlite.Invalid:
		err = d.Skip()
	case jsonlite.Array:
		err = d.Array(func(int) error {
			r, err := d.Raw()
			raw = append(raw, r)
			return err
		})
	default:
		typeErr = jsonlite.ValueTypeError(k.ValueName(), "[]json.RawMessage")
		err = d.Skip()
	}
	if err == nil {
		err = d.End()
	}
	if err != nil {
		if serr := jsonlite.Check(data); serr != nil {
			err = serr
		}
	} else {
		err = typeErr
	}
	if err != nil {
		return nil, badOp("want an array of ops: " + err.Error())
	}
	ops := make([]store.TxOp, 0, len(raw))
	for i, r := range raw {
		op, err := decodeOp(r)
		if err != nil {
			return nil, errs.Wrap("op "+strconv.Itoa(i), err)
		}
		ops = append(ops, op)
	}
	return ops, nil
}

func decodeOp(r []byte) (store.TxOp, error) {
	j, ok := decodeOpJSON(r)
	if !ok || j.Action == "" {
		return store.TxOp{}, errBadOpShape
	}
	op := store.TxOp{Action: j.Action, Namespace: j.Namespace}
	switch j.Mode {
	case "", "upsert":
	case "update":
		op.Mode = store.ModeUpdate
	default:
		return op, badOp("mode " + strconv.Quote(j.Mode) + ": want upsert or update")
	}
	if j.ID != "" {
		id, l, err := parseTarget(j.ID)
		if err != nil {
			return op, err
		}
		op.ID, op.Lookup = id, l
	}
	if len(j.Args) > 0 {
		op.Args = make(map[string]any, len(j.Args))
	}
	link := j.Action == "link" || j.Action == "unlink"
	for k, v := range j.Args {
		x, err := decodeValue(v)
		if err != nil {
			return op, badOp(k + ": " + err.Error())
		}
		if link {
			if x, err = linkTargets(x); err != nil {
				return op, errs.Wrap(k, err)
			}
		}
		op.Args[k] = x
	}
	return op, nil
}

var opFields = []string{"action", "namespace", "id", "args", "mode"}

// decodeOpJSON decodes an op (well-formed JSON) as json.Unmarshal into
// the op struct did; ok is false where that failed.
func decodeOpJSON(r []byte) (j opJSON, ok bool) {
	d := jsonlite.NewDecoder(r)
	if d.Null() {
		return j, true
	}
	failed := false
	err := d.Object(func(k string) error {
		name := jsonlite.Match(k, opFields)
		if name == "" {
			return d.Skip()
		}
		if d.Null() {
			if name == "args" {
				j.Args = nil
			}
			return nil
		}
		var dst *string
		switch name {
		case "action":
			dst = &j.Action
		case "namespace":
			dst = &j.Namespace
		case "id":
			dst = &j.ID
		case "mode":
			dst = &j.Mode
		default: // args: a second one adds to the first, as into a map
			if d.Peek() != jsonlite.Object {
				failed = true
				return d.Skip()
			}
			if j.Args == nil {
				j.Args = map[string][]byte{}
			}
			return d.Object(func(k string) error {
				v, err := d.Raw()
				j.Args[k] = v
				return err
			})
		}
		if d.Peek() != jsonlite.String {
			failed = true
			return d.Skip()
		}
		s, err := d.String()
		*dst = s
		return err
	})
	return j, err == nil && !failed
}

// decodeValue decodes one JSON value as a json.Decoder with UseNumber
// did, numbers as jsonlite.Num, with its error messages: "EOF" for no
// value, "unexpected EOF" for one cut short.
func decodeValue(v []byte) (any, error) {
	d := jsonlite.NewDecoder(v)
	if d.Peek() == jsonlite.Invalid && d.Offset() == len(v) {
		return nil, io.EOF
	}
	x, err := d.Any()
	if err != nil {
		if cutShort(err) {
			return nil, io.ErrUnexpectedEOF
		}
		return nil, err
	}
	if d.End() != nil {
		return nil, errors.New("trailing data after the value")
	}
	return x, nil
}

// cutShort reports whether err, from decoding a value, comes from the
// value ending early, which encoding/json's Decoder reported as
// io.ErrUnexpectedEOF.
func cutShort(err error) bool {
	se, ok := errors.AsType[*jsonlite.SyntaxError](err)
	return ok && se.Truncated
}

// linkTargets converts a link argument: lookup strings become
// [store.Lookup]s, ids stay strings (Transform parses them).
func linkTargets(x any) (any, error) {
	switch v := x.(type) {
	case string:
		return target(v)
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			s, ok := e.(string)
			if !ok {
				return nil, badOp("link target " + formatAny(e) + ": want an id or a lookup")
			}
			t, err := target(s)
			if err != nil {
				return nil, err
			}
			out[i] = t
		}
		return out, nil
	}
	return nil, badOp("link target " + formatAny(x) + ": want an id, a lookup or an array of them")
}

func target(s string) (any, error) {
	if !strings.HasPrefix(s, LookupPrefix) {
		return s, nil
	}
	_, l, err := parseTarget(s)
	if err != nil {
		return nil, err
	}
	return *l, nil
}

// parseTarget parses an entity reference: a UUID or a lookup string.
func parseTarget(s string) (store.EntityID, *store.Lookup, error) {
	if rest, ok := strings.CutPrefix(s, LookupPrefix); ok {
		label, val, ok := strings.Cut(rest, "__")
		if !ok || label == "" {
			return store.EntityID{}, nil, badOp("lookup " + strconv.Quote(s) + ": want lookup__<label>__<JSON value>")
		}
		v, err := decodeValue([]byte(val))
		if err != nil {
			return store.EntityID{}, nil, badOp("lookup " + strconv.Quote(s) + ": value: " + err.Error())
		}
		return store.EntityID{}, &store.Lookup{Label: label, Value: v}, nil
	}
	id, err := store.ParseEntityID(s)
	if err != nil {
		return store.EntityID{}, nil, badOp("id " + strconv.Quote(s) + ": " + err.Error())
	}
	return id, nil, nil
}

// badOp returns an error wrapping [ErrBadOp]: fmt.Errorf("%w: "+detail, ErrBadOp).
func badOp(detail string) error { return wrapSentinel(ErrBadOp, detail) }

var errBadOpShape = badOp("want {action, namespace, id, args}")
