package main

import (
	"bufio"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// recorder matches deliveries to writes: start registers a write (its
// sequence number, the clients expected to receive it and the time it was
// sent), deliver records one client's receipt.
type recorder struct {
	mu      sync.Mutex
	pending map[int]*pendingWrite
	lats    []time.Duration // since the last take
	stray   int             // deliveries of unknown or finished writes
}

type pendingWrite struct {
	sent time.Time
	left int
	done chan struct{}
}

func newRecorder() *recorder { return &recorder{pending: map[int]*pendingWrite{}} }

// start registers write seq, expected by want clients; the returned
// channel closes when all of them have received it.
func (r *recorder) start(seq, want int, sent time.Time) <-chan struct{} {
	p := &pendingWrite{sent: sent, left: want, done: make(chan struct{})}
	r.mu.Lock()
	r.pending[seq] = p
	r.mu.Unlock()
	return p.done
}

func (r *recorder) deliver(seq int, at time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	p := r.pending[seq]
	if p == nil {
		r.stray++
		return
	}
	r.lats = append(r.lats, at.Sub(p.sent))
	p.left--
	if p.left == 0 {
		close(p.done)
		delete(r.pending, seq)
	}
}

// take returns the latencies recorded since the last take.
func (r *recorder) take() []time.Duration {
	r.mu.Lock()
	defer r.mu.Unlock()
	l := r.lats
	r.lats = nil
	return l
}

// outstanding returns the deliveries still expected, and forgets them.
func (r *recorder) outstanding() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for seq, p := range r.pending {
		n += p.left
		delete(r.pending, seq)
	}
	return n
}

// percentiles returns the p-th percentiles (0 < p ≤ 100) of ds, nearest
// rank; zeros for an empty ds. It sorts ds.
func percentiles(ds []time.Duration, ps ...float64) []time.Duration {
	out := make([]time.Duration, len(ps))
	if len(ds) == 0 {
		return out
	}
	slices.Sort(ds)
	for i, p := range ps {
		rank := int(p/100*float64(len(ds))+0.999999) - 1
		out[i] = ds[max(0, min(rank, len(ds)-1))]
	}
	return out
}

// ms formats d in milliseconds.
func ms(d time.Duration) string { return strconv.FormatFloat(float64(d)/1e6, 'f', 2, 64) }

// mib formats bytes in MiB.
func mib(b uint64) string { return strconv.FormatFloat(float64(b)/(1<<20), 'f', 1, 64) }

// rss returns the process's resident set size from /proc/self/status
// (VmRSS), or 0 where there is none.
func rss() uint64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, _ := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}
