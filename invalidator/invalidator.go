package invalidator

import (
	"cmp"
	"fmt"
	"slices"
	"sync"

	"github.com/triplesync/triplesync/store"
	"github.com/triplesync/triplesync/topics"
)

// SessionID identifies a session (one client connection) to the
// invalidator. The caller assigns them.
type SessionID uint64

// QueryKey identifies a registration: sessions subscribing with equal keys
// share one. Query is the query's canonical text (query.Query.Text);
// Context distinguishes queries whose results differ by who asks (the
// permission context: e.g. the rule set's version and the user's id), and
// is empty when they do not.
type QueryKey struct {
	Query   string
	Context string
}

// String returns "query" or "query@context".
func (k QueryKey) String() string {
	if k.Context == "" {
		return k.Query
	}
	return k.Query + "@" + k.Context
}

func compareKeys(a, b QueryKey) int {
	if c := cmp.Compare(a.Query, b.Query); c != 0 {
		return c
	}
	return cmp.Compare(a.Context, b.Context)
}

// Ticket records how often a registration had woken when a run began; pass
// it to [Invalidator.Refine] with the run's refined topics.
type Ticket uint64

// Plan is what the invalidator keeps of a query: its coarse topics and
// optionally a fine filter. [PlanOf] builds one from a parsed query.
type Plan struct {
	// Coarse are the topics of every triple and attribute the query can
	// depend on, independent of the data (see [topics.Pattern.Coarse]).
	Coarse []topics.Topic
	// Filter, when not nil, is the registration's fine filter.
	Filter *Filter
}

// Filter is a fine filter: a query with a single level whose where clause
// reads only Attr, a cardinality-one attribute of the level's own
// entities. See the package documentation for when it drops a change.
type Filter struct {
	// Attr is the one attribute the where clause reads.
	Attr store.AttrID
	// Match decides the where clause from an entity's values of Attr (nil
	// or empty when it has none). It must not retain the slice.
	Match func(values []store.Value) bool
}

// Invalidator maps committed changes to the stale queries of each session.
// The zero value is not usable; call [New].
type Invalidator struct {
	mu       sync.Mutex
	ix       *topics.Index
	regs     map[QueryKey]*registration
	byID     []*registration // by SubID; nil for a free id
	freeIDs  []topics.SubID
	sessions map[SessionID]*session
	epoch    uint64 // stamp of the current Apply
	lastTx   store.TxID
	stats    Stats
	linear   bool // find matches by scanning every registration (benchmarks)

	// Scratch space reused by Apply.
	buf  []topics.Topic
	tbuf topics.Buffer

	interned map[string]topics.Part // attribute sets by their ids' bytes; see intern
	kbuf     []byte
	// The transaction and triple change Apply is looking up, for
	// matchTriple, and the callbacks as method values made once (a method
	// value passed on allocates each time it is made).
	change   *store.Change
	tc       *store.TripleChange
	onTriple func(topics.SubID)
	onAttr   func(topics.SubID)
	woken    []*registration
	out      []SessionID
	vals     map[eaKey]*beforeAfter
}

// registration is one query key's shared state.
type registration struct {
	key     QueryKey
	id      topics.SubID
	plan    Plan
	links   []*link // one per subscribed session
	wakes   uint64  // times woken (or reset); tickets compare against it
	refined bool    // the index holds refined topics, not Plan.Coarse
	replan  bool    // woken by a schema change (or reset) in this Apply: the plan may be out of date
	mark    uint64  // epoch of the last Apply that woke it
}

// session is one session's subscriptions and pending stale set.
type session struct {
	id    SessionID
	keys  map[QueryKey]*link
	stale []*link // the links whose stale flag is set
	asOf  store.TxID
	mark  uint64
}

// link is one session's subscription to one registration. Its stale flag
// and the session's stale list make marking a query stale a flag test and
// an append: no hashing on the hot path.
type link struct {
	r     *registration
	ss    *session
	stale bool
}

// Stats counts what an Invalidator has done.
type Stats struct {
	Registrations int    // registered query keys
	Subscriptions int    // (session, key) pairs
	Changes       uint64 // transactions applied
	Woken         uint64 // registrations woken, summed over transactions
	Filtered      uint64 // matches the fine filter dropped
	Refined       uint64 // refinements installed
	RefineSkipped uint64 // refinements dropped: the registration woke during the run, or another run refined it first
	Resets        uint64 // MarkAllStale calls
}

// New returns an empty invalidator.
func New() *Invalidator {
	inv := &Invalidator{
		ix:       topics.NewIndex(0),
		regs:     make(map[QueryKey]*registration),
		byID:     []*registration{nil}, // SubID 0 is never used
		sessions: make(map[SessionID]*session),
	}
	inv.onTriple, inv.onAttr = inv.matchTriple, inv.matchAttr
	return inv
}

// allocID returns a free SubID, reusing those of removed registrations so
// that byID stays dense.
func (inv *Invalidator) allocID() topics.SubID {
	if n := len(inv.freeIDs); n > 0 {
		id := inv.freeIDs[n-1]
		inv.freeIDs = inv.freeIDs[:n-1]
		return id
	}
	inv.byID = append(inv.byID, nil)
	return topics.SubID(len(inv.byID) - 1)
}

// maxInterned bounds the attribute sets intern remembers.
const maxInterned = 1 << 14

// intern replaces each topic's attribute set by an equal one already held,
// so that the thousands of queries over one namespace share one slice
// instead of each holding its own. Attribute sets are few (the schema
// bounds them), so they are kept, up to maxInterned, after which the table
// starts afresh (topics keep the sets they have). It returns ts.
func (inv *Invalidator) intern(ts []topics.Topic) []topics.Topic {
	for i := range ts {
		ids, ok := ts[i].A.IDSet()
		if !ok || len(ids) < 2 {
			continue
		}
		inv.kbuf = inv.kbuf[:0]
		for _, id := range ids {
			inv.kbuf = append(inv.kbuf, id[:]...)
		}
		if p, ok := inv.interned[string(inv.kbuf)]; ok {
			ts[i].A = p
			continue
		}
		if inv.interned == nil || len(inv.interned) >= maxInterned {
			inv.interned = make(map[string]topics.Part)
		}
		inv.interned[string(inv.kbuf)] = ts[i].A
	}
	return ts
}

// Subscribe subscribes session to the query key. The first subscriber
// registers plan's coarse topics; later ones share the registration and
// plan is ignored (equal keys must mean equal queries). Subscribing twice
// is harmless. Call Subscribe before running the query for the session and
// pass the returned ticket to [Invalidator.Refine] with the run's topics.
// It fails, wrapping [topics.ErrInvalidPart], only for a plan whose topics
// are invalid, and then subscribes nothing.
func (inv *Invalidator) Subscribe(s SessionID, key QueryKey, plan Plan) (Ticket, error) {
	inv.mu.Lock()
	defer inv.mu.Unlock()
	r := inv.regs[key]
	if r == nil {
		r = &registration{key: key, id: inv.allocID(), plan: plan}
		r.plan.Coarse = inv.intern(slices.Clone(plan.Coarse))
		if err := inv.ix.Register(r.id, r.plan.Coarse); err != nil {
			inv.freeIDs = append(inv.freeIDs, r.id)
			return 0, fmt.Errorf("subscribe %s: %w", key, err)
		}
		inv.regs[key] = r
		inv.byID[r.id] = r
	}
	ss := inv.sessions[s]
	if ss == nil {
		ss = &session{id: s, keys: make(map[QueryKey]*link)}
		inv.sessions[s] = ss
	}
	if _, ok := ss.keys[key]; !ok {
		l := &link{r: r, ss: ss}
		ss.keys[key] = l
		r.links = append(r.links, l)
		inv.stats.Subscriptions++
	}
	return Ticket(r.wakes), nil
}

// Begin returns the ticket for a run of key that starts now, and whether
// key is registered. Sessions re-running a query call it (or use the
// tickets from [Invalidator.TakeStale]) before reading the database.
func (inv *Invalidator) Begin(key QueryKey) (Ticket, bool) {
	inv.mu.Lock()
	defer inv.mu.Unlock()
	r := inv.regs[key]
	if r == nil {
		return 0, false
	}
	return Ticket(r.wakes), true
}

// Refinement is what a run of a query teaches the invalidator: the
// query's plan as parsed against the attribute registry the run used, and
// its topics narrowed by the data the run saw. [RefinementOf] builds one
// from a query and its result.
type Refinement struct {
	// Plan replaces the registration's plan (its coarse topics and fine
	// filter): after a schema change the query may resolve differently.
	Plan Plan
	// Topics are the narrowed topics. They must cover what Plan.Coarse
	// covers for the data the run saw, the schema topics included.
	Topics []topics.Topic
}

// Refine installs ref for key, from a run that began with ticket t. It
// does so, and reports true, only when the registration has not woken
// since t and no other run has refined it since; otherwise the
// registration keeps its topics, which is always sound (see the package
// documentation). Refine copies ref's slices. It fails, wrapping
// [topics.ErrInvalidPart], for invalid topics, installing nothing.
func (inv *Invalidator) Refine(key QueryKey, t Ticket, ref Refinement) (bool, error) {
	inv.mu.Lock()
	defer inv.mu.Unlock()
	r := inv.regs[key]
	if r == nil {
		return false, nil
	}
	if r.refined || Ticket(r.wakes) != t {
		inv.stats.RefineSkipped++
		return false, nil
	}
	for i := range ref.Plan.Coarse {
		if err := ref.Plan.Coarse[i].Validate(); err != nil {
			return false, fmt.Errorf("refine %s: coarse topic %d: %w", key, i, err)
		}
	}
	if err := inv.ix.Register(r.id, inv.intern(slices.Clone(ref.Topics))); err != nil {
		// Register failed before touching the old topics.
		return false, fmt.Errorf("refine %s: %w", key, err)
	}
	r.plan = Plan{Coarse: inv.intern(slices.Clone(ref.Plan.Coarse)), Filter: ref.Plan.Filter}
	r.refined = true
	inv.stats.Refined++
	return true, nil
}

// Topics returns the topics key is registered with now (coarse or
// refined), or nil. The caller must not modify the slice.
func (inv *Invalidator) Topics(key QueryKey) []topics.Topic {
	inv.mu.Lock()
	defer inv.mu.Unlock()
	if r := inv.regs[key]; r != nil {
		return inv.ix.Topics(r.id)
	}
	return nil
}

// Unsubscribe ends session's subscription to key, dropping it from the
// session's stale set; the last subscriber's leaving removes the
// registration. It does nothing for a subscription that does not exist.
func (inv *Invalidator) Unsubscribe(s SessionID, key QueryKey) {
	inv.mu.Lock()
	defer inv.mu.Unlock()
	ss := inv.sessions[s]
	if ss == nil {
		return
	}
	inv.unsubscribe(s, ss, key)
	if len(ss.keys) == 0 {
		delete(inv.sessions, s)
	}
}

func (inv *Invalidator) unsubscribe(s SessionID, ss *session, key QueryKey) {
	l := ss.keys[key]
	if l == nil {
		return
	}
	r := l.r
	delete(ss.keys, key)
	if l.stale {
		if i := slices.Index(ss.stale, l); i >= 0 {
			ss.stale = slices.Delete(ss.stale, i, i+1)
		}
	}
	if i := slices.Index(r.links, l); i >= 0 {
		r.links = slices.Delete(r.links, i, i+1)
	}
	inv.stats.Subscriptions--
	if len(r.links) == 0 {
		inv.ix.Unregister(r.id)
		delete(inv.regs, key)
		inv.byID[r.id] = nil
		inv.freeIDs = append(inv.freeIDs, r.id)
	}
}

// RemoveSession unsubscribes session from every key and forgets its stale
// set.
func (inv *Invalidator) RemoveSession(s SessionID) {
	inv.mu.Lock()
	defer inv.mu.Unlock()
	ss := inv.sessions[s]
	if ss == nil {
		return
	}
	for key := range ss.keys {
		inv.unsubscribe(s, ss, key)
	}
	delete(inv.sessions, s)
}

// Apply processes one committed transaction and returns the sessions that
// got newly stale queries, sorted. The slice is the caller's.
//
// Every triple change's topics ([topics.AppendTriple]) are looked up; a
// registration with a fine filter skips a triple change the filter proves
// irrelevant. Every attribute change's topics ([topics.AppendAttr]) wake
// what they match unconditionally. Each woken registration falls back to
// its coarse topics and is marked stale, as of c.TxID, for each of its
// sessions.
func (inv *Invalidator) Apply(c *store.Change) []SessionID {
	inv.mu.Lock()
	defer inv.mu.Unlock()
	inv.epoch++
	inv.stats.Changes++
	inv.woken = inv.woken[:0]
	clear(inv.vals)
	inv.change = c
	for i := range c.Triples {
		inv.tc = &c.Triples[i]
		inv.lookup(inv.tbuf.Triple(inv.tc), inv.onTriple)
	}
	inv.change, inv.tc = nil, nil
	if len(c.Attrs) > 0 {
		inv.buf = inv.buf[:0]
		for i := range c.Attrs {
			inv.buf = topics.AppendAttr(inv.buf, &c.Attrs[i])
		}
		inv.lookup(inv.buf, inv.onAttr)
	}
	inv.lastTx = max(inv.lastTx, c.TxID)
	return inv.markStale(inv.woken, c.TxID)
}

// wake adds r to the registrations the current Apply wakes.
func (inv *Invalidator) wake(r *registration) {
	if r.mark != inv.epoch {
		r.mark = inv.epoch
		inv.woken = append(inv.woken, r)
	}
}

// matchTriple takes a registration matching the topics of inv.tc, a triple
// change of inv.change, and wakes it unless its fine filter drops it.
func (inv *Invalidator) matchTriple(id topics.SubID) {
	r := inv.byID[id]
	if r.mark == inv.epoch {
		return
	}
	if r.plan.Filter != nil && inv.filtered(r.plan.Filter, inv.change, inv.tc) {
		inv.stats.Filtered++
		return
	}
	inv.wake(r)
}

// matchAttr takes a registration matching an attribute change's topics: its
// plan may resolve differently now.
func (inv *Invalidator) matchAttr(id topics.SubID) {
	r := inv.byID[id]
	r.replan = true
	inv.wake(r)
}

// lookup finds the registrations whose topics match change: through the
// index, or by scanning every registration's topics when linear is set
// (the baseline the benchmarks compare the index with).
func (inv *Invalidator) lookup(change []topics.Topic, fn func(topics.SubID)) {
	if !inv.linear {
		inv.ix.Lookup(change, fn)
		return
	}
	for _, r := range inv.byID {
		if r != nil && topics.MatchAny(inv.ix.Topics(r.id), change) {
			fn(r.id)
		}
	}
}

// MarkAllStale marks every registration stale for every subscriber, as of
// txID: for when the WAL reader cannot rule out having missed changes (a
// replication slot lost, a reconnect to a temporary slot). It returns the
// sessions that got newly stale queries, sorted.
func (inv *Invalidator) MarkAllStale(txID store.TxID) []SessionID {
	inv.mu.Lock()
	defer inv.mu.Unlock()
	inv.epoch++
	inv.stats.Resets++
	inv.woken = inv.woken[:0]
	for _, r := range inv.regs {
		r.replan = true
		inv.woken = append(inv.woken, r)
	}
	inv.lastTx = max(inv.lastTx, txID)
	return inv.markStale(inv.woken, txID)
}

// everything is the plan of a registration whose plan may be out of date:
// one topic matching every change, and no fine filter.
var everything = Plan{Coarse: []topics.Topic{{}}}

// markStale wakes each registration of rs: back to its coarse topics (to
// everything when its plan may be out of date), a new ticket epoch, stale
// for each session.
func (inv *Invalidator) markStale(rs []*registration, txID store.TxID) []SessionID {
	inv.out = inv.out[:0]
	for _, r := range rs {
		r.wakes++
		inv.stats.Woken++
		if r.replan {
			r.plan = everything
			r.replan = false
			r.refined = true // force the re-registration below
		}
		if r.refined {
			// The coarse topics were valid when registered, so this cannot fail.
			if err := inv.ix.Register(r.id, r.plan.Coarse); err != nil {
				panic("invalidator: re-registering coarse topics: " + err.Error())
			}
			r.refined = false
		}
		for _, l := range r.links {
			ss := l.ss
			ss.asOf = max(ss.asOf, txID)
			if l.stale {
				continue
			}
			l.stale = true
			ss.stale = append(ss.stale, l)
			if ss.mark != inv.epoch {
				ss.mark = inv.epoch
				inv.out = append(inv.out, ss.id)
			}
		}
	}
	slices.Sort(inv.out)
	return slices.Clone(inv.out)
}

// TakeStale drains session's stale queries: the keys, sorted, and the
// highest tx-id of the transactions that made them stale since the last
// drain. Re-running them now gives results that reflect at least every
// transaction up to asOf. keys is nil when nothing is stale. The tx-id is
// the highest seen, not a watermark: transactions can commit out of tx-id
// order, see [Invalidator.LastTxID].
func (inv *Invalidator) TakeStale(s SessionID) (keys []QueryKey, asOf store.TxID) {
	qs, asOf := inv.AppendStale(nil, s)
	for _, q := range qs {
		keys = append(keys, q.Key)
	}
	return keys, asOf
}

// StaleQuery is one stale query with the ticket for its re-run.
type StaleQuery struct {
	Key    QueryKey
	Ticket Ticket
}

// TakeStaleTickets is [Invalidator.TakeStale] that also hands out each
// key's ticket for the re-run the caller is about to start, saving a
// [Invalidator.Begin] per key.
func (inv *Invalidator) TakeStaleTickets(s SessionID) ([]StaleQuery, store.TxID) {
	return inv.AppendStale(nil, s)
}

// AppendStale is [Invalidator.TakeStaleTickets] appending to dst, so a
// session's refresh loop can reuse one buffer.
func (inv *Invalidator) AppendStale(dst []StaleQuery, s SessionID) ([]StaleQuery, store.TxID) {
	inv.mu.Lock()
	defer inv.mu.Unlock()
	ss := inv.sessions[s]
	if ss == nil || len(ss.stale) == 0 {
		return dst, 0
	}
	n := len(dst)
	for _, l := range ss.stale {
		dst = append(dst, StaleQuery{Key: l.r.key, Ticket: Ticket(l.r.wakes)})
		l.stale = false
	}
	slices.SortFunc(dst[n:], func(a, b StaleQuery) int { return compareKeys(a.Key, b.Key) })
	asOf := ss.asOf
	clear(ss.stale)
	ss.stale = ss.stale[:0]
	ss.asOf = 0
	return dst, asOf
}

// LastTxID returns the highest tx-id applied so far (by Apply or
// MarkAllStale).
func (inv *Invalidator) LastTxID() store.TxID {
	inv.mu.Lock()
	defer inv.mu.Unlock()
	return inv.lastTx
}

// Stats returns the invalidator's counters.
func (inv *Invalidator) Stats() Stats {
	inv.mu.Lock()
	defer inv.mu.Unlock()
	st := inv.stats
	st.Registrations = len(inv.regs)
	return st
}
