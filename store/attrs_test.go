package store_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/triplesync/triplesync/store"
)

func TestAttrsLookups(t *testing.T) {
	attrs := testAttrs(t)
	assert.Equal(t, len(schema()), attrs.Len())

	a, ok := attrs.ByID(aUsersEmail)
	require.True(t, ok)
	assert.Equal(t, "email", a.Label)
	_, ok = attrs.ByID(attrID(0xfff))
	assert.False(t, ok)

	a, ok = attrs.ByName("todos", "owner")
	require.True(t, ok)
	assert.Equal(t, aTodosOwner, a.ID)
	_, ok = attrs.ByName("users", "todos")
	assert.False(t, ok, "a reverse label is not a forward name")

	a, ok = attrs.Reverse("users", "todos")
	require.True(t, ok)
	assert.Equal(t, aTodosOwner, a.ID)
	a, ok = attrs.Reverse("nodes", "prev")
	require.True(t, ok)
	assert.Equal(t, aNodesNext, a.ID)
	_, ok = attrs.Reverse("todos", "owner")
	assert.False(t, ok, "a forward label is not a reverse name")

	id, ok := attrs.IDAttr("todos")
	require.True(t, ok)
	assert.Equal(t, aTodosID, id.ID)

	var labels []string
	for _, a := range attrs.Namespace("todos") {
		labels = append(labels, a.Label)
	}
	assert.Equal(t, []string{"code", "data", "done", "id", "owner", "title", "watchers"}, labels)
	assert.Nil(t, attrs.Namespace("nope"))
	assert.Equal(t, []string{"nodes", "todos", "users"}, attrs.Namespaces())

	all := attrs.All()
	require.Len(t, all, attrs.Len())
	for i := 1; i < len(all); i++ {
		p, c := all[i-1], all[i]
		assert.True(t, p.Namespace < c.Namespace || p.Namespace == c.Namespace && p.Label < c.Label, "All sorted at %d", i)
	}
	list := attrs.List()
	require.Len(t, list, attrs.Len())
	list[0].Label = "changed"
	assert.NotEqual(t, "changed", attrs.All()[0].Label, "List returns copies")

	again, err := store.NewAttrs(list[1:]...)
	require.NoError(t, err)
	assert.Equal(t, attrs.Len()-1, again.Len())
}

func TestAttrsNil(t *testing.T) {
	var attrs *store.Attrs
	_, ok := attrs.ByID(aUsersID)
	assert.False(t, ok)
	_, ok = attrs.ByName("users", "id")
	assert.False(t, ok)
	_, ok = attrs.Reverse("users", "todos")
	assert.False(t, ok)
	assert.Zero(t, attrs.Len())
	assert.Nil(t, attrs.All())
	assert.Nil(t, attrs.Namespaces())
	assert.Nil(t, attrs.Namespace("users"))
	assert.Empty(t, attrs.List())
}

func TestNewAttrsValidation(t *testing.T) {
	link := func(id store.AttrID, ns, label, target, rev string) store.Attr {
		return store.Attr{ID: id, Namespace: ns, Label: label, Type: store.TypeRef, RefNamespace: target, ReverseLabel: rev}
	}
	tests := []struct {
		name    string
		list    []store.Attr
		mention string // "" means valid
	}{
		{"empty", nil, ""},
		{"fixture", schema(), ""},
		{"invalid attr", []store.Attr{{ID: attrID(1), Namespace: "a"}}, "label"},
		{"duplicate id", []store.Attr{{ID: attrID(1), Namespace: "a", Label: "x"}, {ID: attrID(1), Namespace: "a", Label: "y"}}, "duplicate id"},
		{"duplicate name", []store.Attr{{ID: attrID(1), Namespace: "a", Label: "x"}, {ID: attrID(2), Namespace: "a", Label: "x"}}, "duplicate attribute a.x"},
		{"same label in two namespaces", []store.Attr{{ID: attrID(1), Namespace: "a", Label: "x"}, {ID: attrID(2), Namespace: "b", Label: "x"}}, ""},
		{"duplicate reverse", []store.Attr{link(attrID(1), "a", "x", "b", "r"), link(attrID(2), "c", "y", "b", "r")}, "both read back as b.r"},
		{"reverse shadows forward", []store.Attr{link(attrID(1), "a", "x", "b", "r"), {ID: attrID(2), Namespace: "b", Label: "r"}}, "reads back as b.r"},
		{"self link", []store.Attr{link(attrID(1), "a", "parent", "a", "children")}, ""},
		{"self link reading back as itself", []store.Attr{link(attrID(1), "a", "friend", "a", "friend")}, "reads back as a.friend"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			attrs, err := store.NewAttrs(tt.list...)
			if tt.mention == "" {
				require.NoError(t, err)
				assert.Equal(t, len(tt.list), attrs.Len())
				return
			}
			assert.ErrorIs(t, err, store.ErrInvalidAttr)
			assert.ErrorContains(t, err, tt.mention)
		})
	}
	assert.Panics(t, func() { store.MustNewAttrs(store.Attr{}) })
}
