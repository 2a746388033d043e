package pg_test

import (
	"context"
	"os"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/triplesync/triplesync/pg"
	"github.com/triplesync/triplesync/query"
	"github.com/triplesync/triplesync/store"
)

// mustOpenDB returns a DB on a fresh, migrated database.
func mustOpenDB(tb testing.TB) *pg.DB {
	tb.Helper()
	return pg.NewDB(mustMigrate(tb), nil)
}

// mustImport returns a DB on a fresh database holding attrs and triples.
func mustImport(tb testing.TB, attrs *store.Attrs, triples []store.Triple) *pg.DB {
	tb.Helper()
	db := mustOpenDB(tb)
	require.NoError(tb, pg.Import(tb.Context(), db.Pool(), attrs, triples))
	return db
}

// baseSeed returns the seed of the randomised tests: -seed, else
// TRIPLESYNC_SEED, else a fixed default, so a run is reproducible. It is
// printed with how to rerun.
func baseSeed(tb testing.TB) uint64 {
	tb.Helper()
	s := *seed
	if env := os.Getenv("TRIPLESYNC_SEED"); s == 0 && env != "" {
		v, err := strconv.ParseUint(env, 10, 64)
		require.NoError(tb, err, "TRIPLESYNC_SEED")
		s = v
	}
	if s == 0 {
		s = 20240601
	}
	tb.Logf("seed %d (rerun with -seed=%d or TRIPLESYNC_SEED=%d)", s, s, s)
	return s
}

// readSource returns the source of a Read that stays open until tb ends,
// for suites that take a query.Source rather than a callback. The Read's
// callback waits in its own goroutine while tb's goroutine scans: one user
// at a time, as the source requires.
func readSource(tb testing.TB, db *pg.DB) query.Source {
	tb.Helper()
	srcs := make(chan query.Source)
	done := make(chan struct{})
	errs := make(chan error, 1)
	go func() {
		errs <- db.Read(context.Background(), func(src query.Source) error {
			srcs <- src
			<-done
			return nil
		})
	}()
	var src query.Source
	select {
	case src = <-srcs:
	case err := <-errs:
		require.NoError(tb, err, "Read")
	}
	tb.Cleanup(func() {
		close(done)
		assert.NoError(tb, <-errs, "Read")
	})
	return src
}
