package query

import (
	"errors"
	"strconv"

	"github.com/triplesync/triplesync/internal/errs"
	"github.com/triplesync/triplesync/store"
)

// runner batches the evaluator's scans into stages. Evaluation code is
// written in continuation-passing style: it asks for scans with a function
// to call with their answers, and the runner gathers every request made
// during a stage, sends them to the Source in one call, then calls each
// continuation in the order the requests were made. Continuations make the
// requests of the next stage. There are no goroutines: the order of
// requests, and so of everything else, is deterministic.
type runner struct {
	src    Source
	scans  []Scan
	conts  []cont
	stages int // Scan calls made
	sent   int // scans sent
}

type cont struct {
	n int
	k func([][]*store.Triple)
}

// scan asks for scans; k gets their answers (len(scans) of them) at the next
// stage. With no scans, k still runs at the next stage, after the
// continuations that asked before it.
func (r *runner) scan(scans []Scan, k func([][]*store.Triple)) {
	r.scans = append(r.scans, scans...)
	r.conts = append(r.conts, cont{n: len(scans), k: k})
}

// then runs k at the next stage.
func (r *runner) then(k func()) {
	r.scan(nil, func([][]*store.Triple) { k() })
}

// run runs stages until no continuation is left.
func (r *runner) run() error {
	for len(r.conts) > 0 {
		scans, conts := r.scans, r.conts
		r.scans, r.conts = nil, nil
		var res [][]*store.Triple
		if len(scans) > 0 {
			var err error
			res, err = scanPtrs(r.src, scans)
			r.stages++
			r.sent += len(scans)
			if err != nil {
				return errs.Wrap("scan", err)
			}
			if len(res) != len(scans) { // a ptrSource's mistake
				return errors.New("scan: source answered " + strconv.Itoa(len(res)) + " of " + strconv.Itoa(len(scans)) + " scans")
			}
		}
		off := 0
		for _, c := range conts {
			c.k(res[off : off+c.n])
			off += c.n
		}
	}
	return nil
}

// join calls k once after done has been called n times (at once if n is
// zero).
func join(n int, k func()) (done func()) {
	if n == 0 {
		k()
		return func() { assert(false, "join: done called too often") }
	}
	return func() {
		n--
		assert(n >= 0, "join: done called too often")
		if n == 0 {
			k()
		}
	}
}

// ptrSource is a [Source] that can answer with pointers to triples it
// keeps unchanged for as long as they are referenced: the in-memory
// store's own triples, which the evaluator then reads in place instead of
// copying each (72 bytes) into an answer.
type ptrSource interface {
	scanPtrs(scans []Scan) ([][]*store.Triple, error)
}

// scanPtrs asks src for scans and returns answers as pointers, which the
// evaluator must not write through. Any other Source's answers are its
// caller's to keep (see [Source]), so pointers into them do.
func scanPtrs(src Source, scans []Scan) ([][]*store.Triple, error) {
	if ps, ok := src.(ptrSource); ok {
		return ps.scanPtrs(scans)
	}
	res, err := src.Scan(scans)
	if err != nil {
		return nil, err
	}
	if len(res) != len(scans) {
		return nil, errors.New("source answered " + strconv.Itoa(len(res)) + " of " + strconv.Itoa(len(scans)) + " scans")
	}
	n := 0
	for _, ts := range res {
		n += len(ts)
	}
	slab := make([]*store.Triple, n) // one allocation for every answer
	out := make([][]*store.Triple, len(res))
	for i, ts := range res {
		if ts == nil {
			continue
		}
		ps := slab[:len(ts):len(ts)]
		slab = slab[len(ts):]
		for j := range ts {
			ps[j] = &ts[j]
		}
		out[i] = ps
	}
	return out, nil
}
