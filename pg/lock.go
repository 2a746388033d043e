package pg

import (
	"cmp"
	"hash/fnv"
	"slices"

	"github.com/triplesync/triplesync/store"
)

// Advisory locks of transact. The constants live in Postgres's one-bigint
// key space (with migrateLock); entities and mutation ids in the two-int4
// space, which never meets it.
const (
	// txIDLock serialises the assignment of tx-ids: see [DB.Transact].
	txIDLock int64 = 0x7472697073796e74 // "tripsynt"
	// schemaLock is taken shared by every transact and exclusive by one
	// carrying attribute steps, whose effects (re-indexing, deleting an
	// attribute's triples) reach entities it does not lock one by one.
	schemaLock int64 = 0x7472697073796e73 // "tripsyns"
)

// lockKey is a two-int4 advisory lock key.
type lockKey struct{ k1, k2 int32 }

func compareLockKeys(a, b lockKey) int {
	if c := cmp.Compare(a.k1, b.k1); c != 0 {
		return c
	}
	return cmp.Compare(a.k2, b.k2)
}

// entityLock is the key of an entity's lock: a 64-bit hash of its id. Two
// entities sharing a key only wait for each other needlessly.
func entityLock(e store.EntityID) lockKey {
	h := fnv.New64a()
	h.Write([]byte{'e'})
	h.Write(e[:])
	return split(h.Sum64())
}

// mutationLock is the key of a mutation id's lock, held while a transact
// checks and records the id, so a retried send waits for the first.
func mutationLock(id string) lockKey {
	h := fnv.New64a()
	h.Write([]byte{'m'})
	h.Write([]byte(id))
	return split(h.Sum64())
}

func split(h uint64) lockKey { return lockKey{int32(h >> 32), int32(h)} }

// lockArgs returns the keys sorted (every transact takes its first locks in
// this one order) and as the two int4 arrays the lock statements take.
func lockArgs(keys []lockKey) (k1, k2 []int32) {
	slices.SortFunc(keys, compareLockKeys)
	keys = slices.Compact(keys)
	for _, k := range keys {
		k1 = append(k1, k.k1)
		k2 = append(k2, k.k2)
	}
	return k1, k2
}

// lockAll takes every lock of the arrays in order, waiting for each.
const lockAll = `select count(pg_advisory_xact_lock(k1, k2)) from unnest($1::int4[], $2::int4[]) as k(k1, k2)`

// tryLocks takes the locks that are free and returns the keys that are not.
const tryLocks = `select k1, k2 from unnest($1::int4[], $2::int4[]) as k(k1, k2) where not pg_try_advisory_xact_lock(k1, k2)`
