package session

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/triplesync/triplesync/store"
)

func TestParseAdminOp(t *testing.T) {
	e := tid(1)
	tests := []struct {
		name string
		in   string
		want store.TxOp
		err  string
	}{
		{"update", `["update","todos","` + e.String() + `",{"title":"x"}]`,
			store.TxOp{Action: "update", Namespace: "todos", ID: e, Args: map[string]any{"title": "x"}}, ""},
		{"delete", `["delete","todos","` + e.String() + `"]`, store.TxOp{Action: "delete", Namespace: "todos", ID: e}, ""},
		{"lookup", `["merge","users",["email","a@b"],{"x":1}]`,
			store.TxOp{Action: "merge", Namespace: "users", Lookup: &store.Lookup{Label: "email", Value: "a@b"}, Args: map[string]any{"x": 1.0}}, ""},
		{"create without id", `["create","todos",null,{"t":1}]`, store.TxOp{Action: "create", Namespace: "todos", Args: map[string]any{"t": 1.0}}, ""},
		{"not an array", `{"op":"update"}`, store.TxOp{}, "must be an array"},
		{"too short", `["update","todos"]`, store.TxOp{}, "3 or 4 elements"},
		{"action not a string", `[1,"todos","` + e.String() + `"]`, store.TxOp{}, "action"},
		{"empty namespace", `["update","","` + e.String() + `",{}]`, store.TxOp{}, "namespace"},
		{"bad id", `["update","todos","nope",{}]`, store.TxOp{}, "invalid id"},
		{"null id for update", `["update","todos",null,{}]`, store.TxOp{}, "needs an entity id"},
		{"bad lookup", `["update","todos",["email"],{}]`, store.TxOp{}, "lookup"},
		{"args not an object", `["update","todos","` + e.String() + `",[1]]`, store.TxOp{}, "args"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseAdminOp(json.RawMessage(tt.in))
			if tt.err != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func FuzzParseAdminOp(f *testing.F) {
	for _, s := range []string{
		`["update","todos","00000000-0000-4000-8000-000000000001",{"title":"x","n":1.5}]`,
		`["delete","todos","00000000-0000-4000-8000-000000000001"]`,
		`["link","todos","00000000-0000-4000-8000-000000000001",{"owner":"00000000-0000-4000-8000-000000000002"}]`,
		`["merge","users",["email","a@b"],{"prefs":{"a":null}}]`,
		`["create","todos",null,{}]`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		op, err := parseAdminOp(data)
		if err != nil {
			return
		}
		if op.Namespace == "" || op.Action == "" {
			t.Fatalf("parseAdminOp(%q) = %+v without namespace or action", data, op)
		}
		if op.Lookup == nil && op.ID.IsZero() && op.Action != "create" {
			t.Fatalf("parseAdminOp(%q) = %+v: no entity for %s", data, op, op.Action)
		}
	})
}
