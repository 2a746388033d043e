package faults_test

import (
	"context"
	"fmt"
	"maps"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/triplesync/triplesync/internal/pgtest"
	"github.com/triplesync/triplesync/store"
)

// TestManyQueries: many clients, each on its own query (items where k is
// its key), and writes to random items' n; every client must converge on
// its item's triples in Postgres, and nothing else. No fault is injected:
// this is triplesync-bench's sustained scenario at a small size, where
// deliveries trailed writes by seconds (slow, not lost: this converges).
func TestManyQueries(t *testing.T) {
	const n = 30
	db := pgtest.New(t)
	srv := mustOpen(t, db, "one", sessionConfig(t))
	var ops [][]any
	for i := range n {
		ops = append(ops, []any{"update", "items", item(i).String(), map[string]any{"k": fmt.Sprintf("k%d", i), "n": 0}})
	}
	require.NoError(t, adminTransact(t.Context(), srv, ops...))
	cs := make([]*client, n)
	for i := range cs {
		cs[i] = newClient(t, fmt.Sprintf("k%d", i), srv.SessionURL)
		cs[i].q = fmt.Sprintf(`{"items":{"$":{"where":{"k":"k%d"}}}}`, i)
		cs[i].Start()
	}
	waitSynced(t, cs...)
	rng := rand.New(rand.NewPCG(seed(t), 7))
	for range 40 {
		i := rng.IntN(n)
		require.NoError(t, adminTransact(t.Context(), srv, []any{"update", "items", item(i).String(), map[string]any{"n": rng.IntN(1000) + 1}}))
	}
	// Each client's truth: its item's triples.
	conn, err := pgx.Connect(t.Context(), db.DSN)
	require.NoError(t, err)
	defer conn.Close(context.Background())
	all := truth(t, db.DSN)
	start := time.Now()
	for i, c := range cs {
		want := map[store.TripleKey]bool{}
		for k := range all {
			if k.E == item(i) {
				want[k] = true
			}
		}
		for {
			got, _, _ := c.snapshot()
			if maps.Equal(got, want) {
				break
			}
			require.True(t, time.Since(start) < convergeTimeout, "client %d: %d triples, want %d: %v vs %v", i, len(got), len(want), got, want)
			time.Sleep(20 * time.Millisecond)
		}
	}
	t.Logf("converged %s after the last write", time.Since(start))
}
