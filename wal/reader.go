package wal

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pglogrepl"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgproto3"

	"github.com/triplesync/triplesync/store"
)

// errStreamEnded is returned when the server ends the copy stream on its
// own, as a walsender does when the server shuts down cleanly.
var errStreamEnded = fmt.Errorf("wal: server ended the replication stream: %w", io.EOF)

// closeTimeout bounds the final acknowledgement and connection close.
const closeTimeout = 2 * time.Second

// Reader tails the WAL through one permanent logical replication slot and
// hands each committed transaction to [Config.Handle]. See the package
// documentation for the loop and its guarantees.
//
// [NewReader] starts nothing; [Reader.Open] connects, makes the slot if
// needed, starts streaming and starts the reader's two goroutines: the
// receive loop (owns the connection and the [Decoder]) and the delivery
// loop (calls Handle). [Reader.Close] stops both, acknowledges what was
// handled and closes the connection. A Reader is opened once.
type Reader struct {
	cfg Config
	log *slog.Logger

	mu     sync.Mutex
	opened bool
	closed bool
	cancel context.CancelFunc
	err    error // what stopped the reader, if not Close
	wg     sync.WaitGroup
	done   chan struct{}

	queue       chan item
	deliverDone chan struct{}

	// A Handle failure: the delivery loop records it, interrupts the
	// receive loop's connection and waits on resume; the receive loop,
	// with the connection ended, empties the queue, sends on resume and
	// reconnects after failure.wait (see restartDelivery).
	interrupt context.CancelFunc // guarded by mu: ends the receive loop's current attempt
	failure   *handleFailure     // guarded by mu: a failure the receive loop has yet to act on
	resume    chan struct{}      // buffered 1

	// Shared between the goroutines and Stats.
	handled   atomic.Uint64 // EndLSN of the last handled transaction: the dedup mark
	acked     atomic.Uint64 // highest position reported to Postgres
	serverEnd atomic.Uint64 // server's WAL end from the latest keepalive or XLogData
	lagNanos  atomic.Int64  // handled time minus commit time of the last handled transaction
	count     atomic.Uint64 // transactions handed to Handle
	resets    atomic.Uint64
	reconns   atomic.Uint64
	failures  atomic.Uint64 // Handle errors

	// Delivery goroutine only.
	hbo backoff // wait before reconnecting after a Handle error

	// Receive goroutine only (and Open before it starts).
	dec        Decoder
	streamed   bool      // some connection of this reader has streamed
	queuedEnd  store.LSN // EndLSN of the last transaction queued
	safe       store.LSN // a keepalive position nothing in flight precedes...
	safeQueued store.LSN // ...valid once every transaction queued before it (up to this end) is handled
	bo         backoff
	// pendingReset is the reason of a reset the reader had queued but
	// dropped with the queue after a Handle error: the next connection
	// queues it again, since the slot will not send it.
	pendingReset string
}

// handleFailure is what the delivery loop tells the receive loop about a
// Handle error.
type handleFailure struct {
	err   *HandleError
	wait  time.Duration // before reconnecting
	reset string        // the failed item was a reset the reader made: its reason
}

// errInterrupted ends a connection attempt when Handle has failed.
var errInterrupted = errors.New("wal: connection ended after a Handle error")

// item is one entry of the delivery queue.
type item struct {
	tx        Transaction
	synthetic bool // a reset the reader made, not a commit: never deduplicated
}

// NewReader checks cfg and returns a reader that has not started.
func NewReader(cfg Config) (*Reader, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	return &Reader{
		cfg:         cfg,
		log:         cfg.Logger.With(logKeySlot, cfg.Slot, logKeyPublication, cfg.Publication),
		done:        make(chan struct{}),
		queue:       make(chan item, cfg.QueueSize),
		deliverDone: make(chan struct{}),
		resume:      make(chan struct{}, 1),
		bo:          backoff{min: cfg.MinBackoff, max: cfg.MaxBackoff, rand: rand.Float64},
		hbo:         backoff{min: cfg.MinBackoff, max: cfg.MaxBackoff, rand: rand.Float64},
	}, nil
}

// Open connects, makes the slot if it is missing, starts streaming from the
// slot's confirmed position and starts the reader's goroutines. Errors of
// this first connection are returned as they are ([Retryable] tells a
// server still starting from a wrong password); later connection losses
// are retried in the background with backoff. ctx bounds only this first
// connection.
func (r *Reader) Open(ctx context.Context) error {
	r.mu.Lock()
	if r.opened {
		r.mu.Unlock()
		return ErrClosed
	}
	r.opened = true
	r.mu.Unlock()

	conn, err := r.connect(ctx)
	if err != nil {
		close(r.deliverDone)
		close(r.done)
		return err
	}
	runCtx, cancel := context.WithCancel(context.Background())
	r.mu.Lock()
	if r.closed { // Close ran while this connected
		r.mu.Unlock()
		cancel()
		conn.Close(context.WithoutCancel(ctx))
		close(r.deliverDone)
		close(r.done)
		return ErrClosed
	}
	r.cancel = cancel
	r.mu.Unlock()
	r.wg.Add(2)
	go r.deliverLoop(runCtx)
	go r.receiveLoop(runCtx, conn)
	go func() {
		r.wg.Wait()
		close(r.done)
	}()
	return nil
}

// Close stops the reader and waits for its goroutines (or for ctx). The
// position of every handled transaction is acknowledged to Postgres before
// the connection closes, so the next reader on the slot does not see them
// again. Close returns the error that had stopped the reader, if any.
func (r *Reader) Close(ctx context.Context) error {
	r.mu.Lock()
	cancel := r.cancel
	opened := r.opened
	r.opened = true // a closed reader cannot be opened
	r.closed = true
	r.mu.Unlock()
	if !opened {
		close(r.deliverDone)
		close(r.done)
		return nil
	}
	if cancel != nil {
		cancel()
	}
	select {
	case <-r.done:
	case <-ctx.Done():
		return ctx.Err()
	}
	return r.Err()
}

// Done is closed when the reader has stopped: after Close, or on its own
// after an error that reconnecting cannot cure (see [Reader.Err]).
func (r *Reader) Done() <-chan struct{} { return r.done }

// Err returns the error that stopped the reader on its own: a
// *[DecodeError], a slot or configuration problem. A Handle error does
// not stop the reader (see [Config.Handle]). Err is nil while the reader
// runs and after a plain Close.
func (r *Reader) Err() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.err
}

// fail records err as what stopped the reader and stops it.
func (r *Reader) fail(err error) {
	r.mu.Lock()
	if r.err == nil {
		r.err = err
	}
	cancel := r.cancel
	r.mu.Unlock()
	r.log.Error("wal reader stopped", logKeyErr, err)
	if cancel != nil {
		cancel()
	}
}

// connect opens a replication connection, makes sure the slot exists,
// decides whether a gap is possible, and starts streaming at LSN 0, which
// Postgres reads as the slot's confirmed position.
func (r *Reader) connect(ctx context.Context) (*pgconn.PgConn, error) {
	cfg, err := replicationConfig(r.cfg.DSN)
	if err != nil {
		return nil, err
	}
	conn, err := pgconn.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("connect: %w", err)
	}
	ok := false
	defer func() {
		if !ok {
			conn.Close(context.WithoutCancel(ctx))
		}
	}()
	info, err := ensureSlot(ctx, conn, r.cfg.Slot, r.cfg.Publication)
	if err != nil {
		return nil, err
	}
	err = pglogrepl.StartReplication(ctx, conn, r.cfg.Slot, 0, pglogrepl.StartReplicationOptions{
		Mode: pglogrepl.LogicalReplication, PluginArgs: r.pluginArgs(),
	})
	if err != nil {
		return nil, fmt.Errorf("start replication: %w", err)
	}
	ok = true
	r.dec.Reset()
	r.safe, r.safeQueued = 0, 0

	// The slot's confirmed position can only be ahead of what this reader
	// acknowledged if something else moved it (another process on the same
	// slot, pg_replication_slot_advance) or the slot is new: changes in
	// between were never delivered here.
	var reason string
	switch {
	case info.recreated:
		reason = "replication slot had lost its WAL and was made again"
	case info.created && r.streamed:
		reason = "replication slot was missing and was made again"
	case r.streamed && info.confirmed > store.LSN(r.acked.Load()):
		reason = fmt.Sprintf("replication slot moved to %s, past this reader's acknowledgement %s",
			formatLSN(info.confirmed), formatLSN(store.LSN(r.acked.Load())))
	case r.pendingReset != "":
		reason = r.pendingReset
	}
	if !r.streamed {
		// A fresh reader starts where the slot is: nothing before it is
		// this reader's to deliver.
		r.handled.Store(uint64(info.confirmed))
		r.acked.Store(uint64(info.confirmed))
	}
	r.streamed = true
	r.log.Info("wal streaming", logKeyLSN, formatLSN(info.confirmed), logKeyCreated, info.created || info.recreated)
	if reason != "" {
		// Queued before any transaction of this connection. The queue is
		// empty on Open; on a reconnect this may wait for the consumer.
		tx := Transaction{Change: store.Change{LSN: info.confirmed}, EndLSN: info.confirmed, Reset: true, ResetReason: reason}
		select {
		case r.queue <- item{tx: tx, synthetic: true}:
		case <-ctx.Done():
			conn.Close(context.WithoutCancel(ctx))
			return nil, ctx.Err()
		}
		r.queuedEnd = max(r.queuedEnd, info.confirmed)
		r.pendingReset = ""
	}
	return conn, nil
}

// receiveLoop streams until ctx ends or an error reconnecting cannot
// cure, reconnecting with backoff after the others and after a Handle
// error.
func (r *Reader) receiveLoop(ctx context.Context, conn *pgconn.PgConn) {
	defer r.wg.Done()
	for {
		err := r.attempt(ctx, &conn)
		if ctx.Err() != nil {
			r.shutdown(conn)
			return
		}
		wait, failed := r.restartDelivery()
		if !failed {
			if !Retryable(err) {
				r.fail(err)
				r.shutdown(nil)
				return
			}
			wait = r.bo.next()
			r.log.Warn("wal replication connection lost", logKeyErr, err, logKeyRetryIn, wait)
		}
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			r.shutdown(nil)
			return
		}
	}
}

// attempt connects if *conn is nil and streams until the connection is
// lost, ctx ends, or the delivery loop interrupts it after a Handle
// error. Unless ctx ended (then shutdown still reports on it), it closes
// the connection and sets *conn to nil: ending the connection is what
// lets a fast shutdown of Postgres, whose walsender waits for this reader
// to confirm everything sent, go on (issue 9).
func (r *Reader) attempt(ctx context.Context, conn **pgconn.PgConn) error {
	actx, cancel := context.WithCancel(ctx)
	defer cancel()
	r.mu.Lock()
	failed := r.failure != nil
	r.interrupt = cancel
	r.mu.Unlock()
	defer func() {
		r.mu.Lock()
		r.interrupt = nil
		r.mu.Unlock()
	}()
	if failed {
		if *conn != nil {
			r.endConn(*conn, false)
			*conn = nil
		}
		return errInterrupted
	}
	if *conn == nil {
		c, err := r.connect(actx)
		if err != nil {
			return err
		}
		*conn = c
		r.reconns.Add(1)
	}
	err := r.stream(actx, *conn)
	if ctx.Err() != nil {
		return err
	}
	interrupted := actx.Err() != nil
	if interrupted {
		err = errInterrupted
	}
	r.endConn(*conn, interrupted)
	*conn = nil
	return err
}

// endConn closes a replication connection the reader is done with. A
// connection that still works first gets the handled position (best
// effort: the next connection reports it again).
func (r *Reader) endConn(conn *pgconn.PgConn, report bool) {
	ctx, cancel := context.WithTimeout(context.Background(), closeTimeout)
	defer cancel()
	if report && !conn.IsClosed() {
		_ = r.sendStatus(conn, false)
	}
	conn.Close(ctx)
}

// restartDelivery acts on a Handle error, if the delivery loop had one,
// once the connection has ended: it empties the queue (the slot sends
// those transactions again, since none of them was acknowledged), so the
// next connection queues from the handled position, keeps a reset it
// dropped for the next connection, and lets the delivery loop go on. It
// returns how long to wait before reconnecting.
func (r *Reader) restartDelivery() (time.Duration, bool) {
	r.mu.Lock()
	f := r.failure
	r.failure = nil
	r.mu.Unlock()
	if f == nil {
		return 0, false
	}
	if f.reset != "" {
		r.pendingReset = f.reset
	}
	for drained := false; !drained; {
		select {
		case it := <-r.queue:
			if it.synthetic {
				r.pendingReset = it.tx.ResetReason
			}
		default:
			drained = true
		}
	}
	r.queuedEnd = store.LSN(r.handled.Load())
	r.resume <- struct{}{} // the delivery loop waits for this one
	r.log.Warn("wal handle failed: replication connection ended, the transaction comes again",
		logKeyErr, f.err, logKeyLSN, formatLSN(f.err.LSN), logKeyTxID, f.err.TxID, logKeyRetryIn, f.wait)
	return f.wait, true
}

// shutdown runs when the reader stops: once the delivery loop has
// finished it reports the final handled position, on conn if it still
// works, else on a connection of its own, so the next reader on the slot
// starts after everything this one handled. A report counts only once the
// walsender has answered the end of the stream that follows it: a report
// written to a connection whose walsender just died is lost silently, and
// a reader closed between connections has no connection to write to.
func (r *Reader) shutdown(conn *pgconn.PgConn) {
	<-r.deliverDone
	ctx, cancel := context.WithTimeout(context.Background(), closeTimeout)
	defer cancel()
	if conn != nil {
		err := r.ackAndEnd(ctx, conn)
		conn.Close(ctx)
		if err == nil {
			return
		}
	}
	if err := r.finalAck(ctx); err != nil {
		r.log.Warn("wal final acknowledgement", logKeyErr, err, logKeyLSN, formatLSN(r.ackPosition()))
	}
}

// ackAndEnd reports the handled position and ends the copy stream; the
// server's answer to the end proves it processed the report before it.
func (r *Reader) ackAndEnd(ctx context.Context, conn *pgconn.PgConn) error {
	if conn.IsClosed() {
		return net.ErrClosed
	}
	if err := r.sendStatus(conn, false); err != nil {
		return err
	}
	conn.Frontend().Send(&pgproto3.CopyDone{})
	if err := conn.Frontend().Flush(); err != nil {
		return fmt.Errorf("end stream: %w", err)
	}
	for {
		msg, err := conn.ReceiveMessage(ctx)
		if err != nil {
			return fmt.Errorf("end stream: %w", err)
		}
		switch m := msg.(type) {
		case *pgproto3.ReadyForQuery:
			return nil
		case *pgproto3.ErrorResponse:
			return fmt.Errorf("end stream: %w", pgconn.ErrorResponseToPgError(m))
		}
	}
}

// finalAck reports the handled position on a short-lived replication
// connection. The walsender of the last connection may still hold the
// slot for a moment, so it retries until ctx ends.
func (r *Reader) finalAck(ctx context.Context) error {
	cfg, err := replicationConfig(r.cfg.DSN)
	if err != nil {
		return err
	}
	for {
		err := func() error {
			conn, err := pgconn.ConnectConfig(ctx, cfg)
			if err != nil {
				return err
			}
			defer conn.Close(ctx)
			if err := pglogrepl.StartReplication(ctx, conn, r.cfg.Slot, 0, pglogrepl.StartReplicationOptions{
				Mode: pglogrepl.LogicalReplication, PluginArgs: r.pluginArgs(),
			}); err != nil {
				return err
			}
			return r.ackAndEnd(ctx, conn)
		}()
		if err == nil || !Retryable(err) {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// pluginArgs are pgoutput's options for START_REPLICATION.
func (r *Reader) pluginArgs() []string {
	args := []string{"proto_version '2'", "publication_names '" + r.cfg.Publication + "'"}
	if !r.cfg.NoStreaming {
		args = append(args, "streaming 'true'")
	}
	return args
}

// stream runs one replication connection (STYLE.md C3): it receives under
// a deadline at the next status time, reports its position when the
// deadline passes, and answers a keepalive that asks for a reply at once.
func (r *Reader) stream(ctx context.Context, conn *pgconn.PgConn) error {
	interval := r.cfg.StatusInterval
	// Report at once: the previous connection's last report may not
	// have reached the server.
	next := time.Time{}
	working := false
	for {
		if !time.Now().Before(next) {
			if err := r.sendStatus(conn, false); err != nil {
				return err
			}
			next = time.Now().Add(interval)
		}
		rctx, cancel := context.WithDeadline(ctx, next)
		raw, err := conn.ReceiveMessage(rctx)
		cancel()
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if pgconn.Timeout(err) {
				continue
			}
			return fmt.Errorf("receive: %w", err)
		}
		if !working {
			// The connection delivers: the next loss starts the
			// backoff over.
			working = true
			r.bo.reset()
		}
		switch m := raw.(type) {
		case *pgproto3.CopyData:
			if len(m.Data) == 0 {
				continue
			}
			switch m.Data[0] {
			case pglogrepl.PrimaryKeepaliveMessageByteID:
				pkm, err := pglogrepl.ParsePrimaryKeepaliveMessage(m.Data[1:])
				if err != nil {
					return &DecodeError{Op: "keepalive", Err: fmt.Errorf("%w: %v", ErrMalformed, err)}
				}
				r.keepalive(store.LSN(pkm.ServerWALEnd))
				if pkm.ReplyRequested {
					next = time.Time{}
				}
			case pglogrepl.XLogDataByteID:
				xld, err := pglogrepl.ParseXLogData(m.Data[1:])
				if err != nil {
					return &DecodeError{Op: "XLogData", Err: fmt.Errorf("%w: %v", ErrMalformed, err)}
				}
				r.noteServerEnd(store.LSN(xld.ServerWALEnd))
				tx, err := r.dec.Decode(store.LSN(xld.WALStart), xld.WALData)
				if err != nil {
					return err
				}
				if tx != nil {
					if err := r.enqueue(ctx, conn, tx, &next); err != nil {
						return err
					}
				}
			}
		case *pgproto3.ErrorResponse:
			return pgconn.ErrorResponseToPgError(m)
		case *pgproto3.CopyDone:
			return errStreamEnded
		}
	}
}

// keepalive notes a keepalive's WAL position. Between transactions every
// transaction committed before it has been received, so once those are
// handled the reader may acknowledge it: that lets the slot release WAL
// that carries nothing for this publication.
func (r *Reader) keepalive(end store.LSN) {
	r.noteServerEnd(end)
	if r.dec.Idle() {
		r.safe, r.safeQueued = end, r.queuedEnd
	}
}

func (r *Reader) noteServerEnd(end store.LSN) {
	for {
		cur := r.serverEnd.Load()
		if uint64(end) <= cur || r.serverEnd.CompareAndSwap(cur, uint64(end)) {
			return
		}
	}
}

// enqueue hands tx to the delivery loop. While the queue is full it keeps
// reporting the position on time so the walsender does not time the
// connection out; not reading meanwhile is what stops Postgres sending.
func (r *Reader) enqueue(ctx context.Context, conn *pgconn.PgConn, tx *Transaction, next *time.Time) error {
	if tx.LSN < store.LSN(r.handled.Load()) || tx.LSN < r.queuedEnd {
		return nil // redelivered after a reconnect: handled or queued already
	}
	it := item{tx: *tx}
	for {
		t := time.NewTimer(time.Until(*next))
		select {
		case r.queue <- it:
			t.Stop()
			r.queuedEnd = max(r.queuedEnd, tx.EndLSN)
			return nil
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
			if err := r.sendStatus(conn, false); err != nil {
				return err
			}
			*next = time.Now().Add(r.cfg.StatusInterval)
		}
	}
}

// ackPosition is the position that may be reported: the end of the last
// handled transaction, or a later keepalive position once every
// transaction queued before that keepalive is handled.
func (r *Reader) ackPosition() store.LSN {
	pos := store.LSN(r.handled.Load())
	if r.safe > pos && pos >= r.safeQueued {
		pos = r.safe
	}
	return pos
}

// sendStatus reports the ack position as written, flushed and applied.
func (r *Reader) sendStatus(conn *pgconn.PgConn, reply bool) error {
	pos := r.ackPosition()
	if pos == 0 {
		return nil
	}
	err := pglogrepl.SendStandbyStatusUpdate(context.Background(), conn, pglogrepl.StandbyStatusUpdate{
		WALWritePosition: pglogrepl.LSN(pos), ReplyRequested: reply,
	})
	if err != nil {
		return fmt.Errorf("send standby status: %w", err)
	}
	for {
		cur := r.acked.Load()
		if uint64(pos) <= cur || r.acked.CompareAndSwap(cur, uint64(pos)) {
			return nil
		}
	}
}

// deliverLoop hands queued transactions to Handle in order, skipping
// those a reconnect delivered twice, and marks each handled.
func (r *Reader) deliverLoop(ctx context.Context) {
	defer r.wg.Done()
	defer close(r.deliverDone)
	for {
		var it item
		select {
		case it = <-r.queue:
		case <-ctx.Done():
			return
		}
		tx := &it.tx
		if !it.synthetic && tx.LSN < store.LSN(r.handled.Load()) {
			continue
		}
		if !tx.Empty() {
			if err := r.cfg.Handle(ctx, *tx); err != nil {
				if ctx.Err() != nil || !r.handleFailed(ctx, it, err) {
					return // closing: the transaction stays unacknowledged
				}
				continue
			}
			r.hbo.reset()
			r.count.Add(1)
			if !tx.CommitTime.IsZero() {
				r.lagNanos.Store(int64(time.Since(tx.CommitTime)))
			}
			if tx.Reset {
				r.resets.Add(1)
				r.log.Warn("wal reset: everything may be stale", logKeyReason, tx.ResetReason,
					logKeyLSN, formatLSN(tx.LSN), logKeyTxID, tx.TxID)
			}
		}
		for {
			cur := r.handled.Load()
			if uint64(tx.EndLSN) <= cur || r.handled.CompareAndSwap(cur, uint64(tx.EndLSN)) {
				break
			}
		}
	}
}

// handleFailed reports a Handle error to the receive loop, interrupting
// its connection, and waits until the receive loop has emptied the queue.
// Nothing from it.tx on has been marked handled, so the next connection
// delivers it again. It returns false if ctx ended meanwhile.
func (r *Reader) handleFailed(ctx context.Context, it item, err error) bool {
	r.failures.Add(1)
	f := &handleFailure{err: &HandleError{LSN: it.tx.LSN, TxID: it.tx.TxID, Err: err}, wait: r.hbo.next()}
	if it.synthetic {
		f.reset = it.tx.ResetReason
	}
	r.mu.Lock()
	r.failure = f
	if r.interrupt != nil {
		r.interrupt()
	}
	r.mu.Unlock()
	select {
	case <-r.resume:
		return true
	case <-ctx.Done():
		return false
	}
}

// Stats is a snapshot of a reader's progress, for metrics.
type Stats struct {
	// Handled is the end LSN of the last transaction handled (or, before
	// any, the slot position streaming started from).
	Handled store.LSN
	// Acked is the highest position reported to Postgres.
	Acked store.LSN
	// ServerWALEnd is the server's WAL end from the latest message.
	ServerWALEnd store.LSN
	// LagBytes is ServerWALEnd minus what the reader could acknowledge
	// now: WAL the server has that this reader has not handled (or
	// seen to be irrelevant).
	LagBytes uint64
	// CommitLag is how long after its commit the last transaction was
	// handled.
	CommitLag time.Duration
	// Transactions counts the transactions handed to Handle.
	Transactions uint64
	// Resets counts the Reset transactions handed to Handle.
	Resets uint64
	// Reconnects counts replication connections made after the first.
	Reconnects uint64
	// HandleErrors counts the errors Handle returned; each ended the
	// replication connection, and the transaction came again on the next.
	HandleErrors uint64
}

// Stats returns the reader's progress. It is safe to call at any time.
func (r *Reader) Stats() Stats {
	s := Stats{
		Handled:      store.LSN(r.handled.Load()),
		Acked:        store.LSN(r.acked.Load()),
		ServerWALEnd: store.LSN(r.serverEnd.Load()),
		CommitLag:    time.Duration(r.lagNanos.Load()),
		Transactions: r.count.Load(),
		Resets:       r.resets.Load(),
		Reconnects:   r.reconns.Load(),
		HandleErrors: r.failures.Load(),
	}
	done := max(s.Handled, s.Acked)
	if s.ServerWALEnd > done {
		s.LagBytes = uint64(s.ServerWALEnd - done)
	}
	return s
}
