package wasm

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strconv"
	"strings"

	"github.com/triplesync/triplesync/internal/errs"
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
	Action    string                     `json:"action"`
	Namespace string                     `json:"namespace"`
	ID        string                     `json:"id"`
	Args      map[string]json.RawMessage `json:"args"`
	Mode      string                     `json:"mode"`
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
// (the default) or "update" (the entity must exist). Values keep their
// JSON numbers exact. Link and unlink targets are ids or lookups, alone or
// in arrays. Errors wrap [ErrBadOp] and name the op's index.
func DecodeOps(data []byte) ([]store.TxOp, error) {
	var raw []json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
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

func decodeOp(r json.RawMessage) (store.TxOp, error) {
	var j opJSON
	if err := json.Unmarshal(r, &j); err != nil || j.Action == "" {
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

func decodeValue(v json.RawMessage) (any, error) {
	d := json.NewDecoder(bytes.NewReader(v))
	d.UseNumber()
	var x any
	if err := d.Decode(&x); err != nil {
		return nil, err
	}
	if _, err := d.Token(); err != io.EOF {
		return nil, errors.New("trailing data after the value")
	}
	return x, nil
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
		v, err := decodeValue(json.RawMessage(val))
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
