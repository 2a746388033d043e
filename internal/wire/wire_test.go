package wire_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/triplesync/triplesync/internal/wire"
	"github.com/triplesync/triplesync/store"
)

var (
	e1 = store.MustParseEntityID("11111111-1111-4111-8111-111111111111")
	a1 = store.MustParseEntityID("aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa")
)

func TestRoundTrip(t *testing.T) {
	obj, err := store.ParseValue([]byte(`{"b":[1,2],"a":null}`))
	require.NoError(t, err)
	tests := []struct {
		name string
		msg  wire.Message
	}{
		{"init", &wire.Init{ClientEventID: "1", Token: "jwt"}},
		{"init anonymous", &wire.Init{}},
		{"add-query", &wire.AddQuery{ClientEventID: "2", QueryID: "q1", Q: json.RawMessage(`{"todos":{}}`)}},
		{"remove-query", &wire.RemoveQuery{ClientEventID: "3", QueryID: "q1"}},
		{"transact", &wire.Transact{ClientEventID: "4", MutationID: "m1", Steps: []store.Step{
			{Op: store.OpAddTriple, E: e1, A: a1, V: store.String("x")},
			{Op: store.OpAddTriple, E: e1, A: a1, V: store.Number(2), Mode: store.ModeCreate},
			{Op: store.OpDeleteEntity, E: e1, Namespace: "todos"},
		}}},
		{"init-ok", &wire.InitOK{ClientEventID: "1", SessionID: "s", Attrs: []store.Attr{{ID: a1, Namespace: "todos", Label: "title", Type: store.TypeString}}}},
		{"add-query-ok", &wire.AddQueryOK{ClientEventID: "2", QueryID: "q1", Q: json.RawMessage(`{"todos":{}}`),
			Result: wire.Triples{{E: e1, A: a1, V: obj, CreatedAt: 17}}, ProcessedTxID: 9}},
		{"remove-query-ok", &wire.RemoveQueryOK{ClientEventID: "3", QueryID: "q1"}},
		{"transact-ok", &wire.TransactOK{ClientEventID: "4", MutationID: "m1", TxID: 10}},
		{"refresh-ok", &wire.RefreshOK{ProcessedTxID: 10, Computations: []wire.Computation{
			{QueryID: "q1", Added: wire.Triples{{E: e1, A: a1, V: store.Bool(true), CreatedAt: 1}},
				Removed: wire.Keys{{E: e1, A: a1, V: store.Null()}}},
			{QueryID: "q2", Full: true, Added: wire.Triples{}},
		}}},
		{"error", &wire.Error{ClientEventID: "5", Status: 400, Type: wire.CodeInvalid, Message: "bad", OriginalEvent: json.RawMessage(`{"op":"x"}`)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := wire.Encode(nil, tt.msg)
			require.NoError(t, err)
			assert.True(t, strings.HasPrefix(string(b), `{"op":"`+tt.msg.Op()+`"`), "op first: %s", b)
			got, err := wire.Parse(b)
			require.NoError(t, err, "Parse(%s)", b)
			b2, err := wire.Encode(nil, got)
			require.NoError(t, err)
			assert.Equal(t, string(b), string(b2))
			assert.Equal(t, tt.msg.Op(), got.Op())
			assert.Equal(t, tt.msg.EventID(), got.EventID())
		})
	}
}

func TestTriplesCompact(t *testing.T) {
	b, err := json.Marshal(wire.Triples{{E: e1, A: a1, V: store.String("hi"), CreatedAt: 5}})
	require.NoError(t, err)
	assert.Equal(t, `[["11111111-1111-4111-8111-111111111111","aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa","hi",5]]`, string(b))
	b, err = json.Marshal(wire.Keys{{E: e1, A: a1, V: store.Number(1.5)}})
	require.NoError(t, err)
	assert.Equal(t, `[["11111111-1111-4111-8111-111111111111","aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa",1.5]]`, string(b))
}

func TestParseErrors(t *testing.T) {
	long := strings.Repeat("x", wire.MaxIDLength+1)
	tests := []struct {
		name    string
		in      string
		want    error
		mention string
	}{
		{"not json", `{"op":`, wire.ErrMalformed, "unexpected end"},
		{"not an object", `[1,2]`, wire.ErrMalformed, ""},
		{"invalid utf8", "{\"op\":\"init\",\"token\":\"\xff\"}", wire.ErrMalformed, "UTF-8"},
		{"missing op", `{"q":{}}`, wire.ErrMalformed, `missing "op"`},
		{"op not a string", `{"op":5}`, wire.ErrMalformed, ""},
		{"unknown op", `{"op":"drop-table"}`, wire.ErrUnknownOp, "drop-table"},
		{"q not an object", `{"op":"add-query","q":[1]}`, wire.ErrMalformed, "q must be a JSON object"},
		{"q missing", `{"op":"add-query"}`, wire.ErrMalformed, "q must be a JSON object"},
		{"remove without id", `{"op":"remove-query"}`, wire.ErrMalformed, "query-id"},
		{"long event id", `{"op":"init","client-event-id":"` + long + `"}`, wire.ErrMalformed, "client-event-id"},
		{"token wrong type", `{"op":"init","token":7}`, wire.ErrMalformed, `"token"`},
		{"transact without mutation id", `{"op":"transact","tx-steps":[]}`, wire.ErrMalformed, "mutation-id"},
		{"transact without steps", `{"op":"transact","mutation-id":"m"}`, wire.ErrMalformed, "tx-steps"},
		{"transact bad step", `{"op":"transact","mutation-id":"m","tx-steps":[["add-triple","x"]]}`, store.ErrMalformedStep, "step 0"},
		{"transact unknown step op", `{"op":"transact","mutation-id":"m","tx-steps":[["delete-entity","11111111-1111-4111-8111-111111111111","t"],["nuke"]]}`, store.ErrMalformedStep, "step 1"},
		{"bad triple", `{"op":"add-query-ok","query-id":"q","q":{},"result":[["x","y",1,2]]}`, wire.ErrMalformed, "triple 0"},
		{"computation without id", `{"op":"refresh-ok","computations":[{"added":[]}]}`, wire.ErrMalformed, "query-id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := wire.Parse([]byte(tt.in))
			require.Error(t, err, "Parse(%q)=%v", tt.in, m)
			assert.True(t, errors.Is(err, tt.want), "Parse(%q) error %v, want %v", tt.in, err, tt.want)
			assert.Contains(t, err.Error(), tt.mention)
		})
	}
}

func TestStepErrorIndex(t *testing.T) {
	_, err := wire.Parse([]byte(`{"op":"transact","mutation-id":"m","tx-steps":[["retract-triple","11111111-1111-4111-8111-111111111111","aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa",1],["add-triple"]]}`))
	var se *store.StepError
	require.ErrorAs(t, err, &se)
	assert.Equal(t, 1, se.Index)
}

// FuzzParse (codec_internal_test.go) compares Parse with the encoding/json
// codec it replaced and checks that Encode round-trips what it accepts.
