package pg

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/triplesync/triplesync/query"
	"github.com/triplesync/triplesync/store"
)

// Import writes attrs and triples straight into the tables, keeping each
// triple's CreatedAt: the fixture loader of the tests.
func Import(ctx context.Context, pool *pgxpool.Pool, attrs *store.Attrs, triples []store.Triple) error {
	b := &pgx.Batch{}
	for _, a := range attrs.All() {
		b.Queue(insertAttr, attrArgs(a)...)
	}
	var rows tripleRows
	for _, t := range triples {
		a, ok := attrs.ByID(t.A)
		if !ok {
			return fmt.Errorf("import %s: unknown attr", t)
		}
		rows.add(t, a.Flags())
	}
	rows.queueInsert(b)
	return pool.SendBatch(ctx, b).Close()
}

// ReadTrips is Read that reports the round trips its source made.
func (db *DB) ReadTrips(ctx context.Context, fn func(src query.Source) error) (int, error) {
	return db.read(ctx, fn)
}

// SortKey exposes sortKey to the tests that compare it with SQL.
func SortKey(v store.Value) ([]byte, bool) { return sortKey(v) }
