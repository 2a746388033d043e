package pg_test

import (
	"testing"

	"github.com/triplesync/triplesync/query"
	"github.com/triplesync/triplesync/query/querytest"
	"github.com/triplesync/triplesync/store"
)

// TestSource runs query's Source contract suite on the Postgres source
// (T4): every index, filter, direction, cursor and limit, against the
// reference source, and random queries through the evaluator.
func TestSource(t *testing.T) {
	querytest.TestSource(t, baseSeed(t), func(tb testing.TB, attrs *store.Attrs, triples []store.Triple) query.Source {
		db := mustImport(tb, attrs, triples)
		return readSource(tb, db)
	})
}
