package session

import "sync"

// outq is a session's outbound queue: frames the worker queued for the
// writer. It replaces a buffered channel of Config.QueueFrames slots,
// which cost every session 24 KiB (a slice header a slot) before it had
// sent anything; the slice here grows with what is queued and is dropped
// once a large burst has drained.
type outq struct {
	mu     sync.Mutex
	frames [][]byte
	ready  chan struct{} // capacity 1: frames were queued since the writer last took them
}

// maxKeptOut bounds the capacity of a drained queue's slice that the
// queue keeps for reuse; a larger one (after a burst) is dropped.
const maxKeptOut = 16

func newOutq() outq { return outq{ready: make(chan struct{}, 1)} }

// push appends f unless the queue already holds limit frames, and
// reports whether it did.
func (q *outq) push(f []byte, limit int) bool {
	q.mu.Lock()
	if len(q.frames) >= limit {
		q.mu.Unlock()
		return false
	}
	q.frames = append(q.frames, f)
	q.mu.Unlock()
	select {
	case q.ready <- struct{}{}:
	default:
	}
	return true
}

// take returns every queued frame, oldest first, and empties the queue.
// Hand the slice back with recycle once written.
func (q *outq) take() [][]byte {
	q.mu.Lock()
	defer q.mu.Unlock()
	fs := q.frames
	q.frames = nil
	return fs
}

// recycle gives back a slice take returned, for reuse when it is small.
func (q *outq) recycle(fs [][]byte) {
	if cap(fs) > maxKeptOut {
		return
	}
	clear(fs)
	q.mu.Lock()
	if q.frames == nil {
		q.frames = fs[:0]
	}
	q.mu.Unlock()
}

// len returns the number of frames queued.
func (q *outq) len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.frames)
}
