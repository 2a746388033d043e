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
	if err := pool.SendBatch(ctx, b).Close(); err != nil {
		return err
	}
	return ImportTriples(ctx, pool, attrs, triples)
}

// ImportTriples writes triples of attributes already in the attrs table.
func ImportTriples(ctx context.Context, pool *pgxpool.Pool, attrs *store.Attrs, triples []store.Triple) error {
	b := &pgx.Batch{}
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

// Dump returns every triple and attribute in the database, checking that
// each row's flags are its attribute's: the tests' view of the tables.
func Dump(ctx context.Context, pool *pgxpool.Pool) (*store.Attrs, []store.Triple, error) {
	attrs, err := NewDB(pool, nil).LoadAttrs(ctx)
	if err != nil {
		return nil, nil, err
	}
	rows, err := pool.Query(ctx, "select "+rowColumns+" from triples")
	if err != nil {
		return nil, nil, err
	}
	var ts []store.Triple
	var bad error
	err = collectRows(rows, func(r row) {
		ts = append(ts, r.t)
		if a, ok := attrs.ByID(r.t.A); !ok || a.Flags() != r.flags {
			bad = fmt.Errorf("%s has flags %s", r.t, r.flags)
		}
	})
	if err == nil {
		err = bad
	}
	return attrs, ts, err
}

// ParseStored exposes the decoder of stored values to its tests.
func ParseStored(text []byte) (store.Value, error) { return parseStored(text) }
