package query

import (
	"fmt"

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
	k func([][]store.Triple)
}

// scan asks for scans; k gets their answers (len(scans) of them) at the next
// stage. With no scans, k still runs at the next stage, after the
// continuations that asked before it.
func (r *runner) scan(scans []Scan, k func([][]store.Triple)) {
	r.scans = append(r.scans, scans...)
	r.conts = append(r.conts, cont{n: len(scans), k: k})
}

// then runs k at the next stage.
func (r *runner) then(k func()) {
	r.scan(nil, func([][]store.Triple) { k() })
}

// run runs stages until no continuation is left.
func (r *runner) run() error {
	for len(r.conts) > 0 {
		scans, conts := r.scans, r.conts
		r.scans, r.conts = nil, nil
		var res [][]store.Triple
		if len(scans) > 0 {
			var err error
			res, err = r.src.Scan(scans)
			r.stages++
			r.sent += len(scans)
			if err != nil {
				return fmt.Errorf("scan: %w", err)
			}
			if len(res) != len(scans) {
				return fmt.Errorf("scan: source answered %d of %d scans", len(res), len(scans))
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
