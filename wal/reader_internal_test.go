package wal

import (
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
