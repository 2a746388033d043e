package session

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/triplesync/triplesync/store"
)

func TestApplyAttrChanges(t *testing.T) {
	id := store.Attr{ID: tid(1), Namespace: "todos", Label: "id", Type: store.TypeString, Unique: true, Indexed: true}
	title := store.Attr{ID: tid(2), Namespace: "todos", Label: "title", Type: store.TypeString}
	renamed := title
	renamed.Label = "name"
	done := store.Attr{ID: tid(3), Namespace: "todos", Label: "done", Type: store.TypeBoolean}
	base := store.MustNewAttrs(id, title)

	next, err := applyAttrChanges(base, []store.AttrChange{
		{Op: store.OpInsert, New: done},
		{Op: store.OpUpdate, Old: title, New: renamed},
	})
	require.NoError(t, err)
	_, ok := next.ByName("todos", "name")
	assert.True(t, ok, "renamed")
	_, ok = next.ByName("todos", "title")
	assert.False(t, ok, "the old name is gone")
	_, ok = next.ByID(done.ID)
	assert.True(t, ok, "inserted")
	assert.Equal(t, 2, base.Len(), "the old registry is untouched")

	next, err = applyAttrChanges(next, []store.AttrChange{{Op: store.OpDelete, Old: done}})
	require.NoError(t, err)
	_, ok = next.ByID(done.ID)
	assert.False(t, ok, "deleted")

	// A redelivered insert of an attribute the registry has replaces it.
	next, err = applyAttrChanges(next, []store.AttrChange{{Op: store.OpInsert, New: id}})
	require.NoError(t, err)
	assert.Equal(t, 2, next.Len())

	// A change that leaves an invalid registry is an error (the server
	// then reloads the registry from the database).
	clash := store.Attr{ID: tid(4), Namespace: "todos", Label: "name", Type: store.TypeString}
	_, err = applyAttrChanges(next, []store.AttrChange{{Op: store.OpInsert, New: clash}})
	assert.Error(t, err, "two attributes todos.name")
}
