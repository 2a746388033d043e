package reactor

import (
	"slices"
	"strconv"
	"time"

	"github.com/triplesync/triplesync/internal/wire"
	"github.com/triplesync/triplesync/store"
)

// SubID names one subscription of a [Core]: one callback on one query.
type SubID uint64

// Core is the client's state machine, after etcd raft's RawNode: it does
// no IO, reads no clock and draws no randomness of its own (both come
// through [Config]), and starts no goroutines. Inputs are method calls —
// [Core.Load] when storage is read, [Core.Subscribe], [Core.Unsubscribe]
// and [Core.Transact] from the user, [Core.ConnOpened], [Core.ConnClosed]
// and [Core.Step] from the transport, [Core.Tick] from a timer — and
// outputs wait in a [Ready] until the driver takes them. See the package
// documentation for the behaviour.
//
// A Core is not safe for concurrent use: one goroutine owns it (the
// [Client]'s driver, or a test).
type Core struct {
	cfg    Config
	loaded bool
	closed bool

	attrs    *store.Attrs // the server's registry; nil until known
	eff      *store.Attrs // attrs with the pending mutations' attribute steps; nil: recompute
	known    *store.Attrs // attrs with confirmed attribute steps not in attrs yet (see knownAttrs); nil: recompute
	attrsGen uint64       // counts what the core learnt of the server's registry growing (see attrsLearnt)

	queries map[string]*querySub // subscribed and cached queries, by query-id
	subs    map[SubID]*querySub
	nextSub SubID
	subSeq  uint64 // orders queries by first subscription, for re-adding

	pending []*mutation // by Seq
	byID    map[string]*mutation
	seq     uint64

	status    Status
	dialing   bool  // Connect emitted; neither ConnOpened nor ConnClosed since
	connected bool  // ConnOpened and no ConnClosed since
	online    bool  // init-ok on the current connection
	refused   error // the server refused the last init
	retryAt   time.Time
	eventSeq  uint64
	events    map[string]event // client-event-id → what the request was about

	flushAt time.Time // when dirty cached queries are written; zero: none dirty

	out       output
	lastTimer time.Time
}

// event is what a sent request was about, to attribute an error reply.
type event struct {
	op string // init, add-query, transact, remove-query
	id string // query-id or mutation-id
}

// NewCore returns a core. It starts in [StateConnecting] but asks for no
// connection until [Core.Load]. Zero durations and limits in cfg take the
// defaults; Now and Rand are required.
func NewCore(cfg Config) (*Core, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	return &Core{
		cfg:     cfg,
		queries: map[string]*querySub{},
		subs:    map[SubID]*querySub{},
		byID:    map[string]*mutation{},
		events:  map[string]event{},
		status:  Status{State: StateConnecting},
		out:     newOutput(),
	}, nil
}

func (c *Core) now() time.Time { return c.cfg.Now() }

func (c *Core) nowMs() int64 { return c.now().UnixMilli() }

// Status returns the connection status.
func (c *Core) Status() Status { return c.status }

// Pending returns the pending mutations in order, confirmed or not. The
// caller owns the slice; the steps are shared.
func (c *Core) Pending() []Mutation {
	out := make([]Mutation, len(c.pending))
	for i, m := range c.pending {
		out[i] = m.Mutation
	}
	return out
}

// Load is the input that storage has been read: the attribute registry,
// the cached queries and the pending mutations of an earlier run. Stored
// mutations come before any made since NewCore (Transact refuses until
// Load, so there are none). Cached queries past their age are dropped.
// Then the core asks for a connection. Load may be called once; a record
// it cannot use is skipped.
func (c *Core) Load(st *State) {
	if c.loaded || c.closed {
		return
	}
	c.loaded = true
	if st == nil {
		st = &State{}
	}
	if raw, ok := st.Settings[SettingAttrs]; ok {
		if list, err := decodeAttrs(raw); err == nil {
			if attrs, err := store.NewAttrs(list...); err == nil {
				c.attrs = attrs
			}
		}
	}
	for _, cq := range st.Queries {
		id, text, err := QueryID(cq.Q)
		if err != nil || id != cq.ID {
			c.out.delQuery(cq.ID) // written by another format: useless
			continue
		}
		qs := c.queries[id]
		if qs == nil {
			qs = &querySub{id: id, text: text}
			c.queries[id] = qs
		}
		qs.cached = cq.Triples
		qs.processed = cq.ProcessedTxID
		qs.lastUsed = cq.LastUsed
		qs.size = len(cq.Triples)
		qs.stored = true
	}
	for _, sm := range st.Mutations {
		if c.byID[sm.ID] != nil {
			continue
		}
		m := newMutation(sm)
		m.awaitAttrs = m.TxID != 0 && m.attrSteps && !registryShows(c.attrs, m)
		c.pending = append(c.pending, m)
		c.byID[m.ID] = m
		c.seq = max(c.seq, m.Seq)
	}
	slices.SortStableFunc(c.pending, func(a, b *mutation) int {
		switch {
		case a.Seq < b.Seq:
			return -1
		case a.Seq > b.Seq:
			return 1
		}
		return 0
	})
	c.eff, c.known = nil, nil
	c.gc()
	// Queries subscribed before Load now have their cached results.
	for _, qs := range c.subscribed() {
		c.recompute(qs)
	}
	c.connect()
}

// connect asks the driver for a connection.
func (c *Core) connect() {
	c.dialing = true
	c.retryAt = time.Time{}
	c.out.connect = true
	c.setStatus(Status{State: StateConnecting, Attempt: c.status.Attempt})
}

func (c *Core) setStatus(s Status) {
	c.status = s
	c.out.statuses = append(c.out.statuses, s)
}

// ConnOpened is the input that the connection the core asked for is open.
// The core sends init; it is online once init-ok arrives.
func (c *Core) ConnOpened() {
	if !c.dialing || c.closed {
		return
	}
	c.dialing = false
	c.connected = true
	c.send(&wire.Init{Token: c.cfg.Token}, event{op: wire.OpInit})
}

// ConnClosed is the input that the connection (or the attempt to open
// one) ended, with err saying why (nil when the driver closed it on the
// core's request). The core schedules a reconnect with backoff; queries
// are re-added and unconfirmed mutations re-sent once online again.
func (c *Core) ConnClosed(err error) {
	if !c.dialing && !c.connected {
		return
	}
	c.dialing, c.connected, c.online = false, false, false
	clear(c.events)
	for _, qs := range c.queries {
		qs.sent, qs.answered = false, false
	}
	for _, m := range c.pending {
		m.sent = false
	}
	if c.closed {
		return
	}
	attempt := c.status.Attempt + 1
	c.retryAt = c.now().Add(c.backoff(attempt))
	st := Status{State: StateOffline, Err: err, Attempt: attempt, RetryAt: c.retryAt}
	switch {
	case c.refused != nil:
		st.State, st.Err = StateError, c.refused
	case err == nil:
		st.Err = ErrDisconnected
	}
	c.setStatus(st)
}

// Tick is the input that time has passed: the core reconnects when its
// backoff has run out and writes cached queries whose flush delay is
// over. A driver calls it at [Ready.Timer]; calling it more often is
// harmless.
func (c *Core) Tick() {
	if c.closed {
		return
	}
	now := c.now()
	if c.loaded && !c.dialing && !c.connected && !c.retryAt.IsZero() && !now.Before(c.retryAt) {
		c.connect()
	}
	if !c.flushAt.IsZero() && !now.Before(c.flushAt) {
		c.flush()
	}
}

// Close is the input that the client is shutting down: dirty cached
// queries are written with the next Ready, the connection is closed and
// no other is asked for. Pending mutations stay stored for the next run.
// After Close, inputs other than ConnClosed are ignored or refused.
func (c *Core) Close() {
	if c.closed {
		return
	}
	c.flush()
	c.closed = true
	if c.connected || c.dialing {
		c.out.disconnect = true
	}
	c.online = false
	c.setStatus(Status{State: StateOffline, Err: ErrClosed, Attempt: c.status.Attempt})
}

// send queues a message, naming it with a fresh client-event-id so that
// an error reply can be attributed to the request.
func (c *Core) send(m wire.Message, ev event) {
	c.eventSeq++
	id := strconv.FormatUint(c.eventSeq, 10)
	switch m := m.(type) {
	case *wire.Init:
		m.ClientEventID = id
	case *wire.AddQuery:
		m.ClientEventID = id
	case *wire.RemoveQuery:
		m.ClientEventID = id
	case *wire.Transact:
		m.ClientEventID = id
	}
	c.events[id] = ev
	c.out.msgs = append(c.out.msgs, m)
}

// Step is the input of one message from the server. It returns an error
// wrapping [ErrUnexpected] for a message only clients send; messages about
// queries or mutations the core no longer has are ignored.
func (c *Core) Step(msg wire.Message) error {
	if c.closed || !c.connected {
		return nil
	}
	switch m := msg.(type) {
	case *wire.InitOK:
		delete(c.events, m.ClientEventID)
		c.initOK(m)
	case *wire.AddQueryOK:
		delete(c.events, m.ClientEventID)
		c.addQueryOK(m)
	case *wire.RefreshOK:
		c.refreshOK(m)
	case *wire.TransactOK:
		delete(c.events, m.ClientEventID)
		c.transactOK(m)
	case *wire.RemoveQueryOK:
		delete(c.events, m.ClientEventID)
	case *wire.Error:
		c.serverError(m)
	default:
		return &unexpectedError{op: msg.Op()}
	}
	return nil
}

type unexpectedError struct{ op string }

func (e *unexpectedError) Error() string { return "reactor: unexpected message " + e.op }

func (e *unexpectedError) Unwrap() error { return ErrUnexpected }

func (c *Core) initOK(m *wire.InitOK) {
	if c.online {
		return
	}
	c.online = true
	c.refused = nil
	c.setStatus(Status{State: StateOnline, SessionID: m.SessionID})
	c.setAttrs(m.Attrs)
	for _, qs := range c.subscribed() {
		c.sendAddQuery(qs)
	}
	for _, m := range c.pending {
		if m.TxID == 0 {
			c.sendTransact(m)
		}
	}
}

func (c *Core) serverError(m *wire.Error) {
	ev, known := c.events[m.ClientEventID]
	if known {
		delete(c.events, m.ClientEventID)
	}
	mid, qid := m.MutationID, m.QueryID
	if mid == "" && ev.op == wire.OpTransact {
		mid = ev.id
	}
	if qid == "" && ev.op == wire.OpAddQuery {
		qid = ev.id
	}
	switch {
	case mid != "":
		e := newServerError(wire.OpTransact, m)
		e.MutationID = mid
		c.reject(mid, e)
	case qid != "":
		e := newServerError(wire.OpAddQuery, m)
		e.QueryID = qid
		c.refuseQuery(qid, e)
	case ev.op == wire.OpInit || !c.online:
		// The status turns to error when the connection is closed, which
		// the driver does next.
		c.refused = newServerError(wire.OpInit, m)
		c.out.disconnect = true
	}
	// Anything else (a remove-query's error, an error about nothing the
	// client sent) needs no action.
}
