package wal

import (
	"time"

	"github.com/triplesync/triplesync/store"
)

// Transaction is one committed Postgres transaction as the [Decoder]
// decodes it and the [Reader] delivers it: the store.Change (tx-id, commit
// LSN, triple and attr changes in commit order) plus what the wal edge
// knows beyond it.
//
// Reset set means "everything may be stale": the transaction changed
// triples or attrs in a way that cannot be listed row by row (a TRUNCATE,
// a row that could not be decoded, an old row REPLICA IDENTITY did not
// send), or the reader could not rule out a gap in the stream (its slot
// was dropped and recreated, or moved past what this reader handled). A
// consumer must then treat every subscription as stale. Triples and Attrs
// still hold whatever did decode, for logging; they are not complete.
//
// A reset the reader itself emits carries no changes, a zero TxID, and as
// LSN and EndLSN the position streaming resumes from.
type Transaction struct {
	store.Change

	// EndLSN is the end of the commit record: once the transaction is
	// handled, the reader acknowledges it to Postgres, and a slot
	// restarted there does not send the transaction again.
	EndLSN store.LSN

	// CommitTime is the commit timestamp Postgres recorded.
	CommitTime time.Time

	// Xid is the Postgres transaction id (not the tx-id clients see).
	Xid uint32

	// Reset means the consumer must treat everything as stale; see above.
	Reset bool

	// ResetReason says why Reset is set, for logs.
	ResetReason string
}

// Empty reports whether tx carries nothing a consumer acts on: no changes,
// no tx-id and no reset. The reader acknowledges such transactions without
// handing them to the consumer.
func (tx *Transaction) Empty() bool {
	return !tx.Reset && tx.TxID == 0 && len(tx.Triples) == 0 && len(tx.Attrs) == 0
}
