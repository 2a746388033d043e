package wal

import (
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/triplesync/triplesync/store"
)

func TestBackoff(t *testing.T) {
	tests := []struct {
		name string
		rand float64
		want []time.Duration
	}{
		{"low draw", 0, []time.Duration{50, 100, 200, 400, 500, 500}},
		{"high draw", 0.999999, []time.Duration{99, 199, 399, 799, 999, 999}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := backoff{min: 100 * time.Millisecond, max: time.Second, rand: func() float64 { return tt.rand }}
			for i, want := range tt.want {
				got := b.next()
				assert.Equal(t, want, got/time.Millisecond, "next() #%d = %v", i, got)
			}
			b.reset()
			assert.Equal(t, tt.want[0], b.next()/time.Millisecond, "after reset")
		})
	}
}

func lsn(v uint64) store.LSN { return store.LSN(v) }

func TestAckPosition(t *testing.T) {
	tests := []struct {
		name                 string
		handled, safe, safeQ uint64
		want                 uint64
	}{
		{"nothing handled", 0, 0, 0, 0},
		{"handled only", 100, 0, 0, 100},
		{"keepalive ahead, all queued handled", 100, 500, 100, 500},
		{"keepalive ahead, queued work pending", 100, 500, 200, 100},
		{"keepalive behind", 600, 500, 100, 600},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r Reader
			r.handled.Store(tt.handled)
			r.safe, r.safeQueued = lsn(tt.safe), lsn(tt.safeQ)
			assert.Equal(t, lsn(tt.want), r.ackPosition())
		})
	}
}

// After a Handle error, restartDelivery empties the queue, queues again
// from the handled position, keeps a reset the queue held (or the failed
// item was) for the next connection, and lets the delivery loop go on.
func TestRestartDelivery(t *testing.T) {
	tests := []struct {
		name      string
		failed    string // reason, if the failed item was a reset
		queued    []item
		wantReset string
	}{
		{"transactions queued", "", []item{{tx: Transaction{EndLSN: 300}}, {tx: Transaction{EndLSN: 400}}}, ""},
		{"reset queued", "", []item{{tx: Transaction{EndLSN: 300, Reset: true, ResetReason: "slot moved"}, synthetic: true}}, "slot moved"},
		{"reset failed", "slot made again", nil, "slot made again"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &Reader{queue: make(chan item, 4), resume: make(chan struct{}, 1), log: slog.New(slog.DiscardHandler)}
			r.handled.Store(200)
			r.queuedEnd = 400
			for _, it := range tt.queued {
				r.queue <- it
			}
			r.failure = &handleFailure{err: &HandleError{LSN: 250}, wait: time.Second, reset: tt.failed}
			wait, ok := r.restartDelivery()
			assert.True(t, ok)
			assert.Equal(t, time.Second, wait)
			assert.Empty(t, r.queue, "queue emptied")
			assert.Equal(t, lsn(200), r.queuedEnd, "queued from the handled position again")
			assert.Equal(t, tt.wantReset, r.pendingReset)
			assert.Len(t, r.resume, 1, "delivery resumed")
			assert.Nil(t, r.failure)
			_, ok = r.restartDelivery()
			assert.False(t, ok, "no failure left")
		})
	}
}
