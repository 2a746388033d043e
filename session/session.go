package session

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"slices"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"

	"github.com/triplesync/triplesync/internal/perm"
	"github.com/triplesync/triplesync/internal/wire"
	"github.com/triplesync/triplesync/invalidator"
	"github.com/triplesync/triplesync/query"
	"github.com/triplesync/triplesync/store"
)

// inboxSize bounds the requests decoded but not yet handled; a client that
// sends faster than its session works is slowed by TCP, not buffered.
const inboxSize = 16

// maxOriginalEvent bounds the original-event an error echoes; a larger
// request is echoed as just its op and client-event-id.
const maxOriginalEvent = 4 << 10

// Retry backoff for query runs that failed (Postgres unreachable, a
// timeout): the query stays stale and is tried again.
const (
	minRetry = 250 * time.Millisecond
	maxRetry = 30 * time.Second
)

// session is one client connection. Three goroutines serve it (STYLE.md
// C5): the reader decodes frames and forwards them to the worker; the
// worker handles requests and refreshes, one thing at a time, and queues
// frames; the writer writes queued frames and pings. Nothing the worker or
// the WAL pipeline does ever waits on the network: a full queue closes the
// session as a slow consumer.
type session struct {
	srv      *Server
	id       invalidator.SessionID
	publicID string
	remote   string
	ws       *websocket.Conn
	ctx      context.Context
	cancel   context.CancelCauseFunc

	out    outq          // frames for the writer
	queued atomic.Int64  // bytes in out
	inbox  chan inbound  // decoded requests for the worker
	wake   chan struct{} // the invalidator marked a query stale (capacity 1)
	// commit is the commit time (unix ns) of the oldest change that woke
	// the session since its last refresh, for the latency histogram.
	commit atomic.Int64

	// Owned by the worker goroutine.
	auth       perm.Auth
	inited     bool
	subs       map[string]*sub
	keys       map[invalidator.QueryKey]*keyed
	sentAttrs  *store.Attrs // the registry the client has
	sentTx     store.TxID   // the highest processed-tx-id sent in a refresh-ok
	ownTx      store.TxID   // the highest tx-id this session's transacts got
	retry      map[invalidator.QueryKey]invalidator.Ticket
	retryDelay time.Duration
	retryTimer *time.Timer
}

// sub is one live query of a session, by the client's query-id.
type sub struct {
	id   string
	key  invalidator.QueryKey
	last *version // the version whose result the client has
}

// keyed is one shared query a session subscribes to, with the session's
// query-ids for it (usually one).
type keyed struct {
	sh   *shared
	subs map[string]*sub
}

// inbound is one frame the reader decoded: a message, or why it is not one.
type inbound struct {
	msg wire.Message
	raw []byte
	err error
}

func newSession(srv *Server, ws *websocket.Conn, remote string) *session {
	id, _ := store.NewEntityID(rand.Reader) // crypto/rand does not fail
	return &session{
		srv:      srv,
		publicID: id.String(),
		remote:   remote,
		ws:       ws,
		out:      newOutq(),
		inbox:    make(chan inbound, inboxSize),
		wake:     make(chan struct{}, 1),
		subs:     make(map[string]*sub),
		keys:     make(map[invalidator.QueryKey]*keyed),
		retry:    make(map[invalidator.QueryKey]invalidator.Ticket),
	}
}

// notify wakes the worker: some of its queries are stale, or the registry
// changed. commit is the waking change's commit time (0 when unknown).
func (s *session) notify(commit int64) {
	if commit != 0 {
		s.commit.CompareAndSwap(0, commit)
	}
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// work is the worker goroutine.
func (s *session) work() {
	defer s.srv.wg.Done()
	defer s.cleanup()
	for s.ctx.Err() == nil {
		var own <-chan struct{}
		if s.ownTx > s.sentTx && len(s.subs) > 0 {
			// The client waits for a refresh covering its own write.
			p, ch := s.srv.wm.load()
			if p >= s.ownTx {
				s.refresh()
				continue
			}
			own = ch
		}
		var retry <-chan time.Time
		if s.retryTimer != nil {
			retry = s.retryTimer.C
		}
		select {
		case <-s.ctx.Done():
			return
		case in := <-s.inbox:
			s.handle(in)
		case <-s.wake:
			s.refresh()
		case <-own:
			s.refresh()
		case <-retry:
			s.retryTimer = nil
			s.refresh()
		}
	}
}

// cleanup ends the session's subscriptions once the worker stops.
func (s *session) cleanup() {
	if s.retryTimer != nil {
		s.retryTimer.Stop()
	}
	for key := range s.keys {
		s.srv.unsubscribe(s.id, key)
	}
	s.srv.stats.subscriptions.Add(-int64(len(s.subs)))
	s.srv.drop(s)
	cause := context.Cause(s.ctx)
	if errors.Is(cause, ErrSlowConsumer) {
		s.srv.log.Warn("session closed", logKeySession, s.publicID, logKeyRemote, s.remote, logKeyError, cause)
	} else {
		s.srv.log.Debug("session closed", logKeySession, s.publicID, logKeyRemote, s.remote, logKeyError, cause)
	}
}

// handle answers one request.
func (s *session) handle(in inbound) {
	if in.err != nil {
		s.fail(eventIDOf(in.raw), in.err, in.raw, "", "")
		return
	}
	switch m := in.msg.(type) {
	case *wire.Init:
		s.init(m, in.raw)
	case *wire.AddQuery:
		if s.authorized(m, in.raw) {
			s.addQuery(m, in.raw)
		}
	case *wire.RemoveQuery:
		if s.authorized(m, in.raw) {
			s.removeSub(m.QueryID)
			s.reply(&wire.RemoveQueryOK{ClientEventID: m.ClientEventID, QueryID: m.QueryID})
		}
	case *wire.Transact:
		if s.authorized(m, in.raw) {
			s.transact(m, in.raw)
		}
	default:
		s.fail(m.EventID(), fmt.Errorf("%w: %q is not a request", wire.ErrUnknownOp, m.Op()), in.raw, "", "")
	}
}

// authorized reports whether the session has been initialised, answering
// with an unauthorized error when not.
func (s *session) authorized(m wire.Message, raw []byte) bool {
	if s.inited {
		return true
	}
	s.fail(m.EventID(), fmt.Errorf("%w: send init first", ErrUnauthorized), raw, "", "")
	return false
}

func (s *session) init(m *wire.Init, raw []byte) {
	if s.inited {
		s.fail(m.ClientEventID, ErrAlreadyInitialized, raw, "", "")
		return
	}
	a, err := s.srv.authenticate(m.Token)
	if err != nil {
		s.fail(m.ClientEventID, err, raw, "", "")
		return
	}
	s.auth, s.inited = a, true
	attrs := s.srv.attrs.Load()
	s.sentAttrs = attrs
	ok := &wire.InitOK{ClientEventID: m.ClientEventID, SessionID: s.publicID, Attrs: attrList(attrs)}
	if !a.ID.IsZero() {
		ok.AuthID = a.ID.String()
	}
	s.srv.log.Debug("session initialised", logKeySession, s.publicID, logKeyAuth, a.Context())
	s.reply(ok)
}

func (s *session) addQuery(m *wire.AddQuery, raw []byte) {
	cfg := &s.srv.cfg
	if len(m.Q) > cfg.MaxQueryBytes {
		s.fail(m.ClientEventID, fmt.Errorf("%w: %d bytes, limit %d", ErrQueryTooLarge, len(m.Q), cfg.MaxQueryBytes), raw, m.QueryID, "")
		return
	}
	q, err := query.Parse(m.Q, s.srv.attrs.Load())
	if err != nil {
		s.fail(m.ClientEventID, err, raw, m.QueryID, "")
		return
	}
	key := invalidator.QueryKey{Query: q.Text(), Context: s.auth.Context()}
	qid := m.QueryID
	if qid == "" {
		sum := sha256.Sum256([]byte(key.Query))
		qid = "q-" + hex.EncodeToString(sum[:8])
	}
	old := s.subs[qid]
	if old == nil && len(s.subs) >= cfg.MaxQueries {
		s.fail(m.ClientEventID, fmt.Errorf("%w: limit %d per session", ErrTooManyQueries, cfg.MaxQueries), raw, qid, "")
		return
	}

	// The processed tx-id is read before the subscription's ticket: every
	// change up to it woke the query before the ticket, so a version that
	// fresh reflects them all.
	processed := s.srv.Processed()
	k := s.keys[key]
	var ticket invalidator.Ticket
	if k == nil {
		sh, t, err := s.srv.subscribe(s.id, key, q, s.auth)
		if err != nil {
			s.fail(m.ClientEventID, err, raw, qid, "")
			return
		}
		k = &keyed{sh: sh, subs: make(map[string]*sub)}
		s.keys[key] = k
		ticket = t
	} else {
		ticket, _ = s.srv.inv.Begin(key)
	}
	v, err := s.srv.ensure(s.ctx, k.sh, ticket)
	if err == nil && v.err != nil {
		err = v.err
	}
	if err != nil {
		if len(k.subs) == 0 {
			delete(s.keys, key)
			s.srv.unsubscribe(s.id, key)
		}
		s.fail(m.ClientEventID, err, raw, qid, "")
		return
	}
	if old != nil && old.key != key {
		s.removeSub(qid)
		old = nil
	}
	if old == nil {
		s.srv.stats.subscriptions.Add(1)
	}
	sb := &sub{id: qid, key: key, last: v}
	s.subs[qid] = sb
	k.subs[qid] = sb
	s.send(appendAddQueryOK(nil, m.ClientEventID, qid, m.Q, v.fullJSON(), processed))
}

// removeSub ends the live query qid, if there is one.
func (s *session) removeSub(qid string) {
	sb := s.subs[qid]
	if sb == nil {
		return
	}
	delete(s.subs, qid)
	s.srv.stats.subscriptions.Add(-1)
	k := s.keys[sb.key]
	if k == nil {
		return
	}
	delete(k.subs, qid)
	if len(k.subs) == 0 {
		delete(s.keys, sb.key)
		delete(s.retry, sb.key)
		s.srv.unsubscribe(s.id, sb.key)
	}
}

func (s *session) transact(m *wire.Transact, raw []byte) {
	cfg := &s.srv.cfg
	schema := hasSchemaSteps(m.Steps)
	if schema && !s.auth.Admin && !cfg.Dev {
		s.fail(m.ClientEventID, ErrSchemaChange, raw, "", m.MutationID)
		return
	}
	req := TransactRequest{MutationID: m.MutationID, Steps: m.Steps, Now: time.Now().UnixMilli()}
	if !s.auth.Admin {
		req.Check = checker(s.srv.rules.Load(), s.auth)
	}
	ctx, cancel := context.WithTimeout(s.ctx, cfg.RequestTimeout)
	defer cancel()
	res, err := cfg.Backend.Transact(ctx, req)
	if err != nil {
		s.fail(m.ClientEventID, err, raw, "", m.MutationID)
		return
	}
	if schema {
		s.srv.waitSchema(s.ctx, res.TxID)
	}
	s.ownTx = max(s.ownTx, res.TxID)
	s.reply(&wire.TransactOK{ClientEventID: m.ClientEventID, MutationID: m.MutationID, TxID: res.TxID})
}

// checker returns the write check of a user's transact: every entity the
// transaction writes must pass the rule for its namespace and action.
func checker(r *perm.Rules, a perm.Auth) func(WriteCheck) error {
	return func(c WriteCheck) error {
		return r.Allow(a, c.Namespace, perm.Action(c.Action), c.Before, c.After)
	}
}

// waitSchema waits, for a while, until the transaction tx has come back
// through the WAL, so that the registry holds the attributes it changed
// before its writer is told it is done.
func (s *Server) waitSchema(ctx context.Context, tx store.TxID) {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.SchemaWaitTimeout)
	defer cancel()
	if err := s.wm.wait(ctx, tx); err != nil && !errors.Is(err, context.Canceled) {
		s.log.Warn("schema change not back from the WAL in time", logKeyTxID, tx, logKeyError, err)
	}
}

// hasSchemaSteps reports whether steps change attributes.
func hasSchemaSteps(steps []store.Step) bool {
	for _, st := range steps {
		switch st.Op {
		case store.OpAddAttr, store.OpUpdateAttr, store.OpDeleteAttr:
			return true
		}
	}
	return false
}

// refresh brings the session's stale queries up to date and pushes the
// ones whose results changed, as deltas, in one refresh-ok.
func (s *session) refresh() {
	srv := s.srv
	// The processed tx-id is read before draining the stale set: the
	// invalidator marked every change up to it before it was published, so
	// after this pass every result the client holds reflects it.
	processed, _ := srv.wm.load()
	attrs := srv.attrs.Load()
	stale, _ := srv.inv.TakeStaleTickets(s.id)
	commit := s.commit.Swap(0)
	for key, t := range s.retry {
		stale = append(stale, invalidator.StaleQuery{Key: key, Ticket: t})
	}
	clear(s.retry)

	var comps []computation
	for _, sq := range stale {
		k := s.keys[sq.Key]
		if k == nil {
			continue
		}
		v, err := srv.ensure(s.ctx, k.sh, sq.Ticket)
		if err != nil {
			if s.ctx.Err() != nil {
				return
			}
			if !errors.Is(err, errGone) {
				srv.logInternal("refresh query", err, logKeySession, s.publicID, logKeyQuery, sq.Key.String())
				s.retry[sq.Key] = max(s.retry[sq.Key], sq.Ticket)
			}
			continue
		}
		for _, qid := range subIDs(k.subs) {
			sb := k.subs[qid]
			srv.stats.refreshes.Add(1)
			if v.err != nil {
				// The query no longer resolves (a schema change): the
				// client hears why and the subscription ends.
				s.fail("", v.err, nil, qid, "")
				s.removeSub(qid)
				continue
			}
			from := sb.last
			body, changed := v.deltaFrom(from)
			sb.last = v
			if !changed {
				srv.stats.unchanged.Add(1)
				continue
			}
			comps = append(comps, computation{queryID: qid, body: body, v: v, from: from})
		}
	}
	s.scheduleRetry()
	if len(s.retry) > 0 {
		// A query whose re-run failed still shows its old result, which may
		// lack writes up to processed. The client applies a refresh-ok's
		// processed-tx-id to every query it holds and would drop those
		// writes' pending mutations, so the write would vanish from that
		// query until the retry succeeds. Hold the watermark back until no
		// run is failing; the results pushed now are only fresher than it.
		processed = s.sentTx
	}

	var attrsOut []store.Attr
	if attrs != s.sentAttrs {
		attrsOut = attrList(attrs)
	}
	own := s.ownTx > s.sentTx && processed >= s.ownTx && len(s.subs) > 0
	if len(comps) == 0 && attrsOut == nil && !own {
		return
	}
	var frame []byte
	if c := comps; len(c) == 1 && attrsOut == nil {
		// The common push: one query changed. Sessions on the same shared
		// query, one version behind, share the frame.
		frame = c[0].v.refreshFrame(c[0].from, c[0].queryID, processed, c[0])
	} else {
		frame = appendRefreshOK(nil, processed, comps, attrsOut)
	}
	if !s.send(frame) {
		return
	}
	s.sentTx = max(s.sentTx, processed)
	s.sentAttrs = attrs
	srv.stats.pushes.Add(1)
	srv.stats.pushBytes.Add(uint64(len(frame)))
	if len(comps) > 0 && commit != 0 {
		srv.metrics.latency.Observe(time.Since(time.Unix(0, commit)).Seconds())
	}
}

// scheduleRetry arms the retry timer while runs have failed, backing off.
func (s *session) scheduleRetry() {
	if len(s.retry) == 0 {
		s.retryDelay = 0
		return
	}
	if s.retryTimer != nil {
		return
	}
	s.retryDelay = min(max(2*s.retryDelay, minRetry), maxRetry)
	s.retryTimer = time.NewTimer(s.retryDelay)
}

// reply queues a message.
func (s *session) reply(m wire.Message) {
	b, err := wire.Encode(nil, m)
	if err != nil {
		s.srv.logInternal("encode reply", err, logKeySession, s.publicID, logKeyOp, m.Op())
		return
	}
	s.send(b)
}

// fail answers a request with an error message (STYLE.md E4): coded
// errors as their code, anything else as internal, logged, without its
// text.
func (s *session) fail(eventID string, err error, raw []byte, queryID, mutationID string) {
	code, status, known := classify(err)
	msg := err.Error()
	if !known {
		s.srv.logInternal("request failed", err, logKeySession, s.publicID)
		msg = "internal error"
	}
	s.srv.metrics.errors.WithLabelValues(code).Inc()
	s.reply(&wire.Error{
		ClientEventID: eventID,
		Status:        status,
		Type:          code,
		Message:       msg,
		QueryID:       queryID,
		MutationID:    mutationID,
		OriginalEvent: originalEvent(raw),
	})
}

// send queues a frame for the writer. A session whose queue is full (in
// frames or bytes) is closed as a slow consumer: the frame is dropped and
// send reports false. A single frame larger than the byte bound is let
// through when the queue is otherwise empty.
func (s *session) send(frame []byte) bool {
	if s.ctx.Err() != nil {
		return false
	}
	n := int64(len(frame))
	if q := s.queued.Add(n); q > int64(s.srv.cfg.QueueBytes) && q > n {
		s.queued.Add(-n)
		s.slow()
		return false
	}
	if !s.out.push(frame, s.srv.cfg.QueueFrames) {
		s.queued.Add(-n)
		s.slow()
		return false
	}
	s.srv.stats.sentFrames.Add(1)
	s.srv.stats.sentBytes.Add(uint64(n))
	return true
}

// slow closes the session as a slow consumer, at once: its writer may be
// stuck on a full socket, so there is no close frame, and the connection
// is reset rather than closed, so the kernel drops what the client did
// not read instead of trickling it out.
func (s *session) slow() {
	s.srv.stats.slowConsumers.Add(1)
	s.srv.log.Warn("slow consumer", logKeySession, s.publicID, logKeyRemote, s.remote,
		logKeyQueued, s.out.len(), logKeyQueuedSize, s.queued.Load(), logKeyError, ErrSlowConsumer)
	s.cancel(ErrSlowConsumer)
	if tc, ok := s.ws.NetConn().(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	s.ws.Close()
}

// attrList returns the registry as the wire carries it (never nil).
func attrList(a *store.Attrs) []store.Attr {
	l := a.List()
	if l == nil {
		l = []store.Attr{}
	}
	return l
}

// eventIDOf digs the client-event-id out of a frame that did not parse.
func eventIDOf(raw []byte) string {
	var head struct {
		ID string `json:"client-event-id"`
	}
	if json.Unmarshal(raw, &head) != nil || len(head.ID) > wire.MaxIDLength {
		return ""
	}
	return head.ID
}

// originalEvent returns what an error echoes of the request: the request
// when it is a small JSON object, else its op and client-event-id, else
// nothing.
func originalEvent(raw []byte) json.RawMessage {
	if len(raw) == 0 || !json.Valid(raw) {
		return nil
	}
	var head struct {
		Op any    `json:"op"`
		ID string `json:"client-event-id,omitempty"`
	}
	if err := json.Unmarshal(raw, &head); err != nil {
		return nil // valid JSON, but not an object
	}
	if len(raw) <= maxOriginalEvent {
		return raw
	}
	if len(head.ID) > wire.MaxIDLength {
		head.ID = ""
	}
	b, _ := json.Marshal(head)
	return b
}

// subIDs returns a shared query's query-ids in order; nearly always one.
func subIDs(m map[string]*sub) []string {
	if len(m) == 1 {
		for qid := range m {
			return []string{qid}
		}
	}
	return sortedKeys(m)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
