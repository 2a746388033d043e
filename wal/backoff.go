package wal

import "time"

// backoff is a jittered exponential wait: each failure doubles the
// ceiling from min up to max, and the wait is drawn uniformly from the
// upper half of the ceiling, so readers of several servers that lost
// Postgres at the same moment do not reconnect in lockstep.
type backoff struct {
	min, max time.Duration
	ceil     time.Duration
	rand     func() float64 // in [0, 1); math/rand/v2.Float64 outside tests
}

// next returns how long to wait before the next attempt.
func (b *backoff) next() time.Duration {
	if b.ceil < b.min {
		b.ceil = b.min
	}
	d := b.ceil/2 + time.Duration(b.rand()*float64(b.ceil-b.ceil/2))
	b.ceil = min(b.ceil*2, b.max)
	return d
}

// reset starts over from min after a connection that worked.
func (b *backoff) reset() { b.ceil = 0 }
