package query_test

import (
	"encoding/json"
	"flag"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/triplesync/triplesync/query"
	"github.com/triplesync/triplesync/query/querytest"
	"github.com/triplesync/triplesync/store"
)

var (
	seedFlag   = flag.Uint64("seed", 0, "base seed of the oracle tests (also TRIPLESYNC_SEED); 0 picks the default")
	oracleRuns = flag.Int("oracle.runs", 400, "data sets the oracle tests generate")
)

// baseSeed returns the seed of the randomised tests: -seed, else
// TRIPLESYNC_SEED, else a fixed default, so a run is reproducible.
func baseSeed(tb testing.TB) uint64 {
	tb.Helper()
	if *seedFlag != 0 {
		tb.Logf("seed %d (rerun with -seed=%d)", *seedFlag, *seedFlag)
		return *seedFlag
	}
	return querytest.Seed(tb)
}

// TestOracle compares the indexed evaluator with the naive one on random
// schemas, data and queries (pagination and page info included), checks
// that the reference source gives the identical result, and that the
// result's triples alone reproduce it (T6).
func TestOracle(t *testing.T) {
	base := baseSeed(t)
	runs := *oracleRuns
	if testing.Short() {
		runs /= 8
	}
	queries := 0
	for i := range runs {
		seed := base + uint64(i)
		g := querytest.NewGen(seed)
		attrs := g.Schema()
		d := g.Data(attrs, 12)
		snap, err := store.Load(attrs, d.Triples)
		require.NoError(t, err, "seed %d", seed)
		all := snap.Triples()
		for range 6 {
			text := g.Query(d, 2)
			queries++
			if !checkQuery(t, seed, attrs, snap, all, text) {
				return
			}
		}
	}
	t.Logf("%d queries checked", queries)
}

// checkQuery runs one query every way and reports whether all agreed.
func checkQuery(t *testing.T, seed uint64, attrs *store.Attrs, snap *store.Snapshot, all []store.Triple, text []byte) bool {
	t.Helper()
	ctx := fmt.Sprintf("seed %d query %s", seed, text)
	q, err := query.Parse(text, attrs)
	if !assertNoError(t, err, ctx) {
		return false
	}
	res, err := query.Eval(query.SnapshotSource(snap), q)
	if !assertNoError(t, err, ctx) {
		return false
	}
	want := querytest.Naive(q, all)
	if !requireEqual(t, want, res.Tree(), ctx+"\nindexed evaluator disagrees with the naive one") {
		return false
	}
	var unmarshaled map[string]any // Tree once was json.Unmarshal of the JSON
	if !assertNoError(t, json.Unmarshal(res.AppendJSON(nil), &unmarshaled), ctx) ||
		!requireEqual(t, unmarshaled, res.Tree(), ctx+"\nTree differs from encoding/json's decoding") {
		return false
	}
	for _, tr := range res.Triples {
		if _, ok := snap.Get(tr.Key()); !ok {
			t.Errorf("%s\nresult triple %s is not in the store", ctx, tr)
			return false
		}
	}
	tree, err := query.EvalTree(query.SnapshotSource(snap), q)
	if !assertNoError(t, err, ctx) {
		return false
	}
	if !requireEqual(t, string(res.AppendJSON(nil)), string(tree.AppendJSON(nil)), ctx+"\nEvalTree gives another tree") ||
		!requireEqual(t, []store.Triple(nil), tree.Triples, ctx+"\nEvalTree computed triples") {
		return false
	}
	ref, err := query.Eval(&querytest.SliceSource{Attrs: attrs, Triples: all}, q)
	if !assertNoError(t, err, ctx) {
		return false
	}
	if !requireEqual(t, string(res.AppendJSON(nil)), string(ref.AppendJSON(nil)), ctx+"\nreference source tree differs") ||
		!requireEqual(t, res.Triples, ref.Triples, ctx+"\nreference source triples differ") {
		return false
	}
	restore := query.SetTinyPlans()
	tiny, err := query.Eval(query.SnapshotSource(snap), q)
	restore()
	if !assertNoError(t, err, ctx) {
		return false
	}
	if !requireEqual(t, string(res.AppendJSON(nil)), string(tiny.AppendJSON(nil)), ctx+"\ntiny plans give another tree") ||
		!requireEqual(t, res.Triples, tiny.Triples, ctx+"\ntiny plans give other triples") {
		return false
	}
	local, err := store.Load(attrs, res.Triples)
	if !assertNoError(t, err, ctx) {
		return false
	}
	again, err := query.Eval(query.SnapshotSource(local), q)
	if !assertNoError(t, err, ctx) {
		return false
	}
	return requireEqual(t, string(res.AppendJSON(nil)), string(again.AppendJSON(nil)), ctx+"\nthe result's triples do not reproduce its tree") &&
		requireEqual(t, res.Triples, again.Triples, ctx+"\nthe result's triples do not reproduce themselves")
}

func assertNoError(t *testing.T, err error, ctx string) bool {
	t.Helper()
	if err != nil {
		t.Errorf("%s: %v", ctx, err)
		return false
	}
	return true
}

func requireEqual(t *testing.T, want, got any, ctx string) bool {
	t.Helper()
	return assertEqual(t, want, got, ctx)
}
