package reactor

import (
	"errors"
	"slices"

	"github.com/triplesync/triplesync/internal/errs"
	"github.com/triplesync/triplesync/internal/wire"
	"github.com/triplesync/triplesync/query"
	"github.com/triplesync/triplesync/store"
)

// querySub is one query the core knows: subscribed (it has callbacks) or
// only cached (its last result is in storage).
//
// Each query has its own store, base: the triples of its last server
// result, as the server sent them. What subscribers see is base with the
// pending mutations replayed over it (see Core.replay).
type querySub struct {
	id    string
	text  []byte  // canonical JSON
	subs  []SubID // callbacks, in subscription order
	order uint64  // when it was last subscribed after having no subscriber

	// The server's result.
	cached    []store.Triple  // stored triples not yet loaded into base (attrs unknown, or not subscribed yet)
	base      *store.Snapshot // typed by the core's server attrs; nil: no result
	unknown   []store.Triple  // the result's triples of attributes the registry lacks (see loadTriples)
	fromCache bool            // base came from storage; the server has not answered since
	processed store.TxID      // the result's processed-tx-id
	serverErr error           // the server refused the query on this connection

	// The connection.
	sent     bool   // add-query sent on this connection
	answered bool   // add-query-ok received on this connection: deltas apply
	sentGen  uint64 // Core.attrsGen when add-query was last sent (see attrsLearnt)

	// The cache.
	lastUsed int64 // ms
	size     int   // triples, as last stored
	stored   bool  // a record is in storage
	dirty    bool  // the record in storage is out of date

	// The query parsed against the effective attrs.
	q        *query.Query
	qAttrs   *store.Attrs
	parseErr error
	ns       nsSet        // the namespaces q reads (see relevant)
	nsQuery  *query.Query // the query ns was computed for

	// Replays of the pending mutations over base (see Core.replay).
	replay  replayCache
	whereQ  *query.Query // q's top levels with only their where clauses (see whereRows)
	whereOf *query.Query // the q whereQ was made from

	// What the last result was evaluated over.
	evalSnap  *store.Snapshot
	evalQuery *query.Query
	track     evalTrack // what changed since (see Core.evaluate)

	// What subscribers were last told.
	delivered bool
	outErr    string
	outCache  bool
	result    *query.Result
	err       error
}

func (qs *querySub) hasData() bool { return qs.base != nil }

// subscribed returns the queries with subscribers in the order they were
// subscribed.
func (c *Core) subscribed() []*querySub {
	var out []*querySub
	for _, qs := range c.queries {
		if len(qs.subs) > 0 {
			out = append(out, qs)
		}
	}
	slices.SortFunc(out, func(a, b *querySub) int {
		switch {
		case a.order < b.order:
			return -1
		case a.order > b.order:
			return 1
		}
		return 0
	})
	return out
}

// Subscribe is the input of a new subscription to the query q (InstaQL
// JSON). Subscriptions to equal queries share one server subscription and
// one result. If the query has a result — cached from an earlier run, or
// already served to another subscriber — the new subscriber is notified
// at once; otherwise when the server answers. The error is for q that is
// not a JSON object; a query the schema refuses is reported through the
// notifications.
func (c *Core) Subscribe(q []byte) (SubID, error) {
	if c.closed {
		return 0, ErrClosed
	}
	id, text, err := QueryID(q)
	if err != nil {
		return 0, err
	}
	qs := c.queries[id]
	if qs == nil {
		qs = &querySub{id: id, text: text}
		c.queries[id] = qs
	}
	c.nextSub++
	sid := c.nextSub
	c.subs[sid] = qs
	qs.subs = append(qs.subs, sid)
	if len(qs.subs) == 1 {
		c.subSeq++
		qs.order = c.subSeq
		qs.lastUsed = c.nowMs()
		if c.online {
			c.sendAddQuery(qs)
		}
		c.recompute(qs)
		return sid, nil
	}
	if qs.delivered {
		c.out.notes = append(c.out.notes, Notification{Sub: sid, QueryID: qs.id, Result: qs.result, Err: qs.err, FromCache: qs.outCache})
	}
	return sid, nil
}

// Unsubscribe is the input that subscription sid ends. When it was the
// query's last, the server subscription is removed and the query's result
// stays cached.
func (c *Core) Unsubscribe(sid SubID) {
	qs := c.subs[sid]
	if qs == nil {
		return
	}
	delete(c.subs, sid)
	qs.subs = slices.DeleteFunc(qs.subs, func(x SubID) bool { return x == sid })
	if len(qs.subs) > 0 || c.closed {
		return
	}
	if c.online && qs.sent {
		c.send(&wire.RemoveQuery{QueryID: qs.id}, event{op: wire.OpRemoveQuery, id: qs.id})
	}
	qs.sent, qs.answered, qs.serverErr = false, false, nil
	qs.delivered, qs.outErr, qs.result, qs.err = false, "", nil, nil
	qs.evalSnap, qs.evalQuery = nil, nil
	qs.replay = replayCache{}
	qs.lastUsed = c.nowMs()
	switch {
	case qs.hasData() || qs.cached != nil:
		c.markDirty(qs)
	case qs.stored:
		c.evict(qs) // its record no longer loads
	default:
		delete(c.queries, qs.id)
	}
	c.dropConfirmed()
}

func (c *Core) sendAddQuery(qs *querySub) {
	qs.sent, qs.answered, qs.sentGen = true, false, c.attrsGen
	c.send(&wire.AddQuery{QueryID: qs.id, Q: qs.text}, event{op: wire.OpAddQuery, id: qs.id})
}

// loadTriples builds a store typed by the server's attrs (knownAttrs) from a result's
// triples. Triples of attributes the registry lacks are returned apart:
// a result can come before the refresh-ok that brings the registry
// defining them (add-query-ok carries no attrs), and the caller keeps
// them (querySub.unknown) to load once the registry has them, instead
// of losing the values until the next full result (issue #7).
func (c *Core) loadTriples(ts []store.Triple) (*store.Snapshot, []store.Triple, error) {
	attrs := c.knownAttrs()
	s, err := store.Load(attrs, ts)
	if err == nil || !errors.Is(err, store.ErrUnknownAttr) {
		return s, nil, err
	}
	known := make([]store.Triple, 0, len(ts))
	var unknown []store.Triple
	for _, t := range ts {
		if _, ok := attrs.ByID(t.A); ok {
			known = append(known, t)
		} else {
			unknown = append(unknown, t)
		}
	}
	s, err = store.Load(attrs, known)
	return s, unknown, err
}

// serverTriples returns the triples of the query's last server result:
// those in base and those kept aside for want of their attributes.
func (qs *querySub) serverTriples() []store.Triple {
	var ts []store.Triple
	if qs.base != nil {
		ts = qs.base.Triples()
	}
	return append(ts, qs.unknown...)
}

// ensureBase loads a cached result into the query's store once the
// registry is known.
func (c *Core) ensureBase(qs *querySub) {
	if qs.base != nil || qs.cached == nil || c.attrs == nil {
		return
	}
	base, unknown, err := c.loadTriples(qs.cached)
	qs.cached = nil
	if err != nil {
		return // a stale cache that no longer fits the schema: wait for the server
	}
	qs.base, qs.unknown, qs.fromCache = base, unknown, true
}

func (c *Core) addQueryOK(m *wire.AddQueryOK) {
	qs := c.queries[m.QueryID]
	if qs == nil || len(qs.subs) == 0 || c.attrs == nil {
		return
	}
	base, unknown, err := c.loadTriples(m.Result)
	if err != nil {
		qs.serverErr = errs.Wrap("reactor: query "+qs.id+": load result", err)
		c.recompute(qs)
		return
	}
	qs.base, qs.unknown, qs.cached, qs.fromCache = base, unknown, nil, false
	qs.processed = m.ProcessedTxID
	qs.answered, qs.serverErr = true, nil
	c.markDirty(qs)
	c.recompute(qs)
	c.dropConfirmed()
}

func (c *Core) refreshOK(m *wire.RefreshOK) {
	if m.Attrs != nil {
		c.setAttrs(m.Attrs)
	}
	changed := map[*querySub]bool{}
	for i := range m.Computations {
		comp := &m.Computations[i]
		qs := c.queries[comp.QueryID]
		if qs == nil || len(qs.subs) == 0 || !qs.answered {
			continue
		}
		if next, ok := patchBase(qs, comp); ok {
			c.noteDelta(qs, next, comp)
			qs.base, qs.fromCache = next, false
			changed[qs] = true
			continue
		}
		var ts []store.Triple
		if comp.Full {
			ts = comp.Added
		} else {
			ts = applyDelta(qs.serverTriples(), comp.Added, comp.Removed)
		}
		base, unknown, err := c.loadTriples(ts)
		if err != nil {
			// The delta does not fit what the client holds: ask for the
			// whole result again.
			c.sendAddQuery(qs)
			continue
		}
		c.noteDelta(qs, base, comp)
		qs.base, qs.unknown, qs.fromCache = base, unknown, false
		changed[qs] = true
	}
	// The server drains every stale query of the session before it sends
	// a refresh-ok (session/doc.go), so its processed-tx-id speaks for
	// every query answered on this connection, not only those whose
	// results changed: pending mutations up to it are in all of them.
	for _, qs := range c.subscribed() {
		if !qs.answered || qs.serverErr != nil {
			continue
		}
		old := qs.processed
		qs.processed = max(qs.processed, m.ProcessedTxID)
		if changed[qs] || qs.processed != old {
			c.markDirty(qs)
		}
		if !changed[qs] && qs.processed != old {
			for _, pm := range c.pending {
				if pm.TxID > old && pm.TxID <= qs.processed && c.relevant(pm, qs) {
					changed[qs] = true // it no longer replays pm
					break
				}
			}
		}
		if changed[qs] {
			c.recompute(qs)
		}
	}
	c.dropConfirmed()
}

// applyDelta returns ts without the removed keys, with added (replacing
// any triple with the same key). It may reuse ts.
func applyDelta(ts []store.Triple, added []store.Triple, removed []store.TripleKey) []store.Triple {
	drop := make(map[store.TripleKey]bool, len(added)+len(removed))
	for _, k := range removed {
		drop[k] = true
	}
	for _, t := range added {
		drop[t.Key()] = true
	}
	ts = slices.DeleteFunc(ts, func(t store.Triple) bool { return drop[t.Key()] })
	return append(ts, added...)
}

func (c *Core) refuseQuery(id string, err error) {
	qs := c.queries[id]
	if qs == nil || len(qs.subs) == 0 {
		return
	}
	if c.mayAccept(qs) {
		// The server's registry grew while the request was in flight
		// (a confirmed definition crossed the refusal): ask again at
		// once rather than show an error that may no longer hold.
		c.sendAddQuery(qs)
		return
	}
	qs.serverErr = err
	c.recompute(qs)
	c.dropConfirmed() // a refused query needs no mutations
}

// attrsLearnt is called when the client learns that the server's
// registry grew: a new registry arrived, or the server confirmed a
// mutation with attribute steps (it confirms those only once its registry
// has them). Queries the server refused are asked again when it may now
// accept them (issue #7: a query naming an attribute the server did not
// know yet stayed refused until a reconnect).
func (c *Core) attrsLearnt() {
	c.attrsGen++
	for _, qs := range c.subscribed() {
		// Not yet asked on this connection: init-ok asks for all.
		if qs.sent && qs.serverErr != nil && c.mayAccept(qs) {
			c.sendAddQuery(qs)
		}
	}
}

// mayAccept reports whether asking for qs again may get another answer
// than the last: the client is online, has learnt of a larger server
// registry since it last asked, and the query parses against the
// client's registry. Each growth of the registry thus asks at most twice
// per refused query (on the confirmation of a definition and on the
// registry showing it), and a query still naming what nobody defined is
// not asked again: a refusal never loops. (The client's registry includes
// unconfirmed definitions, so a query may be asked once too early; the
// confirmation asks again.)
func (c *Core) mayAccept(qs *querySub) bool {
	if !c.online || qs.sentGen >= c.attrsGen {
		return false
	}
	_, err := c.parsed(qs)
	return err == nil
}

// setAttrs installs the server's registry. When it changed, it is stored,
// every query's store is rebuilt on it and every result recomputed.
func (c *Core) setAttrs(list []store.Attr) {
	attrs, err := store.NewAttrs(list...)
	if err != nil {
		return // the server's registry is always valid; keep ours if not
	}
	// The server confirms attribute steps once its registry has them, or
	// once it gave up waiting for that (session.Config.SchemaWaitTimeout),
	// so a registry it sends after a confirmation shows them.
	awaited := false
	for _, m := range c.pending {
		awaited = awaited || m.awaitAttrs
		m.awaitAttrs = false
	}
	changed := c.attrs == nil || !slices.Equal(c.attrs.List(), attrs.List())
	if !changed && !awaited {
		return
	}
	c.attrs, c.eff, c.known = attrs, nil, nil
	// A registry that differs from the last one the server sent asks
	// again for refused queries, even when it shows no more than a
	// confirmation already told (which asked once): the server may have
	// confirmed before its registry had the definitions, and refused the
	// query asked then.
	if changed {
		defer c.attrsLearnt()
	}
	if changed {
		c.out.putSetting(SettingAttrs, store.AppendAttrsJSON(nil, attrs.List()))
	}
	c.reloadBases(true)
	for _, qs := range c.subscribed() {
		c.recompute(qs)
	}
}

// knownAttrs returns what the client knows of the server's registry, the
// one results are loaded with: the last registry the server sent, with
// the attribute steps of confirmed mutations it does not show yet (the
// server confirms those only once its own registry has them). So a
// result that comes between the confirmation and the next registry keeps
// the values of the attributes just defined.
func (c *Core) knownAttrs() *store.Attrs {
	if c.known != nil {
		return c.known
	}
	var snap *store.Snapshot
	for _, m := range c.pending {
		if !m.awaitAttrs {
			continue
		}
		if snap == nil {
			snap = store.NewSnapshot(c.attrs)
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
	c.known = c.attrs
	if snap != nil {
		c.known = snap.Attrs()
	}
	return c.known
}

// reloadBases rebuilds the queries' stores on the known registry: every
// one (all), or those holding triples of attributes it lacked.
func (c *Core) reloadBases(all bool) {
	for _, qs := range c.queries {
		if qs.base == nil || (!all && len(qs.unknown) == 0) {
			continue
		}
		base, unknown, err := c.loadTriples(qs.serverTriples())
		if err != nil {
			base, unknown = nil, nil
		}
		qs.base, qs.unknown = base, unknown
		qs.replay = replayCache{}
	}
}

// parsed returns the query parsed against the effective attrs.
func (c *Core) parsed(qs *querySub) (*query.Query, error) {
	a := c.effAttrs()
	if qs.qAttrs != a {
		qs.q, qs.parseErr = query.Parse(qs.text, a)
		qs.qAttrs = a
	}
	return qs.q, qs.parseErr
}

// recompute evaluates a subscribed query over its store with the pending
// mutations replayed and notifies its subscribers if what they would see
// changed.
func (c *Core) recompute(qs *querySub) {
	if len(qs.subs) == 0 {
		return
	}
	c.ensureBase(qs)
	var res *query.Result
	var err error
	switch {
	case qs.serverErr != nil:
		err = qs.serverErr
	case !qs.hasData():
		return // nothing to show until the server answers
	default:
		var q *query.Query
		if q, err = c.parsed(qs); err == nil {
			snap := c.replay(qs)
			if qs.delivered && qs.err == nil && snap == qs.evalSnap && q == qs.evalQuery {
				return // the same query over the same store: the same result
			}
			if res, err = c.evaluate(qs, q, snap); err == nil {
				qs.evalSnap, qs.evalQuery = snap, q
			}
		}
	}
	c.deliver(qs, res, err)
}

// deliver notifies every subscriber of qs, unless they already saw this:
// the same result tree and page info (query.Result.SameTree: what the
// canonical JSON shows, so a triple's new CreatedAt alone does not count;
// rows an incremental update kept compare as pointers), the same error,
// the same FromCache.
func (c *Core) deliver(qs *querySub, res *query.Result, err error) {
	es := ""
	if err != nil {
		es = err.Error()
	}
	fromCache := qs.fromCache && err == nil
	if qs.delivered && (res == nil) == (qs.result == nil) && (res == nil || res.SameTree(qs.result)) && es == qs.outErr && fromCache == qs.outCache {
		return
	}
	qs.delivered, qs.outErr, qs.outCache, qs.result, qs.err = true, es, fromCache, res, err
	for _, sid := range qs.subs {
		c.out.notes = append(c.out.notes, Notification{Sub: sid, QueryID: qs.id, Result: res, Err: err, FromCache: fromCache})
	}
}
