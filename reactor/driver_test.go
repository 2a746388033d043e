package reactor_test

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/triplesync/triplesync/reactor"
	"github.com/triplesync/triplesync/store"
)

// gateStorage is a storage whose writes of new mutations, once armed,
// block until released: a slow disk (IndexedDB's strict durability).
type gateStorage struct {
	reactor.Storage
	mu      sync.Mutex
	armed   bool
	entered chan struct{} // closed when a gated write starts
	release chan struct{} // closed to let it finish
}

func newGateStorage() *gateStorage {
	return &gateStorage{Storage: reactor.NewMemStorage(), entered: make(chan struct{}), release: make(chan struct{})}
}

func (g *gateStorage) arm() {
	g.mu.Lock()
	g.armed = true
	g.mu.Unlock()
}

func (g *gateStorage) open() {
	g.mu.Lock()
	defer g.mu.Unlock()
	select {
	case <-g.release:
	default:
		close(g.release)
	}
}

func (g *gateStorage) Write(ctx context.Context, b *reactor.Batch) error {
	g.mu.Lock()
	gated := g.armed && slices.ContainsFunc(b.PutMutations, func(m reactor.Mutation) bool { return m.TxID == 0 })
	if gated {
		g.armed = false
	}
	g.mu.Unlock()
	if gated {
		close(g.entered)
		select {
		case <-g.release:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return g.Storage.Write(ctx, b)
}

// A subscriber sees an optimistic write while the mutation's storage
// write is still under way; the transact is sent, and Transact returns,
// only once it is stored (issue #7: the driver used to wait for the
// write before running callbacks).
func TestClientCallbackBeforeStorageWrite(t *testing.T) {
	n := newNames()
	srv := newSimServer(todoAttrs(n))
	st := newGateStorage()
	c := MustOpenClient(t, newSimNet(srv), st)
	t.Cleanup(st.open) // before the client closes, should the test stop early
	wait, _ := results(t, c, `{"todos":{}}`)
	wait(func(r reactor.QueryResult) bool { return r.Error == nil && !r.FromCache })
	waitOnline(t, c)

	st.arm()
	type txResult struct {
		tx  *reactor.Tx
		err error
	}
	txc := make(chan txResult, 1)
	go func() {
		tx, err := c.Transact([]store.TxOp{{Action: "create", Namespace: "todos", ID: n.id("t1"), Args: map[string]any{"title": "optimistic"}}})
		txc <- txResult{tx, err}
	}()
	select {
	case <-st.entered:
	case <-time.After(20 * time.Second):
		t.Fatal("the mutation was never written")
	}
	// The write is blocked: the callback comes anyway.
	r := wait(func(r reactor.QueryResult) bool { return slices.Equal(titles(r), []string{"optimistic"}) })
	assert.NoError(t, r.Error)
	srv.mu.Lock()
	sent := len(srv.order)
	srv.mu.Unlock()
	assert.Zero(t, sent, "the transact waits for the mutation to be stored")
	select {
	case <-txc:
		t.Fatal("Transact returned before its mutation was stored")
	default:
	}

	st.open()
	var res txResult
	select {
	case res = <-txc:
	case <-time.After(20 * time.Second):
		t.Fatal("Transact never returned")
	}
	require.NoError(t, res.err)
	_, err := res.tx.Wait(t.Context())
	require.NoError(t, err)
	srv.mu.Lock()
	defer srv.mu.Unlock()
	assert.Equal(t, []string{res.tx.MutationID()}, srv.order)
}
