// Package querytest is the test kit of package query, for query's own
// tests and for every other [query.Source] implementation (the Postgres
// one in package pg runs the same suite, which makes it the differential
// test of the two sources):
//
//   - [TestSource] is the Source contract suite;
//   - [SliceSource] is the reference Source, a filtered, sorted slice;
//   - [Naive] is the naive evaluator that oracle tests compare with;
//   - [Gen] makes random schemas, data, queries and scans from a seed;
//   - [Seed] picks the seed (TRIPLESYNC_SEED) and logs it.
package querytest

import (
	"os"
	"strconv"
	"testing"
)

// DefaultSeed is the seed [Seed] returns when TRIPLESYNC_SEED is unset, so
// that runs are reproducible.
const DefaultSeed = 20240601

// Seed returns the seed of a randomised test, TRIPLESYNC_SEED when set,
// else [DefaultSeed], and logs it so that a failure can be replayed.
func Seed(tb testing.TB) uint64 {
	tb.Helper()
	s := uint64(DefaultSeed)
	if env := os.Getenv("TRIPLESYNC_SEED"); env != "" {
		v, err := strconv.ParseUint(env, 10, 64)
		if err != nil {
			tb.Fatalf("TRIPLESYNC_SEED=%q: %v", env, err)
		}
		s = v
	}
	tb.Logf("seed %d (replay with TRIPLESYNC_SEED=%d)", s, s)
	return s
}
