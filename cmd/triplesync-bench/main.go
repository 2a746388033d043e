// Command triplesync-bench measures a triplesync server end to end: a real
// Postgres (pgtest.StartCluster in a temporary directory), an in-process
// server (internal/server) and real WebSocket clients over loopback.
//
//	go run ./cmd/triplesync-bench           the full run (minutes)
//	go run ./cmd/triplesync-bench -quick    a CI-sized run (about a minute)
//	go run ./cmd/triplesync-bench -h        flags: scenarios and sizes
//
// Scenarios (-scenarios, comma-separated):
//
//   - latency: write → client-applied latency with 1, 100 and 1,000 clients
//     on one query, and 1,000 clients on 1,000 different queries. Writes are
//     sequential SQL UPDATEs of one triple straight to Postgres (the WAL
//     path, not the transact path); the clock starts before the UPDATE is
//     sent and stops when a client has received and decoded (wire.Parse) the
//     refresh-ok carrying the new value.
//   - idle: N sessions with one live query each, opened by a child process
//     (this binary re-executed with -child-idle) so that only the server's
//     memory is measured: Go heap+stacks after GC, and RSS, before and after.
//   - sustained: a write rate held for a duration under many subscribers, a
//     row per interval with push latency, WAL lag (the slot's
//     confirmed_flush_lsn behind pg_current_wal_lsn()) and heap.
//   - invalidate: the summary of `go test -run '^$' -bench
//     BenchmarkInvalidate ./invalidator/` (indexed vs linear), run via exec.
//
// Clients are raw wire-level clients (gorilla/websocket with
// internal/wire's codec), lighter than reactor clients, so thousands fit on
// a small machine.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	m := NewMain()
	if err := m.ParseFlags(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "triplesync-bench:", err)
		os.Exit(2)
	}
	err := m.Run(ctx)
	if cerr := m.Close(context.WithoutCancel(ctx)); err == nil {
		err = cerr
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "triplesync-bench:", err)
		os.Exit(1)
	}
}
