package query_test

import (
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
