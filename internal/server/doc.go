// Package server assembles a triplesync server from its edges: Postgres
// (pg), the WAL reader (wal), and the sessions with their invalidator
// (session). It is what `triplesync serve` runs, and what integration
// tests, end-to-end tests of clients and benchmarks start in-process.
//
// # Starting one in a test
//
//	db := pgtest.New(t) // a fresh database on a logical-replication cluster
//	srv, err := server.New(server.Config{
//		DSN:        db.DSN,
//		InstanceID: db.Name, // names the replication slot; one per server
//		Session:    session.Config{AdminToken: "secret", Dev: true}, // Dev: no rules needed
//	})
//	require.NoError(t, err)
//	require.NoError(t, srv.Open(t.Context()))
//	t.Cleanup(func() { srv.Close(context.Background()) })
//	ws, _, err := websocket.DefaultDialer.Dial(srv.SessionURL(), nil)
//
// Addr defaults to "127.0.0.1:0", a free port; Server.Addr, Server.URL
// and Server.SessionURL tell where it is. Two servers on one database
// (each with its own InstanceID, so its own slot) behave like two
// production instances: a write through either reaches the sessions of
// both. pgtest drops the test database, and its slots, when the test ends.
//
// # Wiring
//
//	Open: pool → pg.Migrate → WAL reader on slot wal.SlotName(instance)
//	      → max(tx-id) → session.Server.Open (loads the registry)
//	      → processed tx-id = max(tx-id) → HTTP
//	WAL:  wal.Reader → Handle → visibility check (its own connection)
//	      → session.Server.Apply (registry, invalidator, processed tx-id,
//	      wake sessions) → return → the reader acknowledges the LSN
//
// The visibility check waits until the transaction is visible to the
// snapshots re-runs take next (visible.go). When Postgres restarts it
// fails, and so does Handle: the reader then ends its replication
// connection (which a fast shutdown waits for), reconnects with backoff
// and delivers the transaction again, so the server rides the restart
// out without a supervisor (issue 9). Handle never retries by itself.
//
// The reader starts before the registry is loaded and the last tx-id is
// read, so nothing committed after them can be missed; its deliveries wait
// until the session server is open. Handle returns only after the
// invalidator has handled the transaction, so an acknowledged LSN is never
// one whose changes could still be lost.
//
// The slot is permanent: while the server is down Postgres keeps the WAL
// after its position, and the server resumes there. A server retired for
// good must have its slot dropped (DropSlot, `triplesync drop-slot`), or
// the database keeps WAL forever. docs/operations.md has the details.
//
// # Routes
//
//	GET  /healthz          200 while Postgres answers a ping, else 503
//	GET  /metrics          Prometheus metrics (a registry of the server's own)
//	GET  /runtime/session  the WebSocket (docs/protocol.md)
//	POST /admin/query      admin API (Authorization: Bearer <admin token>)
//	POST /admin/transact
package server
