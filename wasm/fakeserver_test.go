package wasm_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/triplesync/triplesync/internal/wire"
	"github.com/triplesync/triplesync/query"
	"github.com/triplesync/triplesync/reactor"
	"github.com/triplesync/triplesync/store"
)

// fakeServer is a triplesync server in memory, enough for a client: it
// answers init with its attributes, add-query with the query's result over
// its snapshot, transact by applying the steps and pushing every
// subscribed query's delta. It is a reactor.Transport whose connections
// call it synchronously: replies are queued before WriteFrame returns.
type fakeServer struct {
	mu      sync.Mutex
	attrs   *store.Attrs
	snap    *store.Snapshot
	tx      store.TxID
	queries map[string]*fakeQuery
	down    bool // Dial fails
	// latency, when set, is how long a frame takes to reach the server:
	// WriteFrame returns at once and the server answers on its own
	// goroutine, as a remote server would. Without it the server answers
	// within WriteFrame, which in the browser's single thread runs the
	// server's work (a whole re-evaluation per write) before anything else.
	latency time.Duration
}

type fakeQuery struct {
	q    *query.Query
	last map[store.TripleKey]store.Triple
}

func newFakeServer(attrs *store.Attrs, triples []store.Triple) (*fakeServer, error) {
	snap, err := store.Load(attrs, triples)
	if err != nil {
		return nil, err
	}
	return &fakeServer{attrs: attrs, snap: snap, queries: map[string]*fakeQuery{}}, nil
}

var errServerDown = errors.New("fake server down")

func (s *fakeServer) Dial(ctx context.Context) (reactor.Conn, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.down {
		return nil, errServerDown
	}
	c := &fakeConn{s: s, wake: make(chan struct{}, 1)}
	if s.latency > 0 {
		c.toServer = make(chan []byte, 1024)
		go c.serve(s.latency)
	}
	return c, nil
}

// handle answers one client message.
func (s *fakeServer) handle(m wire.Message) ([]wire.Message, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch m := m.(type) {
	case *wire.Init:
		return []wire.Message{&wire.InitOK{ClientEventID: m.ClientEventID, SessionID: "fake", Attrs: s.attrs.List()}}, nil
	case *wire.AddQuery:
		q, err := query.Parse(m.Q, s.attrs)
		if err != nil {
			return []wire.Message{&wire.Error{ClientEventID: m.ClientEventID, Status: 400, Type: "invalid", Message: err.Error(), QueryID: m.QueryID}}, nil
		}
		res, err := query.Eval(query.SnapshotSource(s.snap), q)
		if err != nil {
			return nil, err
		}
		fq := &fakeQuery{q: q, last: map[store.TripleKey]store.Triple{}}
		for _, t := range res.Triples {
			fq.last[t.Key()] = t
		}
		s.queries[m.QueryID] = fq
		return []wire.Message{&wire.AddQueryOK{ClientEventID: m.ClientEventID, QueryID: m.QueryID, Q: json.RawMessage(m.Q), Result: res.Triples, ProcessedTxID: s.tx}}, nil
	case *wire.RemoveQuery:
		delete(s.queries, m.QueryID)
		return []wire.Message{&wire.RemoveQueryOK{ClientEventID: m.ClientEventID, QueryID: m.QueryID}}, nil
	case *wire.Transact:
		next, err := s.snap.Apply(m.Steps, 1)
		if err != nil {
			return []wire.Message{&wire.Error{ClientEventID: m.ClientEventID, Status: 400, Type: "invalid", Message: err.Error(), MutationID: m.MutationID}}, nil
		}
		s.snap = next
		s.tx++
		out := []wire.Message{&wire.TransactOK{ClientEventID: m.ClientEventID, MutationID: m.MutationID, TxID: s.tx}}
		refresh := &wire.RefreshOK{ProcessedTxID: s.tx}
		for id, fq := range s.queries {
			res, err := query.Eval(query.SnapshotSource(s.snap), fq.q)
			if err != nil {
				return nil, err
			}
			now := map[store.TripleKey]store.Triple{}
			c := wire.Computation{QueryID: id}
			for _, t := range res.Triples {
				now[t.Key()] = t
				if _, ok := fq.last[t.Key()]; !ok {
					c.Added = append(c.Added, t)
				}
			}
			for k := range fq.last {
				if _, ok := now[k]; !ok {
					c.Removed = append(c.Removed, k)
				}
			}
			fq.last = now
			if len(c.Added)+len(c.Removed) > 0 {
				refresh.Computations = append(refresh.Computations, c)
			}
		}
		return append(out, refresh), nil
	}
	return nil, fmt.Errorf("fake server: unexpected %s", m.Op())
}

// fakeConn is one connection to a fakeServer.
type fakeConn struct {
	s    *fakeServer
	wake chan struct{}

	mu     sync.Mutex
	in     [][]byte
	closed bool

	toServer chan []byte // with latency: frames on their way
}

// serve answers the frames on their way, each after the latency, in order.
func (c *fakeConn) serve(latency time.Duration) {
	for frame := range c.toServer {
		time.Sleep(latency)
		if err := c.answer(frame); err != nil {
			_ = c.Close()
			return
		}
	}
}

var errConnClosed = errors.New("fake connection closed")

func (c *fakeConn) ReadFrame(ctx context.Context) ([]byte, error) {
	for {
		c.mu.Lock()
		if len(c.in) > 0 {
			f := c.in[0]
			c.in = c.in[1:]
			c.mu.Unlock()
			return f, nil
		}
		closed := c.closed
		c.mu.Unlock()
		if closed {
			return nil, errConnClosed
		}
		select {
		case <-c.wake:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

func (c *fakeConn) WriteFrame(ctx context.Context, frame []byte) error {
	c.mu.Lock()
	closed := c.closed
	c.mu.Unlock()
	if closed {
		return errConnClosed
	}
	if c.toServer != nil {
		select {
		case c.toServer <- slices.Clone(frame):
			return nil
		default:
			return errors.New("fake connection: too many frames on their way")
		}
	}
	return c.answer(frame)
}

// answer hands a frame to the server and queues its replies.
func (c *fakeConn) answer(frame []byte) error {
	m, err := wire.Parse(frame)
	if err != nil {
		return err
	}
	replies, err := c.s.handle(m)
	if err != nil {
		return err
	}
	var frames [][]byte
	for _, r := range replies {
		f, err := wire.Encode(nil, r)
		if err != nil {
			return err
		}
		frames = append(frames, f)
	}
	c.mu.Lock()
	c.in = append(c.in, frames...)
	c.mu.Unlock()
	c.signal()
	return nil
}

func (c *fakeConn) signal() {
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

func (c *fakeConn) Close() error {
	c.mu.Lock()
	if !c.closed && c.toServer != nil {
		close(c.toServer)
	}
	c.closed = true
	c.mu.Unlock()
	c.signal()
	return nil
}

// itemsData returns a registry with items.id, items.rank and items.title,
// and n items ranked 0..n-1.
func itemsData(n int) (*store.Attrs, []store.Triple) {
	idA, rankA, titleA := store.EntityID{0xa1}, store.EntityID{0xa2}, store.EntityID{0xa3}
	attrs := store.MustNewAttrs(
		store.Attr{ID: idA, Namespace: "items", Label: "id", Type: store.TypeString, Unique: true, Indexed: true},
		store.Attr{ID: rankA, Namespace: "items", Label: "rank", Type: store.TypeNumber, Indexed: true},
		store.Attr{ID: titleA, Namespace: "items", Label: "title", Type: store.TypeString},
	)
	var ts []store.Triple
	for i := range n {
		e := itemID(i)
		ts = append(ts,
			store.Triple{E: e, A: idA, V: store.Ref(e), CreatedAt: 1},
			store.Triple{E: e, A: rankA, V: store.Number(float64(i)), CreatedAt: 1},
			store.Triple{E: e, A: titleA, V: store.String(fmt.Sprintf("item %d", i)), CreatedAt: 1},
		)
	}
	return attrs, ts
}

func itemID(i int) store.EntityID {
	return store.EntityID{0x10, byte(i >> 16), byte(i >> 8), byte(i), 0, 0, 0x40, 0, 0x80}
}
