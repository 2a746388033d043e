package session

import (
	"context"
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/triplesync/triplesync/internal/perm"
	"github.com/triplesync/triplesync/query"
	"github.com/triplesync/triplesync/store"
)

// runner runs query evaluations for every session, batched: a run waits
// in a queue, at most Config.MaxRuns read transactions are open at once,
// and each takes every queued run (up to maxBatch) into one transaction,
// whose evaluations proceed in step so that their scans travel to Postgres
// together (see wave). Under a stream of writes that each make a few
// queries stale, the queries a burst makes stale cost one BEGIN, one
// round trip per evaluation stage and one ROLLBACK between them, instead
// of each opening its own transaction and competing for the pool.
//
// Runner goroutines start when runs are queued and none is free, and end
// when the queue is empty; they count in Server.wg (a run is only ever
// queued from a session goroutine, which holds the count above zero).
type runner struct {
	srv *Server

	mu    sync.Mutex
	queue []*runJob
	busy  int // runner goroutines
}

// maxBatch bounds the evaluations of one read transaction: a batch's
// evaluations finish together, so a huge one would hold up its first
// query behind the last.
const maxBatch = 64

// runJob is one evaluation: a shared query's parsed query, with the
// registry and rules it runs under.
type runJob struct {
	sh    *shared
	q     *query.Query
	attrs *store.Attrs
	rules *perm.Rules

	res       *query.Result
	err       error
	done      chan struct{} // closed when res or err is set
	abandoned atomic.Bool   // the waiter left: skip the job if not begun
}

// do queues j and waits for it, or for ctx. After ctx ends the job may
// still run; its result is dropped.
func (r *runner) do(ctx context.Context, j *runJob) error {
	j.done = make(chan struct{})
	r.mu.Lock()
	r.queue = append(r.queue, j)
	if r.busy < r.srv.cfg.MaxRuns {
		r.busy++
		r.srv.wg.Add(1)
		go r.loop()
	}
	r.mu.Unlock()
	select {
	case <-j.done:
		return nil
	case <-ctx.Done():
		j.abandoned.Store(true)
		return ctx.Err()
	}
}

// loop runs batches until the queue is empty.
func (r *runner) loop() {
	defer r.srv.wg.Done()
	for {
		r.mu.Lock()
		n := min(len(r.queue), maxBatch)
		if n == 0 {
			r.busy--
			r.mu.Unlock()
			return
		}
		batch := slices.Clone(r.queue[:n])
		clear(r.queue[:n])
		r.queue = r.queue[n:]
		if len(r.queue) == 0 {
			r.queue = nil // let the drained backing array go
		}
		r.mu.Unlock()
		r.runBatch(batch)
	}
}

// runBatch evaluates jobs in one read transaction. When that fails for
// some of several jobs, those are tried again one transaction each, so
// that one query Postgres refuses does not fail the others with it.
func (r *runner) runBatch(jobs []*runJob) {
	live := jobs[:0]
	for _, j := range jobs {
		if j.abandoned.Load() {
			close(j.done)
			continue
		}
		live = append(live, j)
	}
	if len(live) == 0 {
		return
	}
	start := time.Now()
	if err := r.read(live); err == nil && len(live) > 1 {
		// The transaction ran, but a scan failed: Postgres may have refused
		// one of the queries, and the others failed with it. Each is tried
		// again alone, unless time ran out; the retries together take at
		// most one request timeout, so a failing database does not hold
		// the runner for a timeout per query.
		for _, j := range live {
			if j.err != nil && r.srv.ctx.Err() == nil && !errors.Is(j.err, context.DeadlineExceeded) &&
				time.Since(start) < r.srv.cfg.RequestTimeout {
				j.res, j.err = nil, nil
				_ = r.read([]*runJob{j})
			}
		}
	}
	for _, j := range live {
		close(j.done)
	}
}

// read evaluates jobs in one Backend.Read, setting each job's res or err.
// It returns the Read's own error (the transaction could not begin).
func (r *runner) read(jobs []*runJob) error {
	ctx, cancel := context.WithTimeout(r.srv.ctx, r.srv.cfg.RequestTimeout)
	defer cancel()
	err := r.srv.cfg.Backend.Read(ctx, func(src query.Source) error {
		if len(jobs) == 1 {
			jobs[0].eval(src)
			return nil
		}
		w := &wave{src: src, active: len(jobs)}
		var wg sync.WaitGroup
		for _, j := range jobs[1:] {
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer w.leave()
				j.eval(w)
			}()
		}
		jobs[0].eval(w)
		w.leave()
		wg.Wait()
		return nil
	})
	if err != nil {
		for _, j := range jobs {
			if j.err == nil {
				j.res, j.err = nil, err
			}
		}
	}
	r.srv.stats.reads.Add(1)
	return err
}

func (j *runJob) eval(src query.Source) {
	j.res, j.err = query.Eval(perm.ViewSource(src, j.attrs, j.rules, j.sh.auth), j.q)
}

// wave is a query.Source shared by several evaluations running at once,
// one goroutine each: a Scan waits until every evaluation still running
// is waiting in Scan too, and the last to arrive sends all their scans as
// one Scan of the underlying source (for package pg, one batch: one round
// trip), then hands each its part. Evaluations advance in step, stage by
// stage; one that finishes early leaves the wave.
//
// A Scan of the underlying source fails as a whole, so an error is every
// waiting evaluation's; runBatch tries failed jobs again alone.
type wave struct {
	src query.Source

	mu      sync.Mutex
	active  int // evaluations neither waiting in Scan nor finished
	waiting []*waveCall
}

type waveCall struct {
	scans []query.Scan
	out   [][]store.Triple
	err   error
	done  chan struct{}
}

var _ query.Source = (*wave)(nil)

// Scan implements query.Source.
func (w *wave) Scan(scans []query.Scan) ([][]store.Triple, error) {
	c := &waveCall{scans: scans, done: make(chan struct{})}
	w.mu.Lock()
	w.waiting = append(w.waiting, c)
	w.active--
	w.flushLocked()
	<-c.done
	return c.out, c.err
}

// leave takes a finished evaluation out of the wave.
func (w *wave) leave() {
	w.mu.Lock()
	w.active--
	w.flushLocked()
}

// flushLocked, called with w.mu held, releases it; when no evaluation is
// running and some wait, it first runs their scans together.
func (w *wave) flushLocked() {
	if w.active > 0 || len(w.waiting) == 0 {
		w.mu.Unlock()
		return
	}
	calls := w.waiting
	w.waiting = nil
	w.active = len(calls)
	w.mu.Unlock()

	var all []query.Scan
	for _, c := range calls {
		all = append(all, c.scans...)
	}
	out, err := w.src.Scan(all)
	for _, c := range calls {
		if err != nil {
			c.err = err
		} else {
			c.out, out = out[:len(c.scans):len(c.scans)], out[len(c.scans):]
		}
		close(c.done)
	}
}
