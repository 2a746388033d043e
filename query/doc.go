// Package query is the InstaQL engine: it parses InstantDB-style JSON
// queries, compiles them to datalog patterns (which package topics turns
// into invalidation topics), and evaluates them against a [Source]: the
// in-memory store on clients ([SnapshotSource]), Postgres on the server
// (package pg). One evaluator serves both, so client and server compute the
// same result by construction. The package is pure: it imports only store
// and the standard library, and does no IO.
//
// # Queries
//
//	{"todos": {"$": {"where": {"done": false, "owner.name": "alice"},
//	                 "order": {"rank": "desc"}, "limit": 20},
//	           "owner": {},
//	           "tags": {"$": {"fields": ["label"]}}}}
//
// Top-level keys are namespaces; inside a level, "$" holds options and
// every other key follows a link to a nested level (the link's label from
// the entity holding the ref, or its reverse label from the target), to any
// depth. The entities of a namespace are those holding their id triple
// (<ns>.id = own id); a nested level lists the linked entities that do.
// Several top-level namespaces may be queried at once.
//
// Options:
//
//   - where: an object whose keys all must hold. A key is an attribute, a
//     link, or a dotted path through links ("owner.name",
//     "owner.manager.name", "todos.title" from users), forward and reverse;
//     "id" is the entity's id. A value is compared for equality; an object with "$" keys
//     holds operators, all of which must hold: $in (array), $not and $ne,
//     $isNull (true or false), $gt $gte $lt $lte, $like and $ilike (SQL LIKE:
//     % any run, _ one character, \ escapes; $ilike ignores case). "and"
//     and "or" take arrays of where objects and nest.
//   - order: {"<attr>": "asc" | "desc"} by any attribute of cardinality one;
//     ties break by id in the same direction. The default is id ascending.
//   - limit (or first), offset, and cursors: after and before take the
//     cursors of page info; last takes the last n before "before" (or the
//     end). See [Window].
//   - fields: the attributes to return (id is always returned).
//   - aggregate: "count" returns the number of entities matching where.
//
// Errors are *[Error] values naming the offending place in the query
// ("todos.$.where.title.$gt") and wrapping a sentinel of errors.go.
//
// # Semantics
//
// A where leaf decides a value set: the values of the attribute on the
// entity, or, through a path, on every entity reached by following the
// links (every link, of either cardinality). Null values count as missing.
// Equality, $in, comparisons and likes hold when some value satisfies them
// (a comparison only against values of its operand's JSON type; a like only
// against strings); $not x holds when no value equals x (so also when there
// is none); equality with null and $isNull: true hold when there is no
// value. A forward link's values are the target ids; a reverse link's are
// the ids of the entities linking in. [Pred] and [Level.Match] give the
// exact rules.
//
// Values sort in store's order (null < booleans < numbers < strings <
// JSON). Entities without a value of the order attribute sort last in both
// directions, by id. Cursors ([Cursor]) are positions in that order, so
// paging by "after": endCursor visits every entity once even as others come
// and go.
//
// # Results and their triples
//
// [Eval] returns a [Result]: the tree (InstantDB's shape, with "$pageInfo"
// and "$aggregate" beside the arrays they describe; see [Result]) and
// Result.Triples, the triples that justify it. A client loads exactly
// those triples into an empty store, evaluates the same query with this
// package and gets the same tree, page infos included: page info is not
// carried separately but recomputed. To make that hold the result includes:
//
//   - for every listed entity: its id triple, the triples its where clause
//     reads (along every dotted path: the link triples followed and the
//     attribute triples of every entity reached), its order value, its
//     returned fields, and the link triple from its parent;
//   - the entity just after each page (hasNextPage) and just before it
//     (hasPreviousPage), and with an offset every entity it skips, each
//     with its id, where and order triples;
//   - for every entity whose id triple is included, by whatever level, the
//     where and order triples of every other level over its namespace, so
//     the client decides it the same way there.
//
// The client's matching entities are then a subset of the server's that
// contains every entity that decides a page, so it cuts the same pages.
// Counting needs every matching entity, so an aggregate includes them all;
// offsets cost the entities they skip (cursors are cheaper).
//
// # Patterns
//
// [Query.Patterns] compiles a query to datalog patterns [e a v] with
// variables, constant sets and comparisons, documented there, from which
// package topics derives coarse topics; [Query.Levels] and [Level.Match]
// let the invalidator decide a level's where clause for one changed entity
// from its own values.
//
// # Evaluation
//
// The evaluator asks its [Source] for batches of index scans, one batch per
// stage, so a remote source can answer each stage in one round trip; a
// query takes a few stages per level of nesting, whatever the number of
// entities. A top level that asks for a first page in an indexed order
// reads that index in chunks and stops at the page (where + order + limit
// over 100k entities costs about what the page costs); other levels decide
// all their candidates, found from the where clause's most selective part
// through value scans, or by listing the namespace. The Source contract is
// documented on [Source] and [Scan]; package querytest has the contract
// suite every implementation runs.
package query
