package session

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"weak"

	"github.com/triplesync/triplesync/internal/perm"
	"github.com/triplesync/triplesync/invalidator"
	"github.com/triplesync/triplesync/query"
	"github.com/triplesync/triplesync/store"
	"github.com/triplesync/triplesync/topics"
)

// errGone means a shared query lost its last subscriber while a session
// was about to run it.
var errGone = errors.New("session: query no longer subscribed")

// hub holds the shared queries: one per invalidator.QueryKey (canonical
// text and permission context), run once for all the sessions that
// subscribe to it. Its mutex keeps the set of shared queries and the
// invalidator's registrations in step: subscribing and unsubscribing take
// it around the invalidator call (lock order: hub.mu, then the
// invalidator's own).
type hub struct {
	mu   sync.Mutex
	regs map[invalidator.QueryKey]*shared
}

// shared is one shared query. Each subscribing session keeps only a
// pointer to the last version it sent, so 10,000 sessions on one query
// hold one copy of its result.
type shared struct {
	key  invalidator.QueryKey
	auth perm.Auth // whose permissions the query runs with (any subscriber's: equal contexts)
	refs int       // sessions subscribed; guarded by hub.mu

	// latest is the newest version; sessions read it without a lock.
	latest atomic.Pointer[version]

	// runMu guards running, held only briefly: runs are serialised by
	// running, so sessions woken together run the query once. The first
	// runs it; the others wait on the channel, not on a mutex (a thousand
	// sessions queued on one mutex are let through one by one, each
	// scheduled in turn, which measured tens of ms), and then find its
	// version fresh enough.
	runMu   sync.Mutex
	running chan struct{} // closed when the run in progress ends; nil when none

	// Owned by the session running the query (the one that set running).
	q      *query.Query // parsed against qAttrs
	qAttrs *store.Attrs
}

// version is one result of a shared query. It is immutable once built,
// apart from its caches.
type version struct {
	// ticket is the invalidator ticket the run began with: the version
	// reflects every change that woke the query before that ticket.
	ticket invalidator.Ticket
	// triples are the result's triples, in EAV order (query.Result.Triples).
	triples []store.Triple
	// err is set when the query no longer resolves against the attribute
	// registry (an attribute it names was deleted or renamed).
	err error

	fullOnce sync.Once
	full     []byte // the triples as JSON, built once for every full send

	mu     sync.Mutex
	deltas []cachedDelta // a few recent "from" versions, newest last
	frame  cachedFrame   // the last refresh-ok built of one delta to this version
}

// cachedFrame is a refresh-ok frame holding one computation: the delta
// from a version to the one holding the cache, under a query-id, with a
// processed-tx-id. A thousand sessions on one query are woken by one
// change and push the same frame; they share it rather than each building
// a copy. Frames are never modified once queued.
type cachedFrame struct {
	from      weak.Pointer[version]
	queryID   string
	processed store.TxID
	b         []byte
}

// cachedDelta is the encoded delta from one earlier version. It holds that
// version weakly: a strong pointer would chain every version a query ever
// had to its latest one.
type cachedDelta struct {
	from    weak.Pointer[version]
	body    []byte // `"added":[...],"removed":[...]`, nil when unchanged
	changed bool
}

// maxCachedDeltas bounds version.deltas: sessions are nearly always one
// version behind, so a few entries serve them all.
const maxCachedDeltas = 4

// fullJSON returns the version's triples as a JSON array, encoded once.
func (v *version) fullJSON() []byte {
	v.fullOnce.Do(func() {
		v.full = appendTriples(nil, v.triples)
	})
	return v.full
}

// deltaFrom returns the encoded delta from an earlier version: the body of
// a computation, and whether anything changed. from may be nil (nothing
// sent yet): the delta is then the whole result. Sessions one version
// behind share one encoding.
func (v *version) deltaFrom(from *version) (body []byte, changed bool) {
	if from == v {
		return nil, false
	}
	wf := weak.Make(from)
	v.mu.Lock()
	defer v.mu.Unlock()
	for _, d := range v.deltas {
		if d.from == wf {
			return d.body, d.changed
		}
	}
	var old []store.Triple
	if from != nil {
		old = from.triples
	}
	added, removed := diffTriples(old, v.triples)
	if len(added) > 0 || len(removed) > 0 {
		body, changed = appendDeltaBody(nil, added, removed), true
	}
	if len(v.deltas) == maxCachedDeltas {
		copy(v.deltas, v.deltas[1:])
		v.deltas = v.deltas[:maxCachedDeltas-1]
	}
	v.deltas = append(v.deltas, cachedDelta{from: wf, body: body, changed: changed})
	return body, changed
}

// refreshFrame returns the refresh-ok frame of the single computation c,
// the delta from the version from, with processed as its processed-tx-id:
// the cached one when the last call asked for the same, else a new one,
// which replaces it.
func (v *version) refreshFrame(from *version, queryID string, processed store.TxID, c computation) []byte {
	wf := weak.Make(from)
	v.mu.Lock()
	defer v.mu.Unlock()
	f := &v.frame
	if f.b != nil && f.from == wf && f.queryID == queryID && f.processed == processed {
		return f.b
	}
	b := appendRefreshOK(nil, processed, []computation{c}, nil)
	*f = cachedFrame{from: wf, queryID: queryID, processed: processed, b: b}
	return b
}

// subscribe subscribes session id to key, creating the shared query from
// q when it is the first. Call it once per (session, key).
func (s *Server) subscribe(id invalidator.SessionID, key invalidator.QueryKey, q *query.Query, a perm.Auth) (*shared, invalidator.Ticket, error) {
	plan := invalidator.PlanOf(q)
	plan.Coarse = append(plan.Coarse, viewTopics(q, q.Attrs(), s.rules.Load(), a)...)
	s.hub.mu.Lock()
	defer s.hub.mu.Unlock()
	t, err := s.inv.Subscribe(id, key, plan)
	if err != nil {
		return nil, 0, err
	}
	sh := s.hub.regs[key]
	if sh == nil {
		sh = &shared{key: key, auth: a, q: q, qAttrs: q.Attrs()}
		s.hub.regs[key] = sh
	}
	sh.refs++
	return sh, t, nil
}

// unsubscribe ends session id's subscription to key.
func (s *Server) unsubscribe(id invalidator.SessionID, key invalidator.QueryKey) {
	s.hub.mu.Lock()
	defer s.hub.mu.Unlock()
	s.inv.Unsubscribe(id, key)
	if sh := s.hub.regs[key]; sh != nil {
		if sh.refs--; sh.refs <= 0 {
			delete(s.hub.regs, key)
		}
	}
}

// ensure returns a version of sh that reflects every change that woke it
// before ticket need: the latest one if it is that fresh, else a new run.
// Runs of one shared query are serialised, so sessions woken by one change
// run it once between them.
func (s *Server) ensure(ctx context.Context, sh *shared, need invalidator.Ticket) (*version, error) {
	for {
		if v := sh.latest.Load(); v != nil && v.ticket >= need {
			return v, nil
		}
		sh.runMu.Lock()
		if v := sh.latest.Load(); v != nil && v.ticket >= need {
			sh.runMu.Unlock()
			return v, nil
		}
		if ch := sh.running; ch != nil {
			sh.runMu.Unlock()
			select {
			case <-ch:
				continue
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		}
		ch := make(chan struct{})
		sh.running = ch
		sh.runMu.Unlock()
		v, err := s.run(ctx, sh)
		sh.runMu.Lock()
		if v != nil {
			sh.latest.Store(v)
		}
		sh.running = nil
		sh.runMu.Unlock()
		close(ch)
		return v, err
	}
}

// run runs sh once; only the session that set sh.running calls it.
func (s *Server) run(ctx context.Context, sh *shared) (*version, error) {
	// The ticket comes first: attributes and rules are replaced before the
	// invalidator wakes the queries they affect, so loading them after the
	// ticket gives ones at least as new as the ticket claims.
	ticket, ok := s.inv.Begin(sh.key)
	if !ok {
		return nil, errGone
	}
	attrs, rules := s.attrs.Load(), s.rules.Load()
	if sh.qAttrs != attrs {
		q, err := query.Parse([]byte(sh.key.Query), attrs)
		if err != nil {
			return &version{ticket: ticket, err: err}, nil
		}
		sh.q, sh.qAttrs = q, attrs
	}
	q := sh.q
	ctx, cancel := context.WithTimeout(ctx, s.cfg.RequestTimeout)
	defer cancel()
	j := &runJob{sh: sh, q: q, attrs: attrs, rules: rules}
	err := s.runs.do(ctx, j)
	if err == nil {
		err = j.err
	}
	if err != nil {
		return nil, fmt.Errorf("run query: %w", err)
	}
	res := j.res
	s.stats.runs.Add(1)
	v := &version{ticket: ticket, triples: res.Triples}
	ref := invalidator.RefinementOf(q, res)
	extra := viewTopics(q, attrs, rules, sh.auth)
	ref.Plan.Coarse = append(ref.Plan.Coarse, extra...)
	ref.Topics = append(ref.Topics, extra...)
	if _, err := s.inv.Refine(sh.key, ticket, ref); err != nil {
		// The registration keeps its coarse topics, which is sound.
		s.log.Error("refine query topics", logKeyQuery, sh.key.String(), logKeyError, err)
	}
	return v, nil
}

// viewTopics are the extra topics a query needs because view rules filter
// its rows: a rule reads any attribute of the entity, so a change to any
// attribute of a ruled namespace the query reads can hide or reveal a row.
// Admins and namespaces without a view rule need none.
func viewTopics(q *query.Query, attrs *store.Attrs, r *perm.Rules, a perm.Auth) []topics.Topic {
	if a.Admin || r == nil {
		return nil
	}
	var out []topics.Topic
	for _, ns := range namespacesOf(q) {
		if !r.HasRule(ns, perm.View) {
			continue
		}
		list := attrs.Namespace(ns)
		ids := make([]store.EntityID, 0, len(list))
		for _, at := range list {
			ids = append(ids, at.ID)
		}
		if len(ids) > 0 {
			out = append(out, topics.Topic{E: topics.Any(), A: topics.IDs(ids...), V: topics.Any()})
		}
	}
	return out
}

// namespacesOf lists every namespace a query reads rows of: its levels'
// and those its where clauses and links pass through.
func namespacesOf(q *query.Query) []string {
	seen := map[string]bool{}
	var out []string
	add := func(ns string) {
		if ns != "" && !seen[ns] {
			seen[ns] = true
			out = append(out, ns)
		}
	}
	addAttr := func(at *store.Attr) {
		if at != nil {
			add(at.Namespace)
			add(at.RefNamespace)
		}
	}
	var walk func(c *query.Cond)
	walk = func(c *query.Cond) {
		if c == nil {
			return
		}
		if c.Leaf != nil {
			for _, h := range c.Leaf.Hops {
				addAttr(h.Attr)
			}
			addAttr(c.Leaf.Attr)
		}
		for _, sub := range c.Subs {
			walk(sub)
		}
	}
	for _, l := range q.Levels() {
		add(l.Namespace)
		addAttr(l.Link)
		walk(l.Where)
	}
	return out
}
