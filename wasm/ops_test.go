package wasm_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/triplesync/triplesync/internal/jsonlite"
	"github.com/triplesync/triplesync/store"
	"github.com/triplesync/triplesync/wasm"
)

const (
	todoID = "6f1c0b8e-4d6a-4a8e-9d7e-0c5b9a1e2f30"
	userID = "0d5e8a1b-2c3d-4e5f-8a9b-0c1d2e3f4a5b"
)

func TestDecodeOps(t *testing.T) {
	todo := store.MustParseEntityID(todoID)
	tests := []struct {
		name string
		in   string
		want []store.TxOp
	}{
		{
			name: "update",
			in:   `[{"action":"update","namespace":"todos","id":"` + todoID + `","args":{"title":"Milk","done":false,"n":12345678901234567890}}]`,
			want: []store.TxOp{{Action: "update", Namespace: "todos", ID: todo,
				Args: map[string]any{"title": "Milk", "done": false, "n": jsonlite.Num("12345678901234567890")}}},
		},
		{
			name: "update without upsert",
			in:   `[{"action":"update","namespace":"todos","id":"` + todoID + `","args":{"done":true},"mode":"update"}]`,
			want: []store.TxOp{{Action: "update", Namespace: "todos", ID: todo, Mode: store.ModeUpdate, Args: map[string]any{"done": true}}},
		},
		{
			name: "delete has no args",
			in:   `[{"action":"delete","namespace":"todos","id":"` + todoID + `"}]`,
			want: []store.TxOp{{Action: "delete", Namespace: "todos", ID: todo}},
		},
		{
			name: "link to an id, a lookup and a list",
			in: `[{"action":"link","namespace":"todos","id":"` + todoID + `","args":{"owner":"` + userID + `",` +
				`"tags":["` + userID + `","lookup__name__\"red\""],"boss":"lookup__email__\"b@x.io\""}}]`,
			want: []store.TxOp{{Action: "link", Namespace: "todos", ID: todo, Args: map[string]any{
				"owner": userID,
				"tags":  []any{userID, store.Lookup{Label: "name", Value: "red"}},
				"boss":  store.Lookup{Label: "email", Value: "b@x.io"},
			}}},
		},
		{
			name: "entity by lookup",
			in:   `[{"action":"update","namespace":"users","id":"lookup__email__\"ann@x.io\"","args":{"name":"Ann"}}]`,
			want: []store.TxOp{{Action: "update", Namespace: "users", Lookup: &store.Lookup{Label: "email", Value: "ann@x.io"}, Args: map[string]any{"name": "Ann"}}},
		},
		{
			name: "lookup by a number",
			in:   `[{"action":"delete","namespace":"users","id":"lookup__code__42"}]`,
			want: []store.TxOp{{Action: "delete", Namespace: "users", Lookup: &store.Lookup{Label: "code", Value: jsonlite.Num("42")}}},
		},
		{name: "empty", in: `[]`, want: []store.TxOp{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := wasm.DecodeOps([]byte(tt.in))
			require.NoError(t, err)
			assert.Equal(t, tt.want, got, "DecodeOps(%s)", tt.in)
		})
	}
}

func TestDecodeOpsErrors(t *testing.T) {
	tests := []struct {
		name string
		in   string
	}{
		{"not an array", `{"action":"update"}`},
		{"not an object", `[1]`},
		{"no action", `[{"namespace":"todos","id":"` + todoID + `"}]`},
		{"bad id", `[{"action":"update","namespace":"todos","id":"nope"}]`},
		{"bad mode", `[{"action":"update","namespace":"todos","id":"` + todoID + `","mode":"create"}]`},
		{"bad lookup", `[{"action":"update","namespace":"todos","id":"lookup__email"}]`},
		{"lookup with trailing data", `[{"action":"update","namespace":"todos","id":"lookup__email__\"a\"x"}]`},
		{"link to a number", `[{"action":"link","namespace":"todos","id":"` + todoID + `","args":{"owner":3}}]`},
		{"link list with a number", `[{"action":"link","namespace":"todos","id":"` + todoID + `","args":{"owner":[3]}}]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := wasm.DecodeOps([]byte(tt.in))
			assert.ErrorIs(t, err, wasm.ErrBadOp, "DecodeOps(%s)", tt.in)
		})
	}
}

// TestDecodeOpsTransform: decoded ops are what store.Transform takes.
func TestDecodeOpsTransform(t *testing.T) {
	ops, err := wasm.DecodeOps([]byte(`[{"action":"update","namespace":"todos","id":"` + todoID + `","args":{"title":"Milk"}},` +
		`{"action":"link","namespace":"todos","id":"` + todoID + `","args":{"owner":"` + userID + `"}}]`))
	require.NoError(t, err)
	attrs := store.MustNewAttrs(
		store.Attr{ID: store.EntityID{1}, Namespace: "todos", Label: "id", Type: store.TypeString, Unique: true, Indexed: true},
		store.Attr{ID: store.EntityID{2}, Namespace: "todos", Label: "title", Type: store.TypeString},
		store.Attr{ID: store.EntityID{3}, Namespace: "users", Label: "id", Type: store.TypeString, Unique: true, Indexed: true},
		store.Attr{ID: store.EntityID{4}, Namespace: "todos", Label: "owner", Type: store.TypeRef, RefNamespace: "users", ReverseLabel: "todos"},
	)
	steps, err := store.Transform(attrs, ops, nil, store.TransformOptions{})
	require.NoError(t, err)
	require.Len(t, steps, 3)
	assert.Equal(t, store.Ref(store.MustParseEntityID(userID)), steps[2].V)
}
