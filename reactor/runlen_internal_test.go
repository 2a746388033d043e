package reactor

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/triplesync/triplesync/store"
)

// TestRunLenValueLookup: a value lookup creates its target when nothing
// holds the value; a later mutation creating that entity by id must fail in
// replay as it does applied alone (replayOnto's batches once let it pass:
// runLen counted only the entities steps name).
func TestRunLenValueLookup(t *testing.T) {
	A := func(i int) store.AttrID { return store.AttrID(pruneAttr(i)) }
	attrs := pruneAttrs()
	T := store.EntityID{1, 2, 6: 0x40, 8: 0x80}
	lk := &store.LookupRef{A: A(6), V: store.String("ann")}
	U := store.LookupEntityID(lk.A, lk.V)
	m1 := newMutation(Mutation{ID: "1", Seq: 1, Created: 1, Steps: []store.Step{
		{Op: store.OpAddTriple, E: T, A: A(4), ValueLookup: lk},
	}})
	m2 := newMutation(Mutation{ID: "2", Seq: 2, Created: 2, Steps: []store.Step{
		{Op: store.OpAddTriple, E: U, A: A(9), V: store.String("created twice"), Mode: store.ModeCreate},
	}})
	base := store.NewSnapshot(attrs)
	s1, err := base.Apply(m1.Steps, 1)
	require.NoError(t, err)
	_, err = s1.Apply(m2.Steps, 2)
	require.ErrorIs(t, err, store.ErrExists, "m2 alone after m1")
	got := replayOnto(base, []*mutation{m1, m2})
	want := replayOneByOne(base, []*mutation{m1, m2})
	require.Equal(t, want.Triples(), got.Triples())
}
