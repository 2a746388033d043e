package store_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/triplesync/triplesync/store"
)

func TestAttrCheck(t *testing.T) {
	const uuid = "11111111-1111-4111-8111-111111111111"
	const upper = "11111111-1111-4111-8111-11111111111A"
	day := float64(time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC).UnixMilli())
	noon := float64(time.Date(2024, 3, 1, 12, 0, 0, 500e6, time.UTC).UnixMilli())
	tests := []struct {
		typ      store.ValueType
		label    string
		in, want string // want "" means ErrWrongType
	}{
		{store.TypeAny, "x", `null`, `null`},
		{store.TypeAny, "x", `{"a":1}`, `{"a":1}`},
		{store.TypeAny, "x", `"s"`, `"s"`},
		{store.TypeJSON, "x", `[1]`, `[1]`},
		{store.TypeJSON, "x", `3`, `3`},
		{store.TypeString, "x", `"s"`, `"s"`},
		{store.TypeString, "x", `null`, `null`},
		{store.TypeString, "x", `1`, ``},
		{store.TypeString, "x", `{}`, ``},
		{store.TypeNumber, "x", `1.5`, `1.5`},
		{store.TypeNumber, "x", `null`, `null`},
		{store.TypeNumber, "x", `"1"`, ``},
		{store.TypeBoolean, "x", `false`, `false`},
		{store.TypeBoolean, "x", `null`, `null`},
		{store.TypeBoolean, "x", `0`, ``},
		{store.TypeDate, "x", `1700000000000`, `1700000000000`},
		{store.TypeDate, "x", `null`, `null`},
		{store.TypeDate, "x", `"2024-03-01"`, jsonNum(day)},
		{store.TypeDate, "x", `"2024-03-01T12:00:00.5Z"`, jsonNum(noon)},
		{store.TypeDate, "x", `"2024-03-01T13:00:00.5+01:00"`, jsonNum(noon)},
		{store.TypeDate, "x", `"yesterday"`, ``},
		{store.TypeDate, "x", `true`, ``},
		{store.TypeRef, "x", `"` + uuid + `"`, `"` + uuid + `"`},
		{store.TypeRef, "x", `"` + upper + `"`, `"11111111-1111-4111-8111-11111111111a"`},
		{store.TypeRef, "x", `"nope"`, ``},
		{store.TypeRef, "x", `null`, ``},
		{store.TypeAny, "id", `"` + upper + `"`, `"11111111-1111-4111-8111-11111111111a"`},
		{store.TypeString, "id", `"` + uuid + `"`, `"` + uuid + `"`},
		{store.TypeAny, "id", `7`, ``},
	}
	for _, tt := range tests {
		t.Run(tt.typ.String()+" "+tt.label+" "+tt.in, func(t *testing.T) {
			a := &store.Attr{Namespace: "ns", Label: tt.label, Type: tt.typ}
			got, err := a.Check(mustValue(t, tt.in))
			if tt.want == "" {
				assert.ErrorIs(t, err, store.ErrWrongType, "Check(%s) on %s", tt.in, tt.typ)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, mustValue(t, tt.want), got, "Check(%s) on %s", tt.in, tt.typ)
		})
	}
}

func jsonNum(f float64) string { return store.Number(f).String() }

func TestAttrValidate(t *testing.T) {
	id := store.MustParseEntityID("a0000000-0000-4000-8000-000000000001")
	ok := store.Attr{ID: id, Namespace: "todos", Label: "title", Type: store.TypeString}
	link := store.Attr{ID: id, Namespace: "todos", Label: "owner", Type: store.TypeRef, RefNamespace: "users", ReverseLabel: "todos"}
	tests := []struct {
		name string
		edit func(a *store.Attr)
		base store.Attr
		ok   bool
	}{
		{"plain", func(*store.Attr) {}, ok, true},
		{"link", func(*store.Attr) {}, link, true},
		{"cascade link", func(a *store.Attr) { a.OnDeleteCascade = true }, link, true},
		{"hyphen and digits", func(a *store.Attr) { a.Label = "a-1_b" }, ok, true},
		{"$ namespace", func(a *store.Attr) { a.Namespace = "$users" }, ok, false},
		{"missing id", func(a *store.Attr) { a.ID = store.EntityID{} }, ok, false},
		{"empty label", func(a *store.Attr) { a.Label = "" }, ok, false},
		{"dotted label", func(a *store.Attr) { a.Label = "a.b" }, ok, false},
		{"leading digit", func(a *store.Attr) { a.Label = "1a" }, ok, false},
		{"bad type", func(a *store.Attr) { a.Type = 42 }, ok, false},
		{"bad cardinality", func(a *store.Attr) { a.Cardinality = 9 }, ok, false},
		{"link without target", func(a *store.Attr) { a.RefNamespace = "" }, link, false},
		{"link without reverse", func(a *store.Attr) { a.ReverseLabel = "" }, link, false},
		{"link reading back as id", func(a *store.Attr) { a.ReverseLabel = "id" }, link, false},
		{"settings on a non-link", func(a *store.Attr) { a.OnDeleteCascade = true }, ok, false},
		{"id of type number", func(a *store.Attr) { a.Label, a.Type = "id", store.TypeNumber }, ok, false},
		{"id of cardinality many", func(a *store.Attr) { a.Label, a.Cardinality = "id", store.CardinalityMany }, ok, false},
		{"id of type string", func(a *store.Attr) { a.Label = "id" }, ok, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := tt.base
			tt.edit(&a)
			err := a.Validate()
			if tt.ok {
				assert.NoError(t, err)
			} else {
				assert.ErrorIs(t, err, store.ErrInvalidAttr, "Validate(%+v)", a)
			}
		})
	}
}

func TestAttrFlags(t *testing.T) {
	tests := []struct {
		attr store.Attr
		want string
	}{
		{store.Attr{Type: store.TypeString}, "ea"},
		{store.Attr{Type: store.TypeString, Cardinality: store.CardinalityMany}, "none"},
		{store.Attr{Type: store.TypeString, Indexed: true}, "ea|ave"},
		{store.Attr{Type: store.TypeString, Unique: true}, "ea|av|ave"},
		{store.Attr{Type: store.TypeRef}, "ea|eav|vae"},
		{store.Attr{Type: store.TypeRef, Cardinality: store.CardinalityMany, Unique: true}, "eav|av|ave|vae"},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, tt.attr.Flags().String(), "Flags(%+v)", tt.attr)
	}
}

func TestAttrJSON(t *testing.T) {
	a := store.Attr{ID: store.MustParseEntityID("a0000000-0000-4000-8000-000000000001"), Namespace: "todos", Label: "owner",
		Type: store.TypeRef, Cardinality: store.CardinalityMany, Unique: true, RefNamespace: "users", ReverseLabel: "todos", OnDeleteCascade: true}
	b, err := json.Marshal(a)
	require.NoError(t, err)
	assert.JSONEq(t, `{"id":"a0000000-0000-4000-8000-000000000001","namespace":"todos","label":"owner","value-type":"ref",
		"cardinality":"many","unique":true,"indexed":false,"ref-namespace":"users","reverse-label":"todos","on-delete-cascade":true}`, string(b))
	var back store.Attr
	require.NoError(t, json.Unmarshal(b, &back))
	assert.Equal(t, a, back)
	assert.ErrorIs(t, json.Unmarshal([]byte(`{"value-type":"blob"}`), &back), store.ErrInvalidAttr)
	assert.ErrorIs(t, json.Unmarshal([]byte(`{"cardinality":"few"}`), &back), store.ErrInvalidAttr)
	for _, ty := range []store.ValueType{store.TypeAny, store.TypeString, store.TypeNumber, store.TypeBoolean, store.TypeDate, store.TypeJSON, store.TypeRef} {
		got, err := store.ParseValueType(ty.String())
		require.NoError(t, err)
		assert.Equal(t, ty, got)
	}
}
