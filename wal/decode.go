package wal

import (
	"fmt"
	"strings"

	"github.com/jackc/pglogrepl"

	"github.com/triplesync/triplesync/store"
)

// Decoder turns a stream of pgoutput (protocol 2) messages into committed
// [Transaction] values. It is pure: no IO, no clock, no goroutines; the
// [Reader] feeds it the WAL data of each XLogData message in order.
//
// The decoder remembers the relations Postgres described, the transaction
// open between Begin and Commit, and every streamed transaction between
// its first StreamStart and its StreamCommit or StreamAbort. Streamed rows
// are buffered, tagged with their subtransaction, because they can still
// abort; a StreamAbort drops the rows of the subtransaction it names (the
// whole transaction when it names the top-level xid).
//
// Rows of the triples and attrs tables become changes; the id of a row
// inserted into transactions becomes the transaction's TxID. A row that
// cannot be decoded (or a TRUNCATE of triples or attrs) does not stop the
// stream: the transaction is marked Reset with the reason, so a consumer
// treats everything as stale rather than lose an update. Messages the
// protocol does not allow where they arrive are errors.
//
// The zero value is ready to use. A Decoder is not safe for concurrent use.
type Decoder struct {
	rels      map[uint32]*relation
	inStream  bool
	streamXid uint32
	cur       *pending            // the open Begin..Commit transaction
	streams   map[uint32]*pending // streamed transactions by top-level xid
}

// pending is a transaction being assembled.
type pending struct {
	xid      uint32
	rels     map[uint32]*relation // relations described inside this stream (streamed only)
	triples  tagged[store.TripleChange]
	attrs    tagged[store.AttrChange]
	txids    tagged[store.TxID]
	resets   tagged[string]
	streamed bool
}

// tagged is a list whose items remember the subtransaction that made them,
// so a StreamAbort of a subtransaction can drop exactly its rows. Lists of
// non-streamed transactions keep no tags.
type tagged[T any] struct {
	items []T
	subs  []uint32
}

func (t *tagged[T]) add(streamed bool, sub uint32, v T) {
	t.items = append(t.items, v)
	if streamed {
		t.subs = append(t.subs, sub)
	}
}

func (t *tagged[T]) drop(sub uint32) {
	n := 0
	for i := range t.items {
		if t.subs[i] != sub {
			t.items[n], t.subs[n] = t.items[i], t.subs[i]
			n++
		}
	}
	clear(t.items[n:])
	t.items, t.subs = t.items[:n], t.subs[:n]
}

// Reset forgets every relation and every open or streamed transaction, as
// a new replication connection requires: Postgres describes relations
// again and resends whole transactions after a restart.
func (d *Decoder) Reset() { *d = Decoder{} }

// InStream reports whether the decoder is between a StreamStart and its
// StreamStop, which is how [ParseMessage] must be called next.
func (d *Decoder) InStream() bool { return d.inStream }

// Idle reports whether no transaction is in flight: none open between
// Begin and Commit, none streamed but not yet committed or aborted. Only
// then does a keepalive's WAL position say that every transaction
// committed before it has been sent.
func (d *Decoder) Idle() bool { return d.cur == nil && !d.inStream && len(d.streams) == 0 }

// Decode parses one pgoutput message (the WAL data of an XLogData message
// that started at lsn) and applies it. It returns the transaction the
// message completed (a Commit or StreamCommit) or nil. Errors are
// *[DecodeError]. Decode does not keep data.
func (d *Decoder) Decode(lsn store.LSN, data []byte) (*Transaction, error) {
	msg, err := ParseMessage(data, d.inStream)
	if err != nil {
		op := "message"
		if len(data) > 0 {
			op = pglogrepl.MessageType(data[0]).String()
		}
		return nil, &DecodeError{LSN: lsn, Op: op, Err: err}
	}
	return d.Apply(lsn, msg)
}

// Apply applies one parsed message, as pglogrepl.ParseV2 returns them (the
// protocol 1 types Parse returns are accepted too). lsn is where the
// message started, for errors. It returns the transaction msg completed,
// or nil.
func (d *Decoder) Apply(lsn store.LSN, msg pglogrepl.Message) (*Transaction, error) {
	tx, err := d.apply(lsn, msg)
	if err != nil {
		return nil, &DecodeError{LSN: lsn, Op: msg.Type().String(), Err: err}
	}
	return tx, nil
}

func (d *Decoder) apply(lsn store.LSN, msg pglogrepl.Message) (*Transaction, error) {
	switch m := msg.(type) {
	case *pglogrepl.BeginMessage:
		if d.inStream || d.cur != nil {
			return nil, fmt.Errorf("%w: begin inside a transaction", ErrProtocol)
		}
		d.cur = &pending{xid: m.Xid}
	case *pglogrepl.CommitMessage:
		if d.inStream || d.cur == nil {
			return nil, fmt.Errorf("%w: commit outside a transaction", ErrProtocol)
		}
		p := d.cur
		d.cur = nil
		return p.transaction(store.LSN(m.CommitLSN), store.LSN(m.TransactionEndLSN), m), nil

	case *pglogrepl.RelationMessageV2:
		d.relation(&m.RelationMessage)
	case *pglogrepl.RelationMessage:
		d.relation(m)

	case *pglogrepl.InsertMessageV2:
		return nil, d.row(lsn, pglogrepl.MessageTypeInsert, m.Xid, m.RelationID, 0, nil, m.Tuple)
	case *pglogrepl.InsertMessage:
		return nil, d.row(lsn, pglogrepl.MessageTypeInsert, 0, m.RelationID, 0, nil, m.Tuple)
	case *pglogrepl.UpdateMessageV2:
		return nil, d.row(lsn, pglogrepl.MessageTypeUpdate, m.Xid, m.RelationID, m.OldTupleType, m.OldTuple, m.NewTuple)
	case *pglogrepl.UpdateMessage:
		return nil, d.row(lsn, pglogrepl.MessageTypeUpdate, 0, m.RelationID, m.OldTupleType, m.OldTuple, m.NewTuple)
	case *pglogrepl.DeleteMessageV2:
		return nil, d.row(lsn, pglogrepl.MessageTypeDelete, m.Xid, m.RelationID, m.OldTupleType, m.OldTuple, nil)
	case *pglogrepl.DeleteMessage:
		return nil, d.row(lsn, pglogrepl.MessageTypeDelete, 0, m.RelationID, m.OldTupleType, m.OldTuple, nil)
	case *pglogrepl.TruncateMessageV2:
		return nil, d.truncate(m.Xid, &m.TruncateMessage)
	case *pglogrepl.TruncateMessage:
		return nil, d.truncate(0, m)

	case *pglogrepl.StreamStartMessageV2:
		if d.inStream || d.cur != nil {
			return nil, fmt.Errorf("%w: stream start inside a transaction", ErrProtocol)
		}
		d.inStream, d.streamXid = true, m.Xid
		if d.streams == nil {
			d.streams = make(map[uint32]*pending)
		}
		if p := d.streams[m.Xid]; p == nil || m.FirstSegment == 1 {
			d.streams[m.Xid] = &pending{xid: m.Xid, streamed: true}
		}
	case *pglogrepl.StreamStopMessageV2:
		if !d.inStream {
			return nil, fmt.Errorf("%w: stream stop outside a stream", ErrProtocol)
		}
		d.inStream = false
	case *pglogrepl.StreamCommitMessageV2:
		if d.inStream || d.cur != nil {
			return nil, fmt.Errorf("%w: stream commit inside a transaction", ErrProtocol)
		}
		p := d.streams[m.Xid]
		delete(d.streams, m.Xid)
		if p != nil && len(p.rels) > 0 {
			// pgoutput counts a schema sent inside a stream that commits
			// as sent for the ordinary transactions after it too.
			if d.rels == nil {
				d.rels = make(map[uint32]*relation)
			}
			for id, r := range p.rels {
				d.rels[id] = r
			}
		}
		if p == nil {
			// Postgres sends every segment of a streamed transaction
			// again after a restart, so this should not happen; if it
			// does, rows are missing and only a reset is safe.
			p = &pending{xid: m.Xid}
			p.resets.add(false, 0, fmt.Sprintf("stream commit of xid %d that was never streamed", m.Xid))
		}
		return p.transaction(store.LSN(m.CommitLSN), store.LSN(m.TransactionEndLSN), &pglogrepl.CommitMessage{CommitTime: m.CommitTime}), nil
	case *pglogrepl.StreamAbortMessageV2:
		if d.inStream || d.cur != nil {
			return nil, fmt.Errorf("%w: stream abort inside a transaction", ErrProtocol)
		}
		p := d.streams[m.Xid]
		switch {
		case p == nil:
		case m.SubXid == m.Xid || m.SubXid == 0:
			delete(d.streams, m.Xid)
		default:
			p.triples.drop(m.SubXid)
			p.attrs.drop(m.SubXid)
			p.txids.drop(m.SubXid)
			p.resets.drop(m.SubXid)
		}

	case *pglogrepl.OriginMessage, *pglogrepl.TypeMessageV2, *pglogrepl.TypeMessage,
		*pglogrepl.LogicalDecodingMessageV2, *pglogrepl.LogicalDecodingMessage:
		// Nothing the consumer needs: origins name a replication source,
		// type messages describe custom types (ours are built in), and
		// logical decoding messages are not used yet.
	default:
		return nil, fmt.Errorf("%w: unexpected %T", ErrProtocol, msg)
	}
	return nil, nil
}

// relation records a Relation message. Inside a stream it describes the
// relation for that streamed transaction only until it commits, because
// it may still abort (and with it an ALTER TABLE the schema reflects).
// Postgres sends the schema once per streamed transaction; once one
// commits it counts the schema as sent for ordinary transactions too, so
// StreamCommit makes the stream's relations everyone's.
func (d *Decoder) relation(m *pglogrepl.RelationMessage) {
	r := newRelation(m)
	if d.inStream {
		p := d.streams[d.streamXid]
		if p.rels == nil {
			p.rels = make(map[uint32]*relation)
		}
		p.rels[r.id] = r
		return
	}
	if d.rels == nil {
		d.rels = make(map[uint32]*relation)
	}
	d.rels[r.id] = r
}

// target returns the transaction a row message belongs to and the
// relation it names.
func (d *Decoder) target(relID uint32) (*pending, *relation, error) {
	var p *pending
	var r *relation
	if d.inStream {
		p = d.streams[d.streamXid]
		r = p.rels[relID]
	} else {
		p = d.cur
	}
	if p == nil {
		return nil, nil, fmt.Errorf("%w: row outside a transaction", ErrProtocol)
	}
	if r == nil {
		r = d.rels[relID]
	}
	if r == nil {
		return nil, nil, fmt.Errorf("%w: relation %d was never described", ErrProtocol, relID)
	}
	return p, r, nil
}

// row applies an Insert, Update or Delete. Problems with the row itself
// mark the transaction Reset; only protocol violations are errors.
func (d *Decoder) row(lsn store.LSN, op pglogrepl.MessageType, sub, relID uint32, oldKind uint8, oldTup, newTup *pglogrepl.TupleData) error {
	p, r, err := d.target(relID)
	if err != nil {
		return err
	}
	if r.table == tableOther {
		return nil
	}
	for _, t := range []*pglogrepl.TupleData{oldTup, newTup} {
		if t != nil && len(t.Columns) != r.ncols {
			return fmt.Errorf("%w: %s row has %d columns, relation has %d", ErrProtocol, r.qualified(), len(t.Columns), r.ncols)
		}
	}
	if err := p.add(op, sub, r, oldKind, oldTup, newTup); err != nil {
		p.resets.add(p.streamed, sub, (&DecodeError{LSN: lsn, Op: op.String(), Err: err}).Error())
	}
	return nil
}

func (p *pending) add(op pglogrepl.MessageType, sub uint32, r *relation, oldKind uint8, oldTup, newTup *pglogrepl.TupleData) error {
	// An old row is whole only under REPLICA IDENTITY FULL ('O'); a key
	// ('K') lacks the value, and an update without either lacks everything.
	var old *pglogrepl.TupleData
	if oldKind == pglogrepl.UpdateMessageTupleTypeOld {
		old = oldTup
	}
	needOld := op != pglogrepl.MessageTypeInsert && r.table != tableTransactions
	if needOld && old == nil {
		return fmt.Errorf("%w: %s %s without the old row (REPLICA IDENTITY is not FULL)", ErrRow, op, r.qualified())
	}
	var oldRow, newRow row
	if old != nil {
		oldRow = row{rel: r, tup: old}
	}
	if newTup != nil {
		newRow = row{rel: r, tup: newTup, old: old}
	}
	switch r.table {
	case tableTransactions:
		if op != pglogrepl.MessageTypeInsert {
			return nil // tx-ids are made by inserts; later edits to the row change no data
		}
		id, err := newRow.txID()
		if err != nil {
			return err
		}
		p.txids.add(p.streamed, sub, id)
	case tableTriples:
		c := store.TripleChange{Op: storeOp(op)}
		var err error
		if oldRow.tup != nil {
			if c.Old, c.OldFlags, err = oldRow.triple(); err != nil {
				return err
			}
		}
		if newRow.tup != nil {
			if c.New, c.NewFlags, err = newRow.triple(); err != nil {
				return err
			}
		}
		p.triples.add(p.streamed, sub, c)
	case tableAttrs:
		c := store.AttrChange{Op: storeOp(op)}
		var err error
		if oldRow.tup != nil {
			if c.Old, err = oldRow.attr(); err != nil {
				return err
			}
		}
		if newRow.tup != nil {
			if c.New, err = newRow.attr(); err != nil {
				return err
			}
		}
		p.attrs.add(p.streamed, sub, c)
	}
	return nil
}

func storeOp(t pglogrepl.MessageType) store.Op {
	switch t {
	case pglogrepl.MessageTypeInsert:
		return store.OpInsert
	case pglogrepl.MessageTypeUpdate:
		return store.OpUpdate
	}
	return store.OpDelete
}

// truncate marks the transaction Reset when it empties triples or attrs:
// a TRUNCATE names no rows, so no per-row change can describe it.
func (d *Decoder) truncate(sub uint32, m *pglogrepl.TruncateMessage) error {
	for _, id := range m.RelationIDs {
		p, r, err := d.target(id)
		if err != nil {
			return err
		}
		if r.table == tableTriples || r.table == tableAttrs {
			p.resets.add(p.streamed, sub, "truncate "+r.qualified())
		}
	}
	return nil
}

// transaction assembles the committed transaction.
func (p *pending) transaction(commit, end store.LSN, m *pglogrepl.CommitMessage) *Transaction {
	tx := &Transaction{
		Change: store.Change{
			LSN:     commit,
			Triples: p.triples.items,
			Attrs:   p.attrs.items,
		},
		EndLSN:     end,
		CommitTime: m.CommitTime,
		Xid:        p.xid,
	}
	if len(p.txids.items) > 0 {
		// One transactions row per Postgres transaction is the writer's
		// contract; should there be more, the first one names it.
		tx.TxID = p.txids.items[0]
	}
	if n := len(p.resets.items); n > 0 {
		tx.Reset = true
		tx.ResetReason = p.resets.items[0]
		if n > 1 {
			tx.ResetReason += fmt.Sprintf(" (and %d more: %s)", n-1, strings.Join(p.resets.items[1:min(n, 4)], "; "))
		}
	}
	return tx
}
