package reactor

import (
	"errors"
	"slices"
	"strconv"

	"github.com/triplesync/triplesync/internal/errs"
	"github.com/triplesync/triplesync/internal/wire"
	"github.com/triplesync/triplesync/store"
)

// mutation is a pending mutation: stored, replayed over every query's
// result until the server's results include it.
type mutation struct {
	Mutation
	sent      bool // transact sent on this connection
	attrSteps bool // it defines, changes or deletes attributes
	// awaitAttrs: confirmed, but the client's registry does not show its
	// attribute steps yet; kept until the next registry arrives (see
	// needed).
	awaitAttrs bool

	ns      nsSet        // the namespaces it writes (see relevant)
	nsAttrs *store.Attrs // the registry ns was computed with

	runs  []stepRun    // batches replayOnto built from lists starting here (see run)
	plans []*prunePlan // pruning plans for lists starting here (see planFor)
}

func newMutation(m Mutation) *mutation {
	pm := &mutation{Mutation: m}
	for _, s := range m.Steps {
		if isAttrStep(s.Op) {
			pm.attrSteps = true
		}
	}
	return pm
}

func isAttrStep(op store.StepOp) bool {
	return op == store.OpAddAttr || op == store.OpUpdateAttr || op == store.OpDeleteAttr
}

// Transact is the input of a write: ops become tx-steps against the
// client's attributes (the server's, with those pending mutations define;
// with [Config.CreateMissingAttrs] unknown labels define new ones), and
// go to [Core.TransactSteps]. It returns the mutation-id that
// [Ready.Settled] will name. Errors: [ErrNotLoaded], [ErrClosed], and
// store's errors for ops that do not fit the schema (a *store.OpError).
func (c *Core) Transact(ops []store.TxOp) (string, error) {
	if err := c.canWrite(); err != nil {
		return "", err
	}
	var idErr error
	newID := func() store.EntityID {
		id, err := store.NewEntityID(c.cfg.Rand)
		if err != nil {
			idErr = err
		}
		return id
	}
	steps, err := store.Transform(c.effAttrs(), ops, newID, store.TransformOptions{CreateMissingAttrs: c.cfg.CreateMissingAttrs})
	if err != nil {
		return "", err
	}
	if idErr != nil {
		return "", idErr
	}
	return c.TransactSteps(steps)
}

func (c *Core) canWrite() error {
	switch {
	case c.closed:
		return ErrClosed
	case !c.loaded:
		return ErrNotLoaded
	}
	return nil
}

// TransactSteps is the input of a write given as tx-steps. The mutation is
// stored (one record), replayed at once over every subscribed query's
// result — subscribers whose result changes are notified in the same
// Ready — and sent when the client is online, after every earlier
// unconfirmed mutation. The steps are not checked here beyond being
// present: a mutation that applies to no query's store is still sent,
// and the server decides. The core keeps steps; the caller must not
// modify them.
func (c *Core) TransactSteps(steps []store.Step) (string, error) {
	if err := c.canWrite(); err != nil {
		return "", err
	}
	if len(steps) == 0 {
		return "", ErrEmptyTransaction
	}
	id, err := store.NewEntityID(c.cfg.Rand)
	if err != nil {
		return "", err
	}
	// The frame is the steps plus a small envelope: op, ids.
	const envelope = 64 + 2*wire.MaxIDLength
	encoded, err := store.EncodeSteps(nil, steps)
	if err != nil {
		return "", err
	}
	if len(encoded)+envelope > c.cfg.MaxMessageBytes {
		return "", errs.With(ErrTooLarge.Error()+": "+strconv.Itoa(len(encoded))+" bytes of steps, limit "+strconv.Itoa(c.cfg.MaxMessageBytes), ErrTooLarge)
	}
	c.seq++
	m := newMutation(Mutation{ID: id.String(), Seq: c.seq, Steps: steps, Created: c.nowMs()})
	c.pending = append(c.pending, m)
	c.byID[m.ID] = m
	c.out.putMutation(m.Mutation)
	if m.attrSteps {
		c.eff = nil
	}
	if c.online {
		c.sendTransact(m)
	}
	for _, qs := range c.subscribed() {
		if c.relevant(m, qs) {
			c.recompute(qs)
		}
	}
	return m.ID, nil
}

func (c *Core) sendTransact(m *mutation) {
	m.sent = true
	c.send(&wire.Transact{MutationID: m.ID, Steps: m.Steps}, event{op: wire.OpTransact, id: m.ID})
}

func (c *Core) transactOK(msg *wire.TransactOK) {
	m := c.byID[msg.MutationID]
	if m == nil || m.TxID != 0 {
		return
	}
	m.TxID, m.Confirmed = msg.TxID, c.nowMs()
	m.awaitAttrs = m.attrSteps && !registryShows(c.attrs, m)
	if m.awaitAttrs {
		c.known = nil
		c.reloadBases(false)
	}
	c.out.putMutation(m.Mutation)
	c.out.settled = append(c.out.settled, Settled{MutationID: m.ID, TxID: m.TxID})
	// Queries whose result is already as of this tx-id stop replaying it.
	for _, qs := range c.subscribed() {
		if qs.processed >= m.TxID && c.relevant(m, qs) {
			c.recompute(qs)
		}
	}
	c.dropConfirmed()
	if m.attrSteps {
		c.attrsLearnt()
	}
}

// reject removes a mutation the server refused, recomputes every result
// without it and reports the error.
func (c *Core) reject(id string, err error) {
	m := c.byID[id]
	if m == nil {
		return
	}
	var affected []*querySub
	for _, qs := range c.subscribed() {
		if m.attrSteps || c.relevant(m, qs) {
			affected = append(affected, qs)
		}
	}
	c.remove(m)
	c.out.settled = append(c.out.settled, Settled{MutationID: id, Err: err})
	for _, qs := range affected {
		c.recompute(qs)
	}
}

func (c *Core) remove(m *mutation) {
	delete(c.byID, m.ID)
	c.pending = slices.DeleteFunc(c.pending, func(x *mutation) bool { return x == m })
	c.out.delMutation(m.ID)
	if m.attrSteps {
		c.eff = nil
	}
}

// registryShows reports whether attrs reflects m's attribute steps: the
// attributes it adds or updates are there (by id), those it deletes are
// not.
func registryShows(attrs *store.Attrs, m *mutation) bool {
	if attrs == nil {
		return false
	}
	for _, s := range m.Steps {
		switch s.Op {
		case store.OpAddAttr, store.OpUpdateAttr:
			if _, ok := attrs.ByID(s.Attr.ID); !ok {
				return false
			}
		case store.OpDeleteAttr:
			if _, ok := attrs.ByID(s.A); ok {
				return false
			}
		}
	}
	return true
}

// need is why a confirmed mutation is kept (see needed).
type need int

const (
	needNone   need = iota // nothing: drop it
	needShown              // the registry, or a subscribed query's result, lacks it
	needCached             // only the stored result of a query without subscribers lacks it
)

// needed says whether some result still lacks the confirmed mutation m,
// so that replaying m is what shows it:
//
//   - the client's registry, while m's attribute steps are not in it
//     (awaitAttrs): m is what defines the attributes queries name and
//     results were loaded with (issue #7);
//   - a subscribed query (one with a result to show, not refused) with a
//     result older than m;
//   - a cached query without subscribers, older than m, that m is
//     relevant to: a restarted page's queries are loaded before they are
//     subscribed, and a result shown from the cache later must not lack
//     a write confirmed meanwhile (issue #7).
func (c *Core) needed(m *mutation) need {
	if m.awaitAttrs {
		return needShown
	}
	cached := false
	for _, qs := range c.queries {
		if qs.processed >= m.TxID {
			continue
		}
		switch {
		case len(qs.subs) > 0:
			if qs.serverErr == nil {
				return needShown
			}
		case !cached && qs.hasCache() && c.relevant(m, qs):
			cached = true
		}
	}
	if cached {
		return needCached
	}
	return needNone
}

// hasCache reports whether the query holds a result to show from cache.
func (qs *querySub) hasCache() bool { return qs.base != nil || qs.cached != nil }

// maxHeldConfirmed bounds the confirmed mutations kept only for cached
// queries without subscribers. Past it, the oldest are dropped and the
// cached results that lack them are forgotten: a cache is only worth
// showing if it shows the user's own writes, and a query unused while
// that many writes went by is unlikely to be shown soon.
const maxHeldConfirmed = 256

// dropConfirmed drops the confirmed mutations no result needs any more
// (see needed): every result that can be shown, subscribed or cached, is
// as of their tx-id or later, so the write is in it and replaying it
// changes nothing. Dropping one thus never changes what a subscriber
// sees, now or on subscribing to a cached query.
func (c *Core) dropConfirmed() {
	var held []*mutation
	for _, m := range slices.Clone(c.pending) {
		if m.TxID == 0 {
			continue
		}
		switch c.needed(m) {
		case needNone:
			c.remove(m)
		case needCached:
			held = append(held, m)
		}
	}
	if len(held) <= maxHeldConfirmed {
		return
	}
	for _, m := range held[:len(held)-maxHeldConfirmed] {
		for _, qs := range c.queries {
			if len(qs.subs) == 0 && qs.processed < m.TxID && qs.hasCache() && c.relevant(m, qs) {
				c.evict(qs)
			}
		}
		c.remove(m)
	}
	c.dropConfirmed() // the evictions may free more
}

// effAttrs returns the attributes the client writes and parses queries
// with: the server's, changed by the attribute steps of the pending
// mutations in order (a step that does not apply is skipped, as replay
// skips it).
func (c *Core) effAttrs() *store.Attrs {
	if c.eff != nil {
		return c.eff
	}
	snap := store.NewSnapshot(c.attrs)
	for _, m := range c.pending {
		if !m.attrSteps {
			continue
		}
		var steps []store.Step
		for _, s := range m.Steps {
			if isAttrStep(s.Op) {
				steps = append(steps, s)
			}
		}
		if next, err := snap.Apply(steps, m.Created); err == nil {
			snap = next
		}
	}
	c.eff = snap.Attrs()
	return c.eff
}

// replay returns the query's store with the pending mutations it still
// needs applied in order: those not confirmed, or confirmed with a tx-id
// above the query's processed-tx-id (the server's result does not include
// them yet). A mutation that fails on this store (it may name entities the
// query does not hold) is skipped for it, as InstantDB does.
//
// Replays are cached per query: the snapshots reached after some prefixes
// of the mutations replayed last time (marks). When the store is the same,
// replay starts from the longest mark that is still a prefix of what is
// wanted now: a new mutation costs one Apply per query, and dropping the
// newest (a rejection) none.
//
// Mutations that cannot change the query's result are left out (see
// prune.go): groups writing only entities the store does not hold and
// that match none of the query's where clauses.
func (c *Core) replay(qs *querySub) *store.Snapshot {
	all := make([]*mutation, 0, len(c.pending))
	for _, m := range c.pending {
		if (m.TxID == 0 || m.TxID > qs.processed) && c.relevant(m, qs) {
			all = append(all, m)
		}
	}
	rc := &qs.replay
	if rc.base != qs.base {
		*rc = replayCache{base: qs.base}
	}
	q, _ := c.parsed(qs)
	want := c.pruned(qs, q, all)
	// The mutations themselves, not their Seq: tabs sharing a storage
	// number theirs each from its own counter, so Seqs repeat.
	common := 0
	for common < len(rc.muts) && common < len(want) && rc.muts[common] == want[common] {
		common++
	}
	snap, from := qs.base, 0
	keep := 0
	for i, mk := range rc.marks {
		if mk.n > common {
			break
		}
		snap, from, keep = mk.snap, mk.n, i+1
	}
	rc.marks = rc.marks[:keep]
	if from < len(want) {
		snap = replayOnto(snap, want[from:])
		rc.marks = append(rc.marks, replayMark{n: len(want), snap: snap})
		if len(rc.marks) > maxReplayMarks {
			rc.marks = slices.Delete(rc.marks, 0, len(rc.marks)-maxReplayMarks)
		}
	}
	rc.muts = want
	return snap
}

// maxReplayMarks bounds the snapshots a query's replay cache keeps; the
// newest are kept, since rejections mostly hit recent writes.
const maxReplayMarks = 16

// replayCache is a query's cached replays over base: marks[i].snap is
// base with the first marks[i].n mutations of muts replayed.
type replayCache struct {
	base  *store.Snapshot
	marks []replayMark
	muts  []*mutation // the mutations replayed last
	prune pruneState  // which are not replayed (see pruned)
}

type replayMark struct {
	n    int
	snap *store.Snapshot
}

// replayOnto applies muts over snap in order, skipping each one that
// fails, and returns the result. It gives what applying them one by one
// gives, but applies runs of them as one batch: one copy-on-write clone
// and one path copy per touched B-tree node for the whole run instead of
// one per mutation. A run never includes a mutation whose create-mode
// step names an entity written earlier in the run (a batch lets create
// write to entities it created; separate mutations do not), and a run
// that fails is split at the failing mutation, which is skipped: it fails
// alone too, being checked against the same state with stricter rules.
// The triples a run adds all get the CreatedAt of its last mutation;
// results do not show CreatedAt, and replayed triples are never stored.
func replayOnto(snap *store.Snapshot, muts []*mutation) *store.Snapshot {
	for len(muts) > 0 {
		n, steps := run(muts)
		if n == 1 {
			if next, err := snap.Apply(muts[0].Steps, muts[0].Created); err == nil {
				snap = next
			}
			muts = muts[1:]
			continue
		}
		next, err := snap.Apply(steps, muts[n-1].Created)
		if err == nil {
			snap, muts = next, muts[n:]
			continue
		}
		se, ok := errors.AsType[*store.StepError](err)
		if !ok {
			if next, err := snap.Apply(muts[0].Steps, muts[0].Created); err == nil {
				snap = next
			}
			muts = muts[1:]
			continue
		}
		k, at := 0, se.Index
		for at >= len(muts[k].Steps) {
			at -= len(muts[k].Steps)
			k++
		}
		snap = replayOnto(snap, muts[:k])
		muts = muts[k+1:]
	}
	return snap
}

// stepRun is a run replayOnto worked out for a list of mutations: how
// many of them, from the first, apply as one batch, and their steps laid
// end to end. Every query of a namespace replays the same pending
// mutations, so on a reconnect (each query a new store) the run and its
// batch — a few hundred steps of some 200 bytes each — are worked out
// once, not once per query. Runs are kept on the list's first mutation
// (see run) and keyed by the mutations themselves: a mutation's steps
// never change, so a run never goes stale. The steps are shared and only
// read (Apply does not write them).
type stepRun struct {
	muts  []*mutation // the list given
	n     int         // runLen(muts)
	steps []store.Step
}

// maxRuns bounds the runs a mutation keeps: one per set of queries
// replaying a different list from it (queries of other namespaces, or
// whose processed-tx-id differs), and those a failed run is split into.
const maxRuns = 8

// run returns runLen(muts) and, when above one, the steps of muts[:n]
// laid end to end, which the caller must not modify.
func run(muts []*mutation) (int, []store.Step) {
	first := muts[0]
	for i := len(first.runs) - 1; i >= 0; i-- {
		if r := &first.runs[i]; slices.Equal(r.muts, muts) {
			return r.n, r.steps
		}
	}
	n := runLen(muts)
	if n == 1 {
		return 1, nil // applied as it is: nothing worth keeping
	}
	size := 0
	for _, m := range muts[:n] {
		size += len(m.Steps)
	}
	steps := make([]store.Step, 0, size)
	for _, m := range muts[:n] {
		steps = append(steps, m.Steps...)
	}
	if len(first.runs) == maxRuns {
		first.runs = slices.Delete(first.runs, 0, 1)
	}
	first.runs = append(first.runs, stepRun{muts: slices.Clone(muts), n: n, steps: steps})
	return n, steps
}

// runLen returns how many of muts, from the first, can be applied as one
// batch with the effect of applying them one by one. Within a batch,
// create mode accepts an entity the batch itself created, where applied
// alone it would fail: so a batch ends before a create of an entity an
// earlier mutation of it wrote, or may have created through a lookup (in
// the entity or the value position, a lookup with no holder creates the
// entity LookupEntityID names).
func runLen(muts []*mutation) int {
	touched := map[store.EntityID]bool{}
	for j, m := range muts {
		if j > 0 {
			for _, s := range m.Steps {
				if s.Mode == store.ModeCreate && (s.Lookup != nil || touched[s.E]) {
					return j
				}
			}
		}
		for _, s := range m.Steps {
			if !s.E.IsZero() {
				touched[s.E] = true
			}
			for _, l := range [...]*store.LookupRef{s.Lookup, s.ValueLookup} {
				if l != nil {
					touched[store.LookupEntityID(l.A, l.V)] = true
				}
			}
		}
	}
	return len(muts)
}
