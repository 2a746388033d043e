// Package pg is triplesync's Postgres edge: the schema and its
// migrations, the Postgres [query.Source] that live queries run on, and
// transact, which applies tx-steps in one Postgres transaction.
//
// A [DB] wraps a pgx pool:
//
//	db := pg.NewDB(pool, logger)
//	attrs, err := db.LoadAttrs(ctx)                 // the registry
//	err = db.Read(ctx, func(src query.Source) error { // one snapshot
//		res, err = query.Eval(src, q)
//		return err
//	})
//	res, err := db.Transact(ctx, pg.TransactRequest{MutationID: id, Steps: steps, Check: allow})
//
// # Reading
//
// [DB.Read] opens a READ ONLY REPEATABLE READ transaction and hands out a
// source bound to it. Each Scan call (one stage of an evaluation) is one
// pgx batch: one round trip whatever the number of scans. Entity sets go
// as uuid[] and value sets as jsonb arrays; each index of the query
// package maps to the triples index made for it (EAV to the primary key,
// AEV to triples_attr_idx, AVE to triples_ave_idx, VAE to
// triples_vae_idx). Postgres narrows and orders, Go finishes: the rows are
// filtered and sorted again with the query package's own definitions, so
// the answers are exactly those of query.SnapshotSource even where
// triples_sort_key only approximates the store's order (see below); the
// differential tests hold the two sources to it.
//
// # Writing
//
// [DB.Transact] computes a write with the store itself: it loads into a
// store.Snapshot every row the steps can read, runs store.Snapshot.Apply
// on it, and writes the difference, so the server applies steps exactly
// as every client does. Entities are locked with advisory locks before
// they are read; the transactions row, inserted last under a global lock
// held through COMMIT, gives tx-ids in commit order. See [DB.Transact].
//
// # Schema
//
// [Migrate] brings a database to [SchemaVersion]. Each migration runs in its
// own transaction under pg_advisory_xact_lock, so servers starting together
// apply it once, and records itself in triplesync_schema_version. A database
// newer than the binary is refused ([ErrSchemaTooNew]).
//
//   - attrs: one row per attribute (id uuid, namespace, label, value_type,
//     cardinality, is_unique, is_indexed, ref_namespace, reverse_label,
//     on_delete_cascade, created_at); (namespace, label) is unique, and so is
//     (ref_namespace, reverse_label) for links.
//   - triples: (entity_id, attr_id, value jsonb, created_at ms) plus the index
//     flags ea, eav, av, ave, vae, and value_md5 = md5(value::text), a stored
//     generated column. The primary key is (entity_id, attr_id, value_md5).
//     REPLICA IDENTITY FULL, so the WAL carries whole old rows.
//   - transactions: id bigserial is the tx-id clients see; mutation_id is the
//     client's id for the mutation, unique, so a retried send applies once.
//   - publication triplesync on those three tables, for the wal package.
//
// # Indexes of triples
//
// Each flag has a partial index holding just the triples that carry it:
//
//	triples_ea_idx   unique (entity_id, attr_id)           where ea   cardinality one
//	triples_av_idx   unique (attr_id, value_md5)           where av   unique values
//	triples_ave_idx  (attr_id, triples_sort_key(value), entity_id) where ave
//	triples_vae_idx  ((value #>> '{}'), attr_id, entity_id) where vae  reverse links
//	triples_eav_idx  (entity_id, attr_id, value)           where eav  forward links
//	triples_attr_idx (attr_id, entity_id)                  all rows
//
// The primary key serves lookups by entity (and attribute); triples_attr_idx
// serves scans of one attribute (every entity of a namespace through its id
// attribute) and the cascade from attrs.
//
// vae puts the value first: a ref value is a JSON string holding a uuid, so
// `(value #>> '{}') = any($1::text[])` finds the links into a set of entities
// whatever the attribute (deleting an entity), and adding `attr_id = $2`
// narrows to one link (reverse traversal in a query).
//
// ave is ordered by triples_sort_key(value), an IMMUTABLE plpgsql function
// returning bytea whose bytewise order is the store's value order (see
// store.Compare): a kind byte (00 null, 01 boolean, 02 number, 03 string,
// 04 object or array), then
//
//   - boolean: 00 false, 01 true;
//   - number: the float64 the store holds (values beyond the float64 range
//     saturate to ±Infinity, below the smallest subnormal to 0), as 8 bytes
//     whose unsigned order is numeric order (IEEE bits, sign bit flipped for
//     positives, all bits flipped for negatives);
//   - string: its UTF-8 bytes, which order like COLLATE "C" and like Go's
//     string comparison;
//   - object or array: the UTF-8 bytes of value::text. Postgres's text form
//     is not the store's canonical JSON, so the order among objects and
//     arrays is only approximately the store's.
//
// Strings and JSON texts are cut at 1024 bytes so that no key outgrows a
// btree entry; longer values that share those bytes get equal keys. So:
//
//   - one index answers equality, ranges and order: `attr_id = $1 and ave
//     and triples_sort_key(value) > triples_sort_key($2)` and `order by
//     triples_sort_key(value), entity_id`;
//   - a range within one kind is bounded by the next kind byte, e.g. numbers
//     above 5: `triples_sort_key(value) > triples_sort_key('5') and
//     triples_sort_key(value) < decode('03', 'hex')`;
//   - equality and ranges recheck value itself (`and value = $2`) where a
//     string or JSON value can exceed 1024 bytes, and JSON ordering that must
//     match the store exactly is finished in Go.
package pg
