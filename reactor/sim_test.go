package reactor_test

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"

	"github.com/triplesync/triplesync/internal/wire"
	"github.com/triplesync/triplesync/query"
	"github.com/triplesync/triplesync/store"
)

// simServer is a server in memory that keeps the session contract of
// docs/protocol.md and session/doc.go: an authoritative store that
// applies transactions in order, each once per mutation-id; add-query
// answered with the full result as of the current tx-id; refresh-ok with
// deltas against what the session was last sent, its processed-tx-id
// counting for every subscription of the session. It is safe for
// concurrent use (the Client test drives it from goroutines).
type simServer struct {
	mu      sync.Mutex
	snap    *store.Snapshot
	tx      store.TxID
	now     int64
	applied map[string]store.TxID // mutation-id -> tx-id
	order   []string              // mutation-ids in the order applied
}

func newSimServer(attrs *store.Attrs) *simServer {
	return &simServer{snap: store.NewSnapshot(attrs), applied: map[string]store.TxID{}, now: 1_700_000_000_000}
}

// write applies steps as another writer would, with a new tx-id.
func (s *simServer) write(steps []store.Step) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.now++
	next, err := s.snap.Apply(steps, s.now)
	if err != nil {
		return err
	}
	s.snap = next
	s.tx++
	return nil
}

// eval returns q's result as of now.
func (s *simServer) eval(text []byte) (*query.Result, error) {
	s.mu.Lock()
	snap := s.snap
	s.mu.Unlock()
	q, err := query.Parse(text, snap.Attrs())
	if err != nil {
		return nil, err
	}
	return query.Eval(query.SnapshotSource(snap), q)
}

// simSession is one connection's session.
type simSession struct {
	srv    *simServer
	inited bool
	subs   map[string]*simSub
	ownTx  store.TxID // the highest tx-id of this session's own transactions
	sentTx store.TxID // the highest processed-tx-id sent
}

type simSub struct {
	text []byte
	last map[store.TripleKey]store.Triple
}

func (s *simServer) newSession() *simSession { return &simSession{srv: s, subs: map[string]*simSub{}} }

// handle answers one client message.
func (ss *simSession) handle(msg wire.Message) []wire.Message {
	s := ss.srv
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := msg.(*wire.Init); !ok && !ss.inited {
		return []wire.Message{&wire.Error{ClientEventID: msg.EventID(), Status: 401, Type: wire.CodeUnauthorized, Message: "init first"}}
	}
	switch m := msg.(type) {
	case *wire.Init:
		ss.inited = true
		return []wire.Message{&wire.InitOK{ClientEventID: m.ClientEventID, SessionID: "sim", Attrs: s.snap.Attrs().List()}}
	case *wire.AddQuery:
		q, err := query.Parse(m.Q, s.snap.Attrs())
		if err == nil {
			var res *query.Result
			if res, err = query.Eval(query.SnapshotSource(s.snap), q); err == nil {
				ss.subs[m.QueryID] = &simSub{text: m.Q, last: keyed(res.Triples)}
				return []wire.Message{&wire.AddQueryOK{ClientEventID: m.ClientEventID, QueryID: m.QueryID, Q: m.Q,
					Result: res.Triples, ProcessedTxID: s.tx}}
			}
		}
		return []wire.Message{&wire.Error{ClientEventID: m.ClientEventID, Status: 400, Type: wire.CodeInvalid, Message: err.Error(), QueryID: m.QueryID}}
	case *wire.RemoveQuery:
		delete(ss.subs, m.QueryID)
		return []wire.Message{&wire.RemoveQueryOK{ClientEventID: m.ClientEventID, QueryID: m.QueryID}}
	case *wire.Transact:
		if tx, ok := s.applied[m.MutationID]; ok {
			return []wire.Message{&wire.TransactOK{ClientEventID: m.ClientEventID, MutationID: m.MutationID, TxID: tx}}
		}
		s.now++
		next, err := s.snap.Apply(m.Steps, s.now)
		if err != nil {
			code := wire.CodeInvalid
			switch {
			case errors.Is(err, store.ErrExists), errors.Is(err, store.ErrUniqueViolation):
				code = wire.CodeConflict
			case errors.Is(err, store.ErrNotFound):
				code = wire.CodeNotFound
			}
			return []wire.Message{&wire.Error{ClientEventID: m.ClientEventID, Status: 400, Type: code, Message: err.Error(), MutationID: m.MutationID}}
		}
		s.snap = next
		s.tx++
		s.applied[m.MutationID] = s.tx
		s.order = append(s.order, m.MutationID)
		ss.ownTx = s.tx
		return []wire.Message{&wire.TransactOK{ClientEventID: m.ClientEventID, MutationID: m.MutationID, TxID: s.tx}}
	}
	return nil
}

// refresh re-runs every subscription and returns the refresh-ok the
// session would push: changed results as deltas (full when full is set),
// or nothing when nothing changed and no own transaction is newly
// processed — unless always is set.
func (ss *simSession) refresh(full, always bool) *wire.RefreshOK {
	s := ss.srv
	s.mu.Lock()
	defer s.mu.Unlock()
	out := &wire.RefreshOK{ProcessedTxID: s.tx}
	for _, qid := range slices.Sorted(maps.Keys(ss.subs)) {
		sub := ss.subs[qid]
		q, err := query.Parse(sub.text, s.snap.Attrs())
		if err != nil {
			panic(err)
		}
		res, err := query.Eval(query.SnapshotSource(s.snap), q)
		if err != nil {
			panic(err)
		}
		now := keyed(res.Triples)
		comp := wire.Computation{QueryID: qid, Full: full, Added: wire.Triples{}}
		changed := false
		for k, t := range now {
			if o, ok := sub.last[k]; !ok || o.CreatedAt != t.CreatedAt {
				comp.Added = append(comp.Added, t)
				changed = true
			}
		}
		for k := range sub.last {
			if _, ok := now[k]; !ok {
				comp.Removed = append(comp.Removed, k)
				changed = true
			}
		}
		sub.last = now
		if !changed {
			continue
		}
		if full {
			comp.Added, comp.Removed = res.Triples, nil
		}
		slices.SortFunc(comp.Added, func(a, b store.Triple) int { return cmpTriple(a, b) })
		slices.SortFunc(comp.Removed, func(a, b store.TripleKey) int {
			return cmpTriple(store.Triple{E: a.E, A: a.A, V: a.V}, store.Triple{E: b.E, A: b.A, V: b.V})
		})
		out.Computations = append(out.Computations, comp)
	}
	own := ss.ownTx > ss.sentTx && len(ss.subs) > 0
	if len(out.Computations) == 0 && !own && !always {
		return nil
	}
	ss.sentTx = max(ss.sentTx, s.tx)
	return out
}

func keyed(ts []store.Triple) map[store.TripleKey]store.Triple {
	m := make(map[store.TripleKey]store.Triple, len(ts))
	for _, t := range ts {
		m[t.Key()] = t
	}
	return m
}

func cmpTriple(a, b store.Triple) int {
	if c := a.E.Compare(b.E); c != 0 {
		return c
	}
	if c := a.A.Compare(b.A); c != 0 {
		return c
	}
	return store.Compare(a.V, b.V)
}

// roundTrip encodes and parses a message, as a connection would.
func roundTrip(m wire.Message) wire.Message {
	b, err := wire.Encode(nil, m)
	if err != nil {
		panic(fmt.Sprintf("encode %s: %v", m.Op(), err))
	}
	out, err := wire.Parse(b)
	if err != nil {
		panic(fmt.Sprintf("parse %s: %v", b, err))
	}
	return out
}
