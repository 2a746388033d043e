// Package wal tails Postgres's write-ahead log by logical replication
// (jackc/pglogrepl, the pgoutput plugin, protocol version 2) and decodes
// each committed transaction into a [Transaction]: a store.Change (the
// tx-id of the transactions row the writer inserted, zero when there is
// none; the commit LSN; the triple and attr changes in commit order) plus a
// Reset flag meaning "everything may be stale".
//
// # Two halves
//
// The pure half parses and decodes (STYLE.md L4): [ParseMessage] checks a
// message's framing and hands it to pglogrepl.ParseV2 (which trusts its
// input and would panic on short messages), and the [Decoder] turns the
// message stream into transactions. It maps columns by name from each
// Relation message, takes TOASTed columns an UPDATE left alone from the
// old row (REPLICA IDENTITY FULL sends it whole), buffers streamed
// transactions per subtransaction until StreamCommit, and marks a
// transaction Reset for what rows cannot say (a TRUNCATE, an undecodable
// row). It does no IO and is tested and fuzzed without Postgres.
//
// The IO half, the [Reader], owns one replication connection at a time:
// it keeps a permanent slot ([SlotName] of a stable instance id), streams
// from the slot's confirmed position, feeds the decoder, hands each
// transaction to [Config.Handle], and acknowledges a position to Postgres
// only once every transaction before it has been handled.
//
// # Guarantees
//
// Delivery is at least once on the wire and exactly once to Handle while
// a Reader lives: a transaction whose commit LSN is before the end of the
// last handled one is skipped. Close confirms the handled position with
// the server (ending the copy stream, whose answer proves the report was
// read), so the next reader on the slot does not see those transactions
// again; only a crash of the reader's process redelivers, up to one
// [Config.StatusInterval] of them.
//
// When the reader cannot rule out a gap it hands Handle a [Transaction]
// with Reset set rather than lose an update: the slot vanished (or lost
// its WAL) and was made again while the reader ran, or the slot's
// confirmed position is ahead of anything this reader acknowledged
// (another process consumed it). A reset is never lost to a Handle error:
// if Handle fails on it, or it was still queued behind the transaction
// that failed, the next connection emits it again.
//
// A Handle error does not stop the reader. It ends the replication
// connection, empties the queue and, after a backoff, streams again from
// the slot's confirmed position: nothing after the failed transaction
// was acknowledged, so the slot sends it and everything after it again,
// and what was handled before it is skipped. Ending the connection
// matters when Postgres shuts down: its walsender waits for the reader to
// confirm everything it sent, which a failing consumer never does.
//
// # The main loop
//
// [Reader.Open] connects and starts two goroutines; [Reader.Close] stops
// them:
//
//	receive: connect (replication=database) → ensure slot → START_REPLICATION 0
//	  loop: ReceiveMessage under a deadline at the next status time (STYLE.md C3)
//	    keepalive → note the server's WAL end; reply at once if asked
//	    XLogData  → Decoder.Decode → committed Transaction → bounded queue
//	    deadline  → StandbyStatusUpdate(handled position)
//	  lost connection → jittered exponential backoff → reconnect
//	deliver: queue → skip duplicates → Handle → mark handled
//	  Handle error → end the connection, empty the queue → backoff → reconnect
//
// A slow consumer fills the queue; the receive loop then stops reading
// (so Postgres stops sending) but keeps reporting its position so the
// walsender does not time it out. Between transactions, a keepalive's WAL
// position may be acknowledged once everything queued before it is
// handled, so a slot does not hold WAL that carries nothing for it.
// [Reader.Stats] exposes the handled and acknowledged positions and the
// lag, in bytes and in commit time, for metrics.
package wal
