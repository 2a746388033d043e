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
// sequence number, the item it sets, the clients expected to receive it
// and the time it was sent), deliver records one client's receipt.
//
// A live query's refresh carries the query's current result, not every
// write in between: when writes to one item come faster than refreshes,
// the server coalesces them and the client receives only the newest value.
// For writes with a single receiver (one query per item), a delivered
// value therefore also delivers every older pending write to the same
// item — the client's state now includes them — each with its own
// latency, counted as coalesced.
type recorder struct {
	mu        sync.Mutex
	pending   map[int]*pendingWrite
	byItem    map[int][]int   // single-receiver pending writes per item, ascending
	lats      []time.Duration // since the last take
	stray     int             // deliveries of unknown or finished writes
	coalesced int             // writes delivered by a newer value
}

type pendingWrite struct {
	item int
	sent time.Time
	left int
	done chan struct{}
}

func newRecorder() *recorder {
	return &recorder{pending: map[int]*pendingWrite{}, byItem: map[int][]int{}}
}

// start registers write seq of item, expected by want clients; the
// returned channel closes when all of them have received it.
func (r *recorder) start(seq, item, want int, sent time.Time) <-chan struct{} {
	p := &pendingWrite{item: item, sent: sent, left: want, done: make(chan struct{})}
	r.mu.Lock()
	r.pending[seq] = p
	if want == 1 {
		r.byItem[item] = append(r.byItem[item], seq)
	}
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
	if seqs, ok := r.byItem[p.item]; ok && len(seqs) > 0 {
		i := 0
		for ; i < len(seqs) && seqs[i] <= seq; i++ {
			if seqs[i] != seq {
				r.coalesced++
			}
			r.finish(seqs[i], at)
		}
		r.byItem[p.item] = seqs[i:]
		return
	}
	r.finish(seq, at)
}

func (r *recorder) finish(seq int, at time.Time) {
	p := r.pending[seq]
	if p == nil {
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
	clear(r.byItem)
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
