package pg_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/triplesync/triplesync/pg"
	"github.com/triplesync/triplesync/query"
	"github.com/triplesync/triplesync/store"
)

// TestReadKindsGuess: a Read builds its first scans with the attribute
// kinds the previous Read found, in BEGIN's round trip. After a schema
// change the guess is wrong; the answer must still be this snapshot's.
func TestReadKindsGuess(t *testing.T) {
	e := func(b byte) store.EntityID { return store.EntityID{0xe, b} }
	vID, rID := store.EntityID{0xa, 1}, store.EntityID{0xa, 2}
	indexed := store.Attr{ID: vID, Namespace: "docs", Label: "v", Type: store.TypeNumber, Indexed: true}
	plain := indexed
	plain.Indexed = false
	ref := store.Attr{ID: rID, Namespace: "docs", Label: "r", Type: store.TypeRef, RefNamespace: "docs", ReverseLabel: "back"}
	triples := func(withRef bool) []store.Triple {
		var ts []store.Triple
		for i := byte(1); i <= 5; i++ {
			ts = append(ts, store.Triple{E: e(i), A: vID, V: store.Number(float64(i)), CreatedAt: 1})
			if withRef {
				ts = append(ts, store.Triple{E: e(i), A: rID, V: store.Ref(e(1)), CreatedAt: 1})
			}
		}
		return ts
	}
	db := mustOpenDB(t)
	load := func(attrs *store.Attrs, ts []store.Triple) *store.Snapshot {
		t.Helper()
		_, err := db.Pool().Exec(t.Context(), "truncate attrs, triples")
		require.NoError(t, err)
		require.NoError(t, pg.Import(t.Context(), db.Pool(), attrs, ts))
		snap, err := store.Load(attrs, ts)
		require.NoError(t, err)
		return snap
	}
	check := func(snap *store.Snapshot, scan query.Scan, trips int, msg string) {
		t.Helper()
		want, err := query.SnapshotSource(snap).Scan([]query.Scan{scan})
		require.NoError(t, err)
		require.NotEmpty(t, want[0], msg)
		var got [][]store.Triple
		n, err := db.ReadTrips(t.Context(), func(src query.Source) error {
			got, err = src.Scan([]query.Scan{scan})
			return err
		})
		require.NoError(t, err, msg)
		assert.Equal(t, want, got, msg)
		assert.Equal(t, trips, n, "%s: round trips", msg)
	}
	top := query.Scan{Index: query.AVE, A: vID, Limit: 2, Desc: true}

	snap := load(store.MustNewAttrs(indexed), triples(false))
	check(snap, top, 1, "first Read: no guess, BEGIN alone")
	check(snap, top, 1, "guess right: BEGIN with the scans")

	// v loses its index: the guess would read the ave index, which no
	// longer holds v's rows.
	snap = load(store.MustNewAttrs(plain), triples(false))
	check(snap, top, 2, "guess wrong: the scans are sent again")
	check(snap, top, 1, "guess right again")

	// r appears as a link: with the guess, a VAE scan of it is invalid.
	snap = load(store.MustNewAttrs(plain, ref), triples(true))
	check(snap, query.Scan{Index: query.VAE, A: rID, V: []store.Value{store.Ref(e(1))}}, 1, "a scan invalid under the guess")
}
