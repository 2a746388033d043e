// Package store is the pure core's data model: entities, attributes,
// JSON values with one total order, triples, the committed changes the WAL
// reader decodes, and tx-steps.
//
// It holds the in-memory triple store the clients query: a [Snapshot] with
// four indexes on tidwall/btree,
//
//	EAV  every triple, by entity, attribute, value    ([Snapshot.ScanEntity])
//	AEV  every triple, by attribute, entity, value    ([Snapshot.ScanAttr], [Snapshot.ScanAttrFrom] both ways)
//	AVE  unique and indexed attributes, by value      ([Snapshot.ScanAttrValues])
//	VAE  links, by the entity they point at           ([Snapshot.ScanRefs])
//
// typed by an [Attrs] registry. Snapshots are immutable; [Snapshot.Apply]
// applies a batch of [Step]s atomically and returns a new snapshot that
// shares every untouched B-tree node with the old one, so replaying a few
// pending mutations over a large store costs the size of the mutations, not
// of the store, and the old snapshot stays valid for whoever reads it.
// [Load] builds a snapshot from triples in bulk. Both are safe to call
// concurrently on one snapshot.
//
// Writes come from two directions. Clients and the admin API describe them
// InstaML-style as [TxOp]s (create, update, merge, delete, link, unlink by
// namespace and label), which [Transform] turns into steps; the steps travel
// on the wire in InstantDB's JSON array form ([Step.Encode], [DecodeSteps])
// and every side applies the same steps with the same rules. Entities may be
// addressed by a unique attribute's value instead of an id ([LookupRef]);
// lookups are resolved when the steps are applied, on the client and again
// on the server, and one that creates an entity derives its id from the
// attribute and value ([LookupEntityID]) so both sides agree.
//
// The package does no IO: no clocks, no randomness, no logging, no
// goroutines. Times (the created-at of new triples) and id sources are
// arguments.
package store
