//go:build !(js && wasm)

package wasm

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/triplesync/triplesync/internal/errs"
	"github.com/triplesync/triplesync/internal/jsonlite"
	"github.com/triplesync/triplesync/store"
)

// The ops decoding as it was written with encoding/json, before it moved
// to internal/jsonlite: the oracle DecodeOps must match.

// oldOpJSON is one op as the JS tx builder produces it.
type oldOpJSON struct {
	Action    string                     `json:"action"`
	Namespace string                     `json:"namespace"`
	ID        string                     `json:"id"`
	Args      map[string]json.RawMessage `json:"args"`
	Mode      string                     `json:"mode"`
}

// oldDecodeOps decodes the JSON array of ops the JS API's tx builder makes
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
func oldDecodeOps(data []byte) ([]store.TxOp, error) {
	var raw []json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, badOp("want an array of ops: " + err.Error())
	}
	ops := make([]store.TxOp, 0, len(raw))
	for i, r := range raw {
		op, err := oldDecodeOp(r)
		if err != nil {
			return nil, errs.Wrap("op "+strconv.Itoa(i), err)
		}
		ops = append(ops, op)
	}
	return ops, nil
}

func oldDecodeOp(r json.RawMessage) (store.TxOp, error) {
	var j oldOpJSON
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
		id, l, err := oldParseTarget(j.ID)
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
		x, err := oldDecodeValue(v)
		if err != nil {
			return op, badOp(k + ": " + err.Error())
		}
		if link {
			if x, err = oldLinkTargets(x); err != nil {
				return op, errs.Wrap(k, err)
			}
		}
		op.Args[k] = x
	}
	return op, nil
}

func oldDecodeValue(v json.RawMessage) (any, error) {
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

// oldLinkTargets converts a link argument: lookup strings become
// [store.Lookup]s, ids stay strings (Transform parses them).
func oldLinkTargets(x any) (any, error) {
	switch v := x.(type) {
	case string:
		return oldTarget(v)
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			s, ok := e.(string)
			if !ok {
				return nil, badOp("link target " + formatAny(e) + ": want an id or a lookup")
			}
			t, err := oldTarget(s)
			if err != nil {
				return nil, err
			}
			out[i] = t
		}
		return out, nil
	}
	return nil, badOp("link target " + formatAny(x) + ": want an id, a lookup or an array of them")
}

func oldTarget(s string) (any, error) {
	if !strings.HasPrefix(s, LookupPrefix) {
		return s, nil
	}
	_, l, err := oldParseTarget(s)
	if err != nil {
		return nil, err
	}
	return *l, nil
}

// oldParseTarget parses an entity reference: a UUID or a lookup string.
func oldParseTarget(s string) (store.EntityID, *store.Lookup, error) {
	if rest, ok := strings.CutPrefix(s, LookupPrefix); ok {
		label, val, ok := strings.Cut(rest, "__")
		if !ok || label == "" {
			return store.EntityID{}, nil, badOp("lookup " + strconv.Quote(s) + ": want lookup__<label>__<JSON value>")
		}
		v, err := oldDecodeValue(json.RawMessage(val))
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

// oracleNumbers turns the old decoding's json.Numbers into jsonlite.Nums,
// as the new decoding hands them to store.
func oracleNumbers(x any) any {
	switch v := x.(type) {
	case json.Number:
		return jsonlite.Num(v)
	case []any:
		for i, e := range v {
			v[i] = oracleNumbers(e)
		}
	case map[string]any:
		for k, e := range v {
			v[k] = oracleNumbers(e)
		}
	case store.Lookup:
		v.Value = oracleNumbers(v.Value)
		return v
	}
	return x
}

func checkOps(t *testing.T, data []byte) {
	want, wantErr := oldDecodeOps(data)
	got, err := DecodeOps(data)
	if wantErr != nil {
		require.Error(t, err, "%q", data)
		require.Equal(t, wantErr.Error(), err.Error(), "%q", data)
		require.ErrorIs(t, err, ErrBadOp)
		return
	}
	require.NoError(t, err, "%q", data)
	for i := range want {
		if want[i].Lookup != nil {
			l := oracleNumbers(*want[i].Lookup).(store.Lookup)
			want[i].Lookup = &l
		}
		for k, v := range want[i].Args {
			want[i].Args[k] = oracleNumbers(v)
		}
	}
	require.Equal(t, want, got, "%q", data)
}

const oTodo = "0195f3a4-0000-4000-8000-000000000001"

var opsSeeds = []string{
	``, ` `, `null`, `{}`, `"x"`, `[]`, `[null]`, `[1]`, `[{}]`, `[{"action":""}]`, `[{"action":"update"}] x`, `[{"action":"update"},]`,
	`[{"action":"update","namespace":"todos","id":"` + oTodo + `","args":{"title":"Milk","done":false,"n":1.50,"big":1e400,"o":{"a":[1,-0,2e3]}}}]`,
	`[{"ACTION":"link","NameSpace":"todos","ID":"` + oTodo + `","args":{"tags":["` + oTodo + `","lookup__name__\"red\""],"owner":"lookup__n__1.0"}}]`,
	`[{"action":"link","namespace":"todos","id":"` + oTodo + `","args":{"tags":[1.0]}}]`, `[{"action":"link","args":{"x":{"a":1e2}}}]`,
	`[{"action":"link","args":{"x":true}}]`, `[{"action":"link","args":{"x":null}}]`, `[{"action":"link","args":{"x":[null,{"b":[1,"c"]}]}}]`,
	`[{"action":"delete","namespace":"users","id":"lookup__code__42"}]`, `[{"action":"delete","id":"lookup__code__"}]`, `[{"action":"delete","id":"lookup__code__  "}]`,
	`[{"action":"delete","id":"lookup__code__\"ab"}]`, `[{"action":"delete","id":"lookup__code__-"}]`, `[{"action":"delete","id":"lookup__code__tru"}]`,
	`[{"action":"delete","id":"lookup__code__1 2"}]`, `[{"action":"delete","id":"lookup__code__1x"}]`, `[{"action":"delete","id":"lookup__code__1."}]`,
	`[{"action":"delete","id":"lookup__code__[1,"}]`, `[{"action":"delete","id":"lookup__code__[1,]"}]`, `[{"action":"delete","id":"lookup__code__{\"a\" 1}"}]`,
	`[{"action":"delete","id":"lookup____1"}]`, `[{"action":"delete","id":"lookup__x"}]`, `[{"action":"delete","id":"nope"}]`,
	`[{"action":"merge","namespace":"todos","id":"` + oTodo + `","args":{"meta":{"a":null}},"mode":"update"}]`, `[{"action":"update","mode":"x"}]`,
	`[{"action":"update","args":{"a":1},"args":{"b":2}}]`, `[{"action":"update","args":{"a":1},"args":null,"args":{"b":2}}]`, `[{"action":"update","args":[]}]`,
	`[{"action":"update","action":null,"mode":1}]`, `[{"action":1}]`, `[{"action":"update","id":null,"x":[}]`,
}

// FuzzDecodeOpsOracle holds DecodeOps to the encoding/json original: the
// same ops, the same errors.
func FuzzDecodeOpsOracle(f *testing.F) {
	for _, s := range opsSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) { checkOps(t, data) })
}

func TestDecodeOpsOracle(t *testing.T) {
	for _, s := range opsSeeds {
		checkOps(t, []byte(s))
	}
	r := rand.New(rand.NewPCG(9, 9))
	parts := []string{`1`, `-0.5e3`, `"s"`, `"lookup__n__\"x\""`, `"lookup__n__2"`, `"` + oTodo + `"`, `null`, `true`, `[`, `]`, `{`, `}`, `,`, `"k":`, ` `}
	for range 3000 {
		var b strings.Builder
		b.WriteString(`[{"action":"` + []string{"update", "link", "delete"}[r.IntN(3)] + `","id":"` + oTodo + `","args":{"a":`)
		for range r.IntN(8) {
			b.WriteString(parts[r.IntN(len(parts))])
		}
		b.WriteString(`}}]`)
		checkOps(t, []byte(b.String()))
	}
}

var _ = errs.Wrap

// numsToText turns json.Number and jsonlite.Num alike into strings, to
// compare the two decodings' values.
func numsToText(x any) any {
	switch v := x.(type) {
	case json.Number:
		return "#" + string(v)
	case interface{ Float64() (float64, error) }:
		return "#" + v.(interface{ String() string }).String()
	case []any:
		for i, e := range v {
			v[i] = numsToText(e)
		}
	case map[string]any:
		for k, e := range v {
			v[k] = numsToText(e)
		}
	}
	return x
}

// FuzzDecodeValue holds decodeValue to the json.Decoder it replaces.
func FuzzDecodeValue(f *testing.F) {
	for _, s := range []string{``, ` `, `1`, `-`, `1.`, `tru`, `"ab`, `[1,`, `[1,]`, `1 2`, `1x`, `{"a" 1}`, ` {"a":[1,{"b":null}]} `, "\t1\n", `nul `, `"\u00"`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, v []byte) {
		want, wantErr := oldDecodeValue(v)
		got, err := decodeValue(v)
		if wantErr != nil {
			require.Error(t, err, "%q", v)
			require.Equal(t, wantErr.Error(), err.Error(), "%q", v)
			return
		}
		require.NoError(t, err, "%q", v)
		require.Equal(t, numsToText(want), numsToText(got), "%q", v)
	})
}
