package query_test

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/triplesync/triplesync/query"
	"github.com/triplesync/triplesync/query/querytest"
	"github.com/triplesync/triplesync/store"
)

// TestSnapshotSource runs the Source contract suite on the in-memory
// source (T4).
func TestSnapshotSource(t *testing.T) {
	querytest.TestSource(t, baseSeed(t), func(tb testing.TB, attrs *store.Attrs, triples []store.Triple) query.Source {
		snap, err := store.Load(attrs, triples)
		require.NoError(tb, err)
		return query.SnapshotSource(snap)
	})
}

// TestSliceSource runs the suite on the reference source itself, so that
// the suite's fixtures and generators stay valid.
func TestSliceSource(t *testing.T) {
	querytest.TestSource(t, baseSeed(t), func(tb testing.TB, attrs *store.Attrs, triples []store.Triple) query.Source {
		return &querytest.SliceSource{Attrs: attrs, Triples: triples}
	})
}

// TestSnapshotSourceEntityWalk checks entity scans against the reference
// source on a store large enough for the walk over EAV to both stream
// across neighbouring entities and seek past gaps: entity lists dense and
// sparse, with and without an attribute, After and Limit.
func TestSnapshotSourceEntityWalk(t *testing.T) {
	seed := baseSeed(t)
	r := rand.New(rand.NewPCG(seed, 7))
	var ts []store.Triple
	var ids []store.EntityID
	for i := range 1500 {
		e := store.EntityID{byte(i >> 8), byte(i), 0, 0, 0, 0, 0x40, 0, 0x80}
		ids = append(ids, e)
		ts = append(ts, store.Triple{E: e, A: attr("todos", "id").ID, V: store.Ref(e)})
		for range r.IntN(4) {
			ts = append(ts, store.Triple{E: e, A: attr("todos", "tags").ID, V: store.String(fmt.Sprint(r.IntN(9)))})
		}
		if r.IntN(3) > 0 {
			ts = append(ts, store.Triple{E: e, A: attr("todos", "rank").ID, V: store.Number(float64(r.IntN(50)))})
		}
	}
	snap, err := store.Load(testAttrs, ts)
	require.NoError(t, err)
	got, want := query.SnapshotSource(snap), &querytest.SliceSource{Attrs: testAttrs, Triples: snap.Triples()}
	attrs := []store.AttrID{{}, attr("todos", "tags").ID, attr("todos", "rank").ID, attr("todos", "id").ID}
	for i := range 300 {
		s := query.Scan{Index: query.EAV, A: attrs[r.IntN(len(attrs))]}
		density := []int{1, 2, 10, 40, 200}[r.IntN(5)]
		for _, e := range ids {
			if r.IntN(density) == 0 {
				s.E = append(s.E, e)
			}
		}
		if r.IntN(5) == 0 {
			s.E = append(s.E, store.EntityID{0xff, byte(i)}) // past every stored entity
		}
		if s.E == nil {
			s.E = []store.EntityID{}
		}
		if r.IntN(4) == 0 {
			s.Limit = 1 + r.IntN(100)
		}
		if r.IntN(4) == 0 {
			k := ts[r.IntN(len(ts))].Key()
			s.After = &k
		}
		a, err := got.Scan([]query.Scan{s})
		require.NoError(t, err)
		b, err := want.Scan([]query.Scan{s})
		require.NoError(t, err)
		require.Equal(t, len(b[0]), len(a[0]), "scan %d (seed %d): %+v", i, seed, s)
		if len(b[0]) > 0 { // nil and empty are both the empty answer
			require.Equal(t, b[0], a[0], "scan %d (seed %d)", i, seed)
		}
	}
}
