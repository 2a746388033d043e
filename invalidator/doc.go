// Package invalidator turns committed changes into stale live queries.
//
// The server registers every live query a session subscribes to. A query's
// registration is shared by every session that subscribes to the same
// [QueryKey] (the query's canonical text and a permission context the
// caller supplies), so a thousand clients watching the same list cost one
// set of topics in the [topics.Index]. For each committed transaction the
// WAL reader decodes (a [store.Change]), [Invalidator.Apply] computes the
// change's topics, looks up the registrations they match, drops those the
// optional fine filter proves unaffected, and marks each remaining
// registration stale for each of its sessions. A session drains its stale
// queries with [Invalidator.TakeStale] (or [Invalidator.TakeStaleTickets],
// [Invalidator.AppendStale], which add the tickets for the re-runs):
// several transactions arriving before it gets round to it coalesce into
// one set of keys and the highest tx-id among them. When the WAL reader cannot rule out a gap (a lost slot,
// a reconnect), [Invalidator.MarkAllStale] marks everything.
//
// # Topics and their life cycle
//
// A registration starts with its query's coarse topics ([Plan].Coarse):
// every triple any of its patterns could ever match. They are registered
// by [Invalidator.Subscribe], before the query first runs, so a write that
// races with the first run still wakes it. After a run the caller may
// narrow them ([Invalidator.Refine]) to the entities and values the run
// found, which is what keeps a query on one todo from waking on every
// other todo's change.
//
// A refinement is only valid for the data it was computed from, so:
//
//   - whenever a registration wakes, it falls back to its coarse topics
//     until the next run refines it again;
//   - [Invalidator.Subscribe], [Invalidator.Begin] and
//     [Invalidator.TakeStaleTickets] hand out a [Ticket] that records how
//     often the registration had woken when the run began (the caller takes
//     it before it starts reading the database); [Invalidator.Refine]
//     installs the refined topics only if the registration has not woken
//     since and is still on its coarse topics.
//
// Why that is enough: a run reads a snapshot taken after its ticket. Every
// change not in that snapshot commits after it, so it is applied after the
// ticket was issued; while the registration is coarse and unwoken, no such
// change matched even the coarse topics, so no change since the snapshot
// touched anything any pattern reads, and topics computed from the
// snapshot describe the data as it is when they are installed. Once
// installed they stay valid until a change matches them (see
// [topics.Pattern.Narrow] for why a narrowed topic is sound as long as the
// data it was narrowed from has not changed in a way that wakes the query).
// If the registration woke meanwhile, the run's result may already be
// stale, the registration is stale for its sessions anyway, and the next
// run refines it. A second session's run of a registration that is
// already refined changes nothing: the installed topics stay valid.
//
// Schema changes: a query names attributes by namespace and label, so its
// coarse topics include [topics.SchemaTopic] of every namespace it names,
// and an attribute change wakes every query naming its namespace (or the
// namespace its link points to), as well as every query reading the
// attribute's triples. Those topics are never narrowed. A registration
// woken by an attribute change (or by [Invalidator.MarkAllStale]) may
// resolve to other attributes now, so its plan is void: until a run
// refines it with a plan parsed against the new attributes
// ([Refinement].Plan), it matches every change and has no fine filter.
//
// # The fine filter
//
// A registration whose [Plan] has a [Filter] (a query with one level whose
// where clause reads only one cardinality-one attribute of the entity
// itself) drops a matching triple change when the entity fails the where
// clause both before and after the transaction: such an entity is in the
// result neither before nor after, and the attribute is not read anywhere
// else, so the result is unchanged. The invalidator has no database: the
// entity's value of the attribute before and after the transaction comes
// from the transaction itself, from the first and last changes to that
// entity and attribute, which is exact because a cardinality-one attribute
// holds at most one value per entity (the change's flags carry
// [store.FlagEA] on both sides, or the filter does not apply). Changes to
// other attributes, attribute changes and a reset always wake.
//
// # Concurrency
//
// An Invalidator is safe for concurrent use: the WAL goroutine calls
// Apply, sessions call the rest. One mutex guards everything; the package
// starts no goroutines and does no IO.
package invalidator
