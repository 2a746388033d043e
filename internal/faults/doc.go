// Package faults holds triplesync's fault suite: tests only, on real
// Postgres (internal/pgtest) and real servers (internal/server), with raw
// WebSocket clients speaking internal/wire.
//
// Every case breaks something while writes flow — the walsender is
// terminated, Postgres restarts, a client drops mid-refresh or stops
// reading until the server drops it as a slow consumer, writes go through
// a second server instance — and then asserts that every client converges
// on exactly Postgres's final state, read with SQL straight from the
// triples table: nothing lost (a triple in Postgres that a client lacks),
// nothing left behind (a triple a client holds that Postgres no longer
// has).
//
// A bounded version runs with `go test -race ./internal/faults/`; the soak
// runs longer with TRIPLESYNC_SOAK=1 (and without -short):
//
//	TRIPLESYNC_SOAK=1 go test -race -run Soak -v ./internal/faults/
package faults
