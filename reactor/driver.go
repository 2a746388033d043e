package reactor

import (
	"context"
	"encoding/binary"
	"errors"
	"math/rand/v2"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/triplesync/triplesync/internal/errs"
	"github.com/triplesync/triplesync/internal/wire"
	"github.com/triplesync/triplesync/store"
)

// DefaultSendQueue is the default [ClientConfig.SendQueue].
const DefaultSendQueue = 1024

// storageRetry is how long the driver waits before retrying a failed
// storage write when nothing else happens.
const storageRetry = time.Second

// ClientConfig configures a [Client]: the core's [Config] plus the IO.
type ClientConfig struct {
	Config

	// Transport dials the server. Required.
	Transport Transport
	// Storage persists mutations and cached queries; nil keeps them in a
	// [MemStorage].
	Storage Storage
	// SendQueue bounds the frames waiting to be written on a connection;
	// when it is full the connection is closed (and re-established), never
	// waited for. Zero: DefaultSendQueue.
	SendQueue int
	// OnError, when set, hears what the client copes with on its own:
	// storage write failures (a *[StorageError]; the write is retried),
	// undecodable frames, messages the core refused.
	OnError func(error)
}

// Client is a live connection to a triplesync server: subscriptions,
// optimistic writes, persistence and reconnection. It is the thin driver
// of a [Core]: one goroutine owns the core and does its IO — storage
// writes, sends, dials, timers — and holds no logic of its own; user
// callbacks run on a second goroutine, in order.
//
// Methods are safe for concurrent use, and may be called from callbacks,
// except Close.
type Client struct {
	cfg     ClientConfig
	core    *Core
	storage Storage

	mu     sync.Mutex
	opened bool
	closed bool
	status Status
	stSubs map[int]func(Status)
	stSeq  int

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	reqs   chan request
	events chan connEvent
	disp   *dispatcher

	// Owned by the loop goroutine.
	subs   map[SubID]*subscription
	txs    map[string]*Tx
	conn   *liveConn
	gen    uint64 // generation of the connection being dialled or open
	failed *Batch // a batch whose write failed, merged into the next
}

type request struct {
	fn   func()
	done chan struct{}
}

type subscription struct {
	id     SubID
	cb     func(QueryResult)
	active atomic.Bool
}

// NewClient returns a client; it starts nothing until [Client.Open].
// Config.Now defaults to time.Now and Config.Rand to math/rand/v2's
// generator, which the runtime seeds from the system's entropy: ids must be
// unique, not secret (set crypto/rand.Reader to have them from crypto/rand).
func NewClient(cfg ClientConfig) (*Client, error) {
	if cfg.Transport == nil {
		return nil, errors.New("reactor: config: Transport is required")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Rand == nil {
		cfg.Rand = idReader{}
	}
	if cfg.SendQueue <= 0 {
		cfg.SendQueue = DefaultSendQueue
	}
	core, err := NewCore(cfg.Config)
	if err != nil {
		return nil, err
	}
	st := cfg.Storage
	if st == nil {
		st = NewMemStorage()
	}
	return &Client{
		cfg: cfg, core: core, storage: st, status: core.Status(), stSubs: map[int]func(Status){},
		reqs: make(chan request), events: make(chan connEvent, 64), disp: newDispatcher(),
		subs: map[SubID]*subscription{}, txs: map[string]*Tx{},
	}, nil
}

// Open loads the storage and starts the client: it connects in the
// background and delivers cached results to subscribers at once. The
// context bounds only the load.
func (c *Client) Open(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.opened || c.closed {
		return errors.New("reactor: client opened twice")
	}
	st, err := c.storage.Load(ctx)
	if err != nil {
		return &StorageError{Op: "load", Err: err}
	}
	c.core.Load(st)
	c.opened = true
	c.ctx, c.cancel = context.WithCancel(context.Background())
	c.wg.Add(2)
	go func() { defer c.wg.Done(); c.disp.run() }()
	go func() { defer c.wg.Done(); c.run() }()
	return nil
}

// Close writes what is due to storage, closes the connection, and waits
// for the client's goroutines. Unconfirmed mutations stay stored; their
// [Tx.Wait] returns [ErrClosed]. Callbacks are not called after Close
// returns; Close must not be called from one.
func (c *Client) Close(ctx context.Context) error {
	c.mu.Lock()
	if !c.opened || c.closed {
		c.closed = true
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	c.mu.Unlock()
	err := c.exec(ctx, func() { c.core.Close() })
	c.cancel()
	c.disp.stop()
	c.wg.Wait()
	for _, tx := range c.txs {
		tx.settle(0, ErrClosed)
	}
	if errors.Is(err, ErrClosed) {
		err = nil
	}
	return err
}

// exec runs fn on the loop goroutine, then handles the Ready it caused,
// and returns once that is done (so storage writes fn caused are
// durable).
func (c *Client) exec(ctx context.Context, fn func()) error {
	c.mu.Lock()
	opened := c.opened
	c.mu.Unlock()
	if !opened {
		return ErrNotOpen
	}
	r := request{fn: fn, done: make(chan struct{})}
	select {
	case c.reqs <- r:
	case <-c.ctx.Done():
		return ErrClosed
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case <-r.done:
		return nil
	case <-c.ctx.Done():
		return ErrClosed
	}
}

// SubscribeQuery subscribes cb to the InstaQL query q (JSON). cb is called
// with every new result: at once with a cached one (FromCache) when
// storage holds one, when the server answers, and whenever the result
// changes — by the server's refreshes or the client's own writes. It is
// not called when nothing visible changed. Errors (a malformed query, a
// closed client, a query the server refuses) arrive through cb as well.
// The returned function ends the subscription; no call follows it.
func (c *Client) SubscribeQuery(q []byte, cb func(QueryResult)) (unsubscribe func()) {
	sub := &subscription{cb: cb}
	sub.active.Store(true)
	var subErr error
	err := c.exec(context.Background(), func() {
		sid, err := c.core.Subscribe(q)
		if err != nil {
			subErr = err
			return
		}
		sub.id = sid
		c.subs[sid] = sub
	})
	if err == nil {
		err = subErr
	}
	if err != nil {
		c.callback(func() { cb(QueryResult{Error: err}) })
		return func() {}
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			sub.active.Store(false)
			_ = c.exec(context.Background(), func() {
				delete(c.subs, sub.id)
				c.core.Unsubscribe(sub.id)
			})
		})
	}
}

// callback runs fn on the dispatcher; before Open, on a goroutine of its
// own; after Close, never.
func (c *Client) callback(fn func()) {
	c.mu.Lock()
	opened, closed := c.opened, c.closed
	c.mu.Unlock()
	switch {
	case closed:
	case opened:
		c.disp.push(fn)
	default:
		go fn()
	}
}

// Transact applies ops optimistically (subscribers see the write before
// Transact returns — their callbacks are queued), stores the mutation —
// durably by the time Transact returns — and sends it, now or once
// online. The returned [Tx] resolves when the server confirms or
// rejects it. Errors: ops that do not fit the schema (a *store.OpError),
// [ErrClosed], [ErrNotOpen].
func (c *Client) Transact(ops []store.TxOp) (*Tx, error) {
	return c.transact(func() (string, error) { return c.core.Transact(ops) })
}

// TransactSteps is [Client.Transact] with tx-steps built by the caller.
func (c *Client) TransactSteps(steps []store.Step) (*Tx, error) {
	return c.transact(func() (string, error) { return c.core.TransactSteps(steps) })
}

func (c *Client) transact(fn func() (string, error)) (*Tx, error) {
	var tx *Tx
	var txErr error
	err := c.exec(context.Background(), func() {
		id, err := fn()
		if err != nil {
			txErr = err
			return
		}
		tx = &Tx{id: id, done: make(chan struct{})}
		c.txs[id] = tx
	})
	if err != nil {
		return nil, err
	}
	return tx, txErr
}

// Status returns the connection status.
func (c *Client) Status() Status {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.status
}

// SubscribeStatus calls cb with the current status and then with every
// change, until the returned function is called.
func (c *Client) SubscribeStatus(cb func(Status)) (unsubscribe func()) {
	c.mu.Lock()
	c.stSeq++
	id := c.stSeq
	active := &atomic.Bool{}
	active.Store(true)
	wrapped := func(s Status) {
		if active.Load() {
			cb(s)
		}
	}
	c.stSubs[id] = wrapped
	cur := c.status
	c.mu.Unlock()
	c.callback(func() { wrapped(cur) })
	return func() {
		active.Store(false)
		c.mu.Lock()
		delete(c.stSubs, id)
		c.mu.Unlock()
	}
}

// Tx is a mutation's handle.
type Tx struct {
	id   string
	done chan struct{}
	once sync.Once
	txID store.TxID
	err  error
}

// MutationID returns the mutation-id sent to the server.
func (t *Tx) MutationID() string { return t.id }

// Done is closed when the mutation is settled.
func (t *Tx) Done() <-chan struct{} { return t.done }

// Wait returns the tx-id the server confirmed the mutation with, or its
// rejection (a *[ServerError]; the write is rolled back), or ctx's error,
// or [ErrClosed] when the client closed first (the mutation stays stored
// and is sent by the next client on the same storage).
func (t *Tx) Wait(ctx context.Context) (store.TxID, error) {
	select {
	case <-t.done:
		return t.txID, t.err
	case <-ctx.Done():
		return 0, ctx.Err()
	}
}

func (t *Tx) settle(id store.TxID, err error) {
	t.once.Do(func() {
		t.txID, t.err = id, err
		close(t.done)
	})
}

// connEvent is what connection goroutines tell the loop.
type connEvent struct {
	gen  uint64
	conn Conn         // opened
	msg  wire.Message // a message
	err  error        // closed (or failed to open)
	kind int
}

const (
	evOpened = iota
	evMessage
	evClosed
)

// liveConn is the open connection: the transport's Conn and its bounded
// send queue, drained by a writer goroutine.
type liveConn struct {
	gen  uint64
	conn Conn
	out  chan []byte
	stop context.CancelFunc
}

// run is the loop goroutine: it feeds the core its inputs and acts on its
// Ready. It decides nothing.
func (c *Client) run() {
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	var retry <-chan time.Time
	for {
		c.drain(timer)
		if c.failed != nil && retry == nil {
			retry = time.After(storageRetry)
		}
		select {
		case <-c.ctx.Done():
			if c.conn != nil {
				c.conn.stop()
				_ = c.conn.conn.Close()
			}
			return
		case r := <-c.reqs:
			r.fn()
			c.drain(timer)
			close(r.done)
		case ev := <-c.events:
			c.event(ev)
		case <-timer.C:
			c.core.Tick()
		case <-retry:
			retry = nil
			c.write(&Batch{})
		}
	}
}

// drain acts on every Ready the core has.
func (c *Client) drain(timer *time.Timer) {
	for c.core.HasReady() {
		rd := c.core.Ready()
		closed := c.act(rd, timer)
		c.core.Advance(rd)
		if closed {
			c.core.ConnClosed(nil)
		}
	}
}

// act does what rd asks, in the order Ready documents. Statuses and
// notifications go to the dispatcher before the storage write, so
// subscribers see an optimistic write without waiting for the disk
// (issue #7: with IndexedDB's strict durability that wait was visible);
// messages wait for the write, so a transact is sent only once its
// mutation is stored. It reports whether it closed the connection (the
// core must hear it after Advance).
func (c *Client) act(rd Ready, timer *time.Timer) (closed bool) {
	c.notify(&rd)
	c.write(&rd.Batch)
	for _, m := range rd.Messages {
		if c.conn == nil {
			break
		}
		frame, err := wire.EncodeRequest(nil, m)
		if err != nil {
			c.report(errs.Wrap("reactor: encode "+m.Op(), err))
			continue
		}
		select {
		case c.conn.out <- frame:
		default:
			c.report(errors.New("reactor: send queue full (" + strconv.Itoa(cap(c.conn.out)) + " frames): reconnecting"))
			c.dropConn()
			closed = true
		}
	}
	if rd.Disconnect {
		c.dropConn()
		closed = true
	}
	if rd.Connect {
		c.dial()
	}
	for _, s := range rd.Settled {
		if tx := c.txs[s.MutationID]; tx != nil {
			delete(c.txs, s.MutationID)
			tx.settle(s.TxID, s.Err)
		}
	}
	if rd.Timer.IsZero() {
		timer.Stop()
	} else {
		timer.Reset(max(time.Until(rd.Timer), 0))
	}
	return closed
}

// notify hands rd's statuses and notifications to the dispatcher, which
// runs the callbacks on its own goroutine, in order.
func (c *Client) notify(rd *Ready) {
	if len(rd.Statuses) > 0 {
		c.mu.Lock()
		c.status = rd.Statuses[len(rd.Statuses)-1]
		subs := make([]func(Status), 0, len(c.stSubs))
		for _, fn := range c.stSubs {
			subs = append(subs, fn)
		}
		c.mu.Unlock()
		for _, st := range rd.Statuses {
			for _, fn := range subs {
				c.disp.push(func() { fn(st) })
			}
		}
	}
	for _, n := range rd.Notifications {
		sub := c.subs[n.Sub]
		if sub == nil {
			continue
		}
		c.disp.push(func() {
			if sub.active.Load() {
				sub.cb(n.QueryResult())
			}
		})
	}
}

// write writes b, merged behind any earlier batch that failed.
func (c *Client) write(b *Batch) {
	if c.failed != nil {
		b = c.failed.Merge(b)
	}
	if b.Empty() {
		c.failed = nil
		return
	}
	if err := c.storage.Write(c.ctx, b); err != nil {
		c.failed = b
		c.report(&StorageError{Op: "write", Err: err})
		return
	}
	c.failed = nil
}

func (c *Client) report(err error) {
	if c.cfg.OnError != nil {
		c.disp.push(func() { c.cfg.OnError(err) })
	}
}

// dial opens a connection in the background; its outcome comes back as an
// event of the new generation.
func (c *Client) dial() {
	c.gen++
	gen := c.gen
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		conn, err := c.cfg.Transport.Dial(c.ctx)
		ev := connEvent{gen: gen, conn: conn, err: err, kind: evOpened}
		if err != nil {
			ev.kind = evClosed
		}
		select {
		case c.events <- ev:
		case <-c.ctx.Done():
			if conn != nil {
				_ = conn.Close()
			}
		}
	}()
}

// dropConn closes the current connection, or abandons the dial in flight.
func (c *Client) dropConn() {
	if c.conn != nil {
		c.conn.stop()
		_ = c.conn.conn.Close()
		c.conn = nil
	}
	c.gen++ // events of the old generation are ignored from now on
}

func (c *Client) event(ev connEvent) {
	if ev.gen != c.gen {
		if ev.kind == evOpened {
			_ = ev.conn.Close() // dialled for nothing
		}
		return
	}
	switch ev.kind {
	case evOpened:
		c.start(ev.conn)
		c.core.ConnOpened()
	case evMessage:
		if err := c.core.Step(ev.msg); err != nil {
			c.report(err)
		}
	case evClosed:
		if c.conn != nil {
			c.conn.stop()
			_ = c.conn.conn.Close()
			c.conn = nil
		}
		c.gen++
		c.core.ConnClosed(ev.err)
	}
}

// start runs the reader and writer goroutines of a new connection.
func (c *Client) start(conn Conn) {
	ctx, stop := context.WithCancel(c.ctx)
	lc := &liveConn{gen: c.gen, conn: conn, out: make(chan []byte, c.cfg.SendQueue), stop: stop}
	c.conn = lc
	emit := func(ev connEvent) bool {
		select {
		case c.events <- ev:
			return true
		case <-ctx.Done():
			return false
		}
	}
	c.wg.Add(2)
	go func() { // the reader only decodes and forwards
		defer c.wg.Done()
		for {
			frame, err := conn.ReadFrame(ctx)
			if err != nil {
				emit(connEvent{gen: lc.gen, kind: evClosed, err: err})
				return
			}
			msg, err := wire.Parse(frame)
			if err != nil {
				c.report(errs.Wrap("reactor: decode frame", err))
				continue
			}
			if !emit(connEvent{gen: lc.gen, kind: evMessage, msg: msg}) {
				return
			}
		}
	}()
	go func() { // the one writer
		defer c.wg.Done()
		for {
			select {
			case frame := <-lc.out:
				if err := conn.WriteFrame(ctx, frame); err != nil {
					emit(connEvent{gen: lc.gen, kind: evClosed, err: err})
					return
				}
			case <-ctx.Done():
				return
			}
		}
	}()
}

// idReader is the default [Config.Rand] of [NewClient]: an io.Reader over
// math/rand/v2's top-level generator, ChaCha8 seeded by the runtime from
// the operating system's entropy (in the browser, crypto.getRandomValues),
// which no program can reseed.
//
// That is enough for what the client draws: mutation ids, entity and
// attribute ids (version 4 UUIDs, 122 random bits) and reconnect jitter.
// These must be unique, not secret: the server authorises a mutation by
// the session's token and the rules, never by an id being unguessable, and
// ids travel in clear in every query result anyway. ChaCha8's output is
// indistinguishable from random, so ids collide no more often than with
// crypto/rand. What it spares the browser client is crypto/rand, whose
// FIPS 140 module the WebAssembly would otherwise link; math/rand/v2 costs
// it about 1 KB. Config.Rand stays injectable: a program that wants
// crypto/rand sets it to crypto/rand.Reader, tests to a seeded source.
type idReader struct{}

// Read fills p from rand.Uint64 and never fails.
func (idReader) Read(p []byte) (int, error) {
	n := len(p)
	for len(p) >= 8 {
		binary.LittleEndian.PutUint64(p, rand.Uint64())
		p = p[8:]
	}
	if len(p) > 0 {
		var b [8]byte
		binary.LittleEndian.PutUint64(b[:], rand.Uint64())
		copy(p, b[:])
	}
	return n, nil
}
