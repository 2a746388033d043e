// Package wal tails Postgres's write-ahead log by logical replication
// (jackc/pglogrepl, the pgoutput plugin, protocol version 2) and decodes
// each committed transaction into a [Transaction]: a store.Change (the
// tx-id of the transactions row the writer inserted, the commit LSN, and
// the triple and attr changes in commit order) plus a Reset flag meaning
// "everything may be stale".
//
// The package has two halves (STYLE.md L4). The pure half parses and
// decodes: [ParseMessage] checks a message's framing and hands it to
// pglogrepl.ParseV2, and the [Decoder] turns the message stream into
// transactions, buffering streamed transactions until they commit. It
// does no IO and is tested and fuzzed without Postgres. The IO half, the
// [Reader], owns a replication connection: it keeps a permanent slot,
// streams from the slot's confirmed position, feeds the decoder, hands
// each transaction to the consumer's [Config.Handle], and acknowledges an
// LSN to Postgres only once every transaction up to it has been handled.
//
// Delivery is at least once on the wire and exactly once to the consumer
// while a Reader lives: a transaction whose commit LSN is not past the
// last handled one is skipped. When the reader cannot rule out a gap (its
// slot vanished and had to be made again, or moved past what this reader
// acknowledged) it hands the consumer a [Transaction] with Reset set
// rather than lose an update.
//
// The main loop ([Reader.Open] starts it, [Reader.Close] stops it):
//
//	connect (replication=database) → ensure slot → START_REPLICATION at 0
//	loop: receive with a deadline at the next status time
//	      keepalive → note server WAL end; reply at once if asked
//	      XLogData  → Decoder.Decode → committed Transaction → queue
//	      deadline  → StandbyStatusUpdate(handled position)
//	lost connection → back off (exponential, jittered) → reconnect
//
// A second goroutine takes transactions off the bounded queue and calls
// Handle; a slow consumer fills the queue, which stops the receive loop
// from reading (Postgres then stops sending) while it still answers
// keepalives.
package wal
