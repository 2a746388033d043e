package pg_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/triplesync/triplesync/pg"
	"github.com/triplesync/triplesync/query"
	"github.com/triplesync/triplesync/store"
)

// TestRead_Snapshot: every stage of a Read sees the data as it was when
// the Read began, whatever commits meanwhile; the source dies with Read.
func TestRead_Snapshot(t *testing.T) {
	h := newHarness(t, fixtureAttrs)
	ctx := t.Context()
	u := ent(1, 1)
	_, err := h.transact(t, add(u, aName, "before"))
	require.NoError(t, err)
	scan := []query.Scan{{Index: query.EAV, E: []store.EntityID{u}, A: aName}}

	var kept query.Source
	err = h.db.Read(ctx, func(src query.Source) error {
		kept = src
		first, err := src.Scan(scan)
		require.NoError(t, err)
		_, err = h.transact(t, add(u, aName, "after"))
		require.NoError(t, err)
		second, err := src.Scan(scan)
		require.NoError(t, err)
		assert.Equal(t, first, second, "one snapshot for the whole Read")
		assert.Equal(t, val("before"), second[0][0].V)
		return nil
	})
	require.NoError(t, err)
	_, err = kept.Scan(scan)
	assert.ErrorIs(t, err, pg.ErrSourceClosed)

	err = h.db.Read(ctx, func(src query.Source) error {
		got, err := src.Scan(scan)
		require.NoError(t, err)
		assert.Equal(t, val("after"), got[0][0].V, "a new Read sees the commit")
		_, err = src.Scan([]query.Scan{{Index: query.VAE, A: aName, V: []store.Value{store.Ref(u)}}})
		assert.ErrorIs(t, err, query.ErrBadScan, "vae of an attribute that is not a link")
		return nil
	})
	require.NoError(t, err)
}

// TestLoadAttrs reads back the registry transacts wrote, links and all.
func TestLoadAttrs(t *testing.T) {
	h := newHarness(t, fixtureAttrs)
	attrs, err := h.db.LoadAttrs(t.Context())
	require.NoError(t, err)
	assert.Equal(t, fixtureAttrs.List(), attrs.List())

	empty, err := mustOpenDB(t).LoadAttrs(t.Context())
	require.NoError(t, err)
	assert.Zero(t, empty.Len())
}

// TestRead_NUL: Postgres holds no U+0000, so scans naming it in a value,
// a pattern or a cursor find what the in-memory source finds, without
// sending Postgres what it would refuse.
func TestRead_NUL(t *testing.T) {
	h := newHarness(t, fixtureAttrs)
	u, todo := ent(1, 1), ent(1, 2)
	_, err := h.transact(t, add(u, aName, "a"), add(u, aEmail, `x\u0000`), add(todo, aOwner, u))
	require.NoError(t, err)
	nul := store.String("a\x00")
	after := &store.TripleKey{E: todo, A: aOwner, V: nul}
	like, err := query.NewLike("a\x00%", false)
	require.NoError(t, err)
	scans := []query.Scan{
		{Index: query.EAV, E: []store.EntityID{u}, V: []store.Value{nul, store.String("a")}},
		{Index: query.AVE, A: aName, V: []store.Value{nul}},
		{Index: query.AVE, A: aName, Like: like},
		{Index: query.AVE, A: aName, Range: store.ValueRange{Lo: nul, HasLo: true}},
		{Index: query.VAE, A: aOwner, V: []store.Value{store.Ref(u)}, After: after, Limit: 1},
		{Index: query.AEV, A: aEmail, V: []store.Value{store.String(`x\u0000`)}},
	}
	want, err := query.SnapshotSource(h.model).Scan(scans)
	require.NoError(t, err)
	err = h.db.Read(t.Context(), func(src query.Source) error {
		got, err := src.Scan(scans)
		require.NoError(t, err)
		for i := range scans {
			assert.Equal(t, nonNil(want[i]), nonNil(got[i]), "scan %d", i)
		}
		return nil
	})
	require.NoError(t, err)
}
