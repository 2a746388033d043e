package wal

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/triplesync/triplesync/store"
)

var (
	// ErrMalformed is returned for a pgoutput message whose bytes do not
	// follow the protocol (truncated, a length past the end, an unknown
	// message or tuple kind).
	ErrMalformed = errors.New("wal: malformed message")

	// ErrProtocol is returned for a well-formed message that arrives where the
	// protocol does not allow it: a Commit without a Begin, a row for a
	// relation that was never described, a stream message outside a stream.
	ErrProtocol = errors.New("wal: protocol violation")

	// ErrRow is wrapped by the reasons of a transaction the decoder marked
	// Reset because one of its rows could not be decoded (a malformed uuid
	// or jsonb text, a column missing from the relation, an old row the
	// table's REPLICA IDENTITY did not send).
	ErrRow = errors.New("wal: undecodable row")

	// ErrInvalidConfig is returned by [NewReader] and [Reader.Open] for a
	// [Config] that cannot work.
	ErrInvalidConfig = errors.New("wal: invalid config")

	// ErrSlotMismatch is returned when a replication slot of the configured
	// name exists but cannot serve this reader: it is physical, uses another
	// output plugin, or belongs to another database.
	ErrSlotMismatch = errors.New("wal: replication slot mismatch")

	// ErrClosed is returned by [Reader.Open] on a reader that is already open
	// or was closed.
	ErrClosed = errors.New("wal: reader closed")
)

// DecodeError is the error of a pgoutput message the [Decoder] could not
// take: where in the WAL it came from, what it was, and why.
type DecodeError struct {
	LSN store.LSN // WAL start of the XLogData message that carried it
	Op  string    // pgoutput message type, e.g. "Insert", "StreamCommit"
	Err error     // wraps ErrMalformed, ErrProtocol, ErrRow or a store error
}

func (e *DecodeError) Error() string {
	return fmt.Sprintf("wal: decode %s at %s: %v", e.Op, formatLSN(e.LSN), e.Err)
}

// Unwrap returns the cause.
func (e *DecodeError) Unwrap() error { return e.Err }

// HandleError is the error a [Config.Handle] callback returned, with the
// transaction it could not handle. The [Reader] logs it and reconnects;
// it does not stop.
type HandleError struct {
	LSN  store.LSN // commit LSN of the transaction
	TxID store.TxID
	Err  error
}

func (e *HandleError) Error() string {
	return fmt.Sprintf("wal: handle transaction %d at %s: %v", e.TxID, formatLSN(e.LSN), e.Err)
}

// Unwrap returns the callback's error.
func (e *HandleError) Unwrap() error { return e.Err }

// Retryable reports whether err is worth retrying with a new replication
// connection: the connection was lost or refused, the server is shutting
// down or starting up, the walsender was terminated, the slot is still held
// by a walsender that is going away, or the server ran out of connections
// or WAL senders. Decode errors, handler errors, configuration and
// authentication errors, and a cancelled context are not.
func Retryable(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) && !pgconn.Timeout(err) {
		return false
	}
	var de *DecodeError
	var he *HandleError
	if errors.As(err, &de) || errors.As(err, &he) ||
		errors.Is(err, ErrInvalidConfig) || errors.Is(err, ErrSlotMismatch) || errors.Is(err, ErrClosed) {
		return false
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch {
		case len(pe.Code) >= 2 && pe.Code[:2] == "08": // connection exception
			return true
		case len(pe.Code) >= 2 && pe.Code[:2] == "53": // insufficient resources: too many connections, WAL senders
			return true
		case pe.Code == "57P01", pe.Code == "57P02", pe.Code == "57P03": // admin/crash shutdown, cannot connect now
			return true
		case pe.Code == "55006": // object in use: the slot is still active for a dying walsender
			return true
		case pe.Code == "40001", pe.Code == "40P01": // serialization failure, deadlock (slot creation can hit them)
			return true
		}
		return false
	}
	if pgconn.SafeToRetry(err) || pgconn.Timeout(err) {
		return true
	}
	var ne net.Error
	if errors.As(err, &ne) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed) {
		return true
	}
	var ce *pgconn.ConnectError
	return errors.As(err, &ce) // a connect error without a PgError inside: refused, reset, unreachable
}

// formatLSN writes an LSN the way Postgres does, e.g. 0/16B3748.
func formatLSN(l store.LSN) string { return fmt.Sprintf("%X/%X", uint32(l>>32), uint32(l)) }
