// Package reactor is the triplesync client core, used natively by Go
// programs and, compiled to WebAssembly, by browsers (package wasm adds
// IndexedDB storage and the browser's WebSocket on top of the interfaces
// here).
//
// # What it does
//
// A client subscribes to live queries ([Client.SubscribeQuery]) and
// writes ([Client.Transact]). Following InstantDB's Reactor:
//
//   - Each query has its own store ([store.Snapshot]) holding the triples of
//     its last server result: add-query-ok carries the whole result,
//     refresh-ok computations carry deltas (added triples, removed keys)
//     or, marked full, the whole result again. A result stored by an
//     earlier run is delivered at once, marked FromCache, before the
//     server answers.
//   - A write becomes tx-steps ([store.Transform]), is stored as a pending
//     mutation (one storage record each), and is replayed at once over
//     a copy-on-write copy of every query's store: subscribers whose
//     result changed are called back before the server has seen the
//     write. A mutation that does not apply to some query's store is
//     skipped there. The server confirms with a tx-id or rejects; a
//     rejected mutation is removed, results are recomputed without it and
//     the error reaches the writer. Attributes a write defines
//     ([Config.CreateMissingAttrs]) get ids derived from namespace and
//     label ([store.AttrIDFor]), so two clients defining one at once send
//     the same add-attr and the server applies it once. A query's replay
//     skips the mutations that provably cannot change its result (they
//     write entities its store does not hold, that nothing links to and
//     that no top-level where clause admits; see prune.go).
//   - A pending mutation is replayed over a query while it has no tx-id,
//     or a tx-id above the query's processed-tx-id: the server's result
//     does not include it yet. A confirmed mutation is dropped once every
//     subscribed query's processed-tx-id has reached it, and every cached
//     query it is relevant to (a restarted page shows those before
//     subscribing), and the registry shows the attributes it defines, so
//     a confirmed write never disappears and comes back. A refresh-ok's
//     processed-tx-id counts for every query the server has answered on
//     the connection, not only those it carries: the server drains all of
//     a session's stale queries before sending one (session/doc.go).
//   - A mutation is replayed only over queries that read a namespace it
//     writes (see relevance.go): a write costs queries of other
//     namespaces nothing. Replays are cached per query, so a new write
//     costs one Apply per affected query, and runs of mutations are
//     applied as one batch.
//   - Callbacks fire only when what the subscriber sees changed: the
//     result tree and page info (compared as canonical JSON), the error,
//     or FromCache.
//   - The connection is watched ([Client.SubscribeStatus]: connecting,
//     online, offline, error). After it drops the client reconnects with
//     exponential backoff and jitter, sends init, re-adds its queries
//     under the same query-ids (the server answers with full results) and
//     re-sends its unconfirmed mutations in order under their original
//     mutation-ids (the server applies each once).
//   - A query the server refused is asked again, once, each time the
//     client learns that the server's registry grew (its own attribute
//     definitions confirmed, or a new registry), if it parses against the
//     client's registry: a query naming an attribute about to be defined
//     comes alive without a reconnect, and a refusal never loops.
//   - Query-ids are hashes of the query's canonical text ([QueryID]), so
//     a cached result is found again after a restart; the attribute
//     registry is stored too, so cached queries parse offline.
//   - Cached queries are garbage-collected by age, count and size.
//
// # Structure
//
// [Core] is a state machine in the style of etcd raft's RawNode. It does
// no IO, starts no goroutines and reads no clock or randomness of its own
// (both are in [Config]). Inputs are method calls: [Core.Load] (storage
// read), [Core.Subscribe], [Core.Unsubscribe], [Core.Transact] (the
// user), [Core.ConnOpened], [Core.ConnClosed], [Core.Step] (the
// transport), [Core.Tick] (a timer), [Core.Close]. Outputs wait in a
// [Ready] — storage writes, messages to send, whether to dial or hang up,
// callbacks, the next timer — which documents the order a driver must act
// in; [Core.Advance] acknowledges it.
//
// [Client] is the driver: one goroutine that feeds the core and does its
// IO, holding no logic, plus one that runs user callbacks in order.
// [Transport] and [Storage] are interfaces: reactor/wsconn dials with
// gorilla/websocket, reactor/filestore keeps records in a directory,
// [MemStorage] in memory; reactortest.TestStorage is the contract every
// storage passes. The core and the driver compile for GOOS=js
// GOARCH=wasm; the native transport and file storage live in their own
// packages.
package reactor
