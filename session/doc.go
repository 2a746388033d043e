// Package session is triplesync's client-facing edge: the WebSocket
// protocol of docs/protocol.md at GET /runtime/session, authentication and
// permission rules, the live-query refresh loop, and the admin HTTP API.
//
// # Pieces
//
// A [Server] owns the sessions, the attribute registry, the permission
// rules and an invalidator.Invalidator. It reaches Postgres through a
// [Backend] (package pg's DB, adapted in internal/server) and learns about
// committed transactions through [Server.Apply], which the WAL pipeline
// calls once per transaction in commit order.
//
// Every session runs three goroutines (STYLE.md C5): a reader that only
// decodes frames and forwards them; a worker that handles requests and
// refreshes one at a time; a writer that drains a bounded outbound queue
// and pings. The worker never waits on the network: when a session's queue
// is full the session is closed as a slow consumer ([ErrSlowConsumer]),
// and no other session notices.
//
// # Shared queries
//
// Live queries with the same canonical text and the same permission
// context (perm.Auth.Context) are one shared query, registered once with
// the invalidator and run once for all their subscribers. A run's result
// is an immutable version; a session keeps only a pointer to the last
// version it sent, and the delta between two versions is computed and
// encoded once for all the sessions that need it. Ten thousand sessions
// on one query hold one result.
//
// Runs go through one runner for the whole server: at most
// Config.MaxRuns read transactions at once, and the queries that became
// stale meanwhile run together in the next one, their evaluations in step
// so that each stage's scans of all of them reach Postgres in one batch.
// Under a stream of writes a burst of stale queries costs one transaction,
// not one each.
//
// # The refresh loop
//
//	Apply(change)  → registry updated (attribute changes)
//	               → invalidator marks stale queries (or all, on a reset)
//	               → processed tx-id advances to the change's tx-id
//	               → affected sessions woken
//	worker wakes   → read processed tx-id P, drain the stale set
//	               → each stale query: a version fresh enough (shared run)
//	               → diff against the version last sent (triple sets)
//	               → one refresh-ok {P, changed queries as deltas}
//
// The order matters: P is published only after the invalidator has marked
// what the change made stale, and a session reads P before draining its
// stale set, so after a refresh every result the client holds reflects
// every transaction up to P. A client drops its pending mutations up to P.
// Freshness between shared runs is decided by the invalidator's tickets,
// not by tx-ids, because plain SQL writes carry none.
//
// # Permissions
//
// Every query runs through perm.ViewSource, so a row a user may not view
// is never part of a result, and so never part of a delta. Writes are
// checked inside the Postgres transaction ([TransactRequest.Check]); a
// denied write rolls back with a permission-denied error. Schema steps
// need the admin token or dev mode.
//
// # Errors
//
// Errors sent to clients carry a code (internal/wire's Code constants,
// STYLE.md E4); [Code] maps an error to its code, and anything unmapped
// goes out as internal and is logged.
package session
