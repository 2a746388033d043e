package session_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/triplesync/triplesync/internal/wire"
	"github.com/triplesync/triplesync/query"
	"github.com/triplesync/triplesync/store"
)

// TestBatchedRuns: queries made stale while the one allowed read
// transaction is busy run together in the next one, and each session
// still gets exactly its own query's result.
func TestBatchedRuns(t *testing.T) {
	const n = 20
	cfg := devConfig(t)
	cfg.MaxRuns = 1
	backend := newFakeBackend(t, todoAttrs...)
	ts := mustOpenServer(t, cfg, backend)
	clients := make([]*client, n)
	for i := range clients {
		clients[i], _ = dialInit(t, ts.url, "")
		clients[i].addQuery("q", fmt.Sprintf(`{"todos":{"$":{"where":{"title":"t%d"}}}}`, i))
	}

	// Hold the first read of the re-runs until every session has had time
	// to queue its own behind it.
	gate := make(chan struct{})
	var once sync.Once
	backend.mu.Lock()
	backend.ReadFn = func(ctx context.Context, fn func(src query.Source) error) error {
		once.Do(func() { <-gate })
		return fn(query.SnapshotSource(backend.snapshot()))
	}
	backend.mu.Unlock()
	reads, runs := backend.Reads(), ts.Stats().Runs

	var steps []store.Step
	for i := range n {
		steps = append(steps, todoSteps(i, fmt.Sprintf("t%d", i), alice)...)
	}
	backend.sqlWrite(t, steps...)
	time.Sleep(200 * time.Millisecond)
	close(gate)

	for i, c := range clients {
		r := expect[*wire.RefreshOK](c)
		require.Len(t, r.Computations, 1)
		got := keysOf(r.Computations[0].Added)
		assert.Len(t, got, 3, "client %d: id, title and owner of todo %d", i, i)
		for k := range got {
			assert.Equal(t, id(i), k.E, "client %d sees only its own todo", i)
		}
	}
	st := ts.Stats()
	assert.Equal(t, runs+n, st.Runs, "one run per query")
	assert.Less(t, backend.Reads()-reads, n/2, "the re-runs share read transactions")
}
