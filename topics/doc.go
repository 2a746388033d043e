// Package topics is the server's vocabulary for "which live queries could a
// committed change affect?".
//
// A [Topic] is a vector [idx e a v]. Each of e, a and v is a [Part]: the
// wildcard, a set of constants, or (for v only) a comparison such as
// {"$gt": 5} or {"$like": "a%"}. Idx is a set of [store.IndexFlags] bits,
// zero meaning any index. Two topics match when every part intersects: a
// set intersects a set when they share an element, a comparison intersects
// a set when some element satisfies it, and the wildcard intersects
// everything but an empty set. The comparisons use the value order of [store.Compare], the
// same order the query engine sorts and filters by.
//
// A committed change gives concrete topics ([OfChange]): an inserted,
// updated or deleted triple gives [its index flags, {e}, {a}, {old v, new v}];
// a changed attribute gives a topic on the attribute and one on the
// [SchemaAttr] pseudo-attribute naming the namespaces the attribute belongs
// to or points at, so queries whose names resolve through it re-run.
//
// A live query gives topics from its datalog patterns ([Pattern.Coarse]):
// bound positions become sets or comparisons, variables become wildcards.
// Those coarse topics are registered before the query first runs. After a
// run, a variable may be narrowed ([Pattern.Narrow]) to the values the run
// found for it; see there for when that is sound. (Package invalidator
// translates the query package's patterns and results into these.)
//
// [Index] holds the registered topics of every subscription and answers
// [Index.Lookup] for the topics of a change. It is keyed by entity, or by
// attribute then value, with sorted lists for ranges and separate lists for
// other comparisons and wildcards, so a lookup costs about its matches, not
// the number of subscriptions. Topics are coarse on purpose: a false match costs
// one re-run, a miss loses an update, which must never happen.
//
// The package is pure: no IO, no goroutines, no clocks.
package topics
