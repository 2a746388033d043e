// Package store is the pure core's data model: entities, attributes,
// JSON values with one total order, triples, the committed changes the WAL
// reader decodes, and tx-steps.
//
// It holds the in-memory triple store the clients query: a [Snapshot] with
// EAV, AEV, AVE and VAE indexes on tidwall/btree. Snapshots are immutable;
// applying tx-steps returns a new snapshot that shares structure with the
// old one, so replaying a few pending mutations over a large store costs
// the size of the mutations, not of the store.
//
// The package does no IO: no clocks, no randomness, no logging. Times and
// random sources are arguments.
package store
