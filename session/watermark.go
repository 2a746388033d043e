package session

import (
	"context"
	"sync"

	"github.com/triplesync/triplesync/store"
)

// watermark is the processed tx-id: the highest tx-id whose WAL the server
// has handed to the invalidator. Transact assigns tx-ids in commit order, so
// every transaction with a lower id committed (and was handled) before it:
// a query that reads the watermark and then opens its snapshot sees every
// transaction up to it.
type watermark struct {
	mu sync.Mutex
	tx store.TxID
	ch chan struct{} // closed and replaced when tx advances
}

func newWatermark() *watermark { return &watermark{ch: make(chan struct{})} }

// load returns the watermark and a channel closed when it next advances.
func (w *watermark) load() (store.TxID, <-chan struct{}) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.tx, w.ch
}

// advance raises the watermark to tx; a lower tx changes nothing.
func (w *watermark) advance(tx store.TxID) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if tx <= w.tx {
		return
	}
	w.tx = tx
	close(w.ch)
	w.ch = make(chan struct{})
}

// wait blocks until the watermark reaches tx or ctx ends.
func (w *watermark) wait(ctx context.Context, tx store.TxID) error {
	for {
		cur, ch := w.load()
		if cur >= tx {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}
