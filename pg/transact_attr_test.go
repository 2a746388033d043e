package pg_test

import (
	"errors"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/triplesync/triplesync/pg"
	"github.com/triplesync/triplesync/store"
)

// An add-attr identical to an attribute that exists (the same id and
// definition) is a no-op, so two clients that define the same attribute
// concurrently (issue #7) both succeed, with their triples; one with the
// same namespace and label but another definition or id is refused,
// naming the attribute. (Transact already behaved so: store.Apply's
// add-attr skips an identical definition, and attribute steps take the
// schema lock exclusively, so the second transact reads the first's row.
// Clients give new attributes random ids, so two clients defining the
// same label send different ids: that is the "another id" case.)
func TestTransact_AddAttrIdempotent(t *testing.T) {
	db := mustOpenDB(t)
	prio := store.Attr{ID: attrID(1), Namespace: "todos", Label: "priority", Type: store.TypeNumber}
	addPrio := store.Step{Op: store.OpAddAttr, A: prio.ID, Attr: prio}

	// Concurrently, clients each define todos.priority and write with it.
	const clients = 8
	var wg sync.WaitGroup
	errs := make([]error, clients)
	for i := range clients {
		wg.Go(func() {
			_, errs[i] = db.Transact(t.Context(), pg.TransactRequest{
				MutationID: ent(1, i+1).String(),
				Steps:      []store.Step{addPrio, add(ent(2, i+1), prio.ID, i)},
			})
		})
	}
	wg.Wait()
	for i, err := range errs {
		require.NoError(t, err, "client %d", i)
	}
	attrs, ts, err := pg.Dump(t.Context(), db.Pool())
	require.NoError(t, err)
	assert.Equal(t, []store.Attr{prio}, attrs.List(), "one attribute")
	assert.Len(t, ts, clients, "every client's triple")

	// Again, alone: still a no-op.
	_, err = db.Transact(t.Context(), pg.TransactRequest{Steps: []store.Step{addPrio}})
	require.NoError(t, err)

	tests := []struct {
		name string
		attr store.Attr
	}{
		{"another type", store.Attr{ID: prio.ID, Namespace: "todos", Label: "priority", Type: store.TypeString}},
		{"another cardinality", store.Attr{ID: prio.ID, Namespace: "todos", Label: "priority", Type: store.TypeNumber, Cardinality: store.CardinalityMany}},
		{"unique", store.Attr{ID: prio.ID, Namespace: "todos", Label: "priority", Type: store.TypeNumber, Unique: true, Indexed: true}},
		{"another id", store.Attr{ID: attrID(2), Namespace: "todos", Label: "priority", Type: store.TypeNumber}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := db.Transact(t.Context(), pg.TransactRequest{Steps: []store.Step{{Op: store.OpAddAttr, A: tt.attr.ID, Attr: tt.attr}}})
			require.Error(t, err)
			assert.True(t, errors.Is(err, store.ErrInvalidAttr), "%v", err)
			assert.Contains(t, err.Error(), "todos.priority")
			var se *store.StepError
			require.ErrorAs(t, err, &se)
			assert.Equal(t, store.OpAddAttr, se.Op)
		})
	}
	after, _, err := pg.Dump(t.Context(), db.Pool())
	require.NoError(t, err)
	assert.Equal(t, []store.Attr{prio}, after.List(), "unchanged")
}
