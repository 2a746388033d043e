package pg

import (
	"context"
	"fmt"
	"log/slog"
	"sync/atomic"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/triplesync/triplesync/query"
	"github.com/triplesync/triplesync/store"
)

// DB is triplesync's view of one Postgres database migrated by [Migrate]:
// it reads through [DB.Read] and writes through [DB.Transact]. It holds no
// state of its own besides the pool, so any number of DBs (and servers) may
// share a database. A DB is safe for concurrent use.
type DB struct {
	pool   *pgxpool.Pool
	logger *slog.Logger
	// kinds are the attribute kinds the last Read found: the next one
	// builds its first scans with them (see Read).
	kinds atomic.Pointer[map[store.AttrID]attrKind]
}

// NewDB returns a DB over pool. logger receives retries and other events
// worth a line; nil means slog.Default(). NewDB starts nothing: the pool is
// the caller's to open and close.
func NewDB(pool *pgxpool.Pool, logger *slog.Logger) *DB {
	if logger == nil {
		logger = slog.Default()
	}
	return &DB{pool: pool, logger: logger}
}

// Pool returns the pool the DB uses.
func (db *DB) Pool() *pgxpool.Pool { return db.pool }

// Read runs fn with a [query.Source] over one consistent snapshot of the
// database: a READ ONLY REPEATABLE READ transaction, so every stage of an
// evaluation sees the same data, as [query.Eval] requires. src is bound to
// ctx and valid only inside fn; a Scan after fn returns fails with
// [ErrSourceClosed]. Use it as
//
//	err := db.Read(ctx, func(src query.Source) error {
//		res, err = query.Eval(src, q)
//		return err
//	})
//
// The transaction begins with the first Scan, in the same round trip:
// BEGIN, three planner switches for the transaction, a read of which
// attributes are indexed and which are links (the scans' SQL depends on
// it), and the scans themselves, built with the kinds the previous Read
// found. Should this snapshot's kinds differ (a schema change in
// between), the scans' answers are dropped and the scans sent again,
// built right. A Read whose fn never scans opens no transaction.
//
// The switches: sequential scans are off, since every scan has an index
// made for it (see the package comment), and the planner's default costs
// otherwise prefer reading the whole triples table once a set of entities
// passes a few percent of it, which measured six times slower than the
// primary key. Parallel query is off: a page of a live query is a few
// index scans, better run alone than with workers started for every
// subscriber. JIT is off: it compiles any plan whose cost passes a
// threshold (a disabled sequential scan of a seven-row table does), which
// cost 40 to 160 ms for queries that run in microseconds.
//
// Read returns fn's error as it is (an error beginning the transaction
// comes from the first Scan, wrapped by it), or the error of acquiring a
// connection.
func (db *DB) Read(ctx context.Context, fn func(src query.Source) error) error {
	_, err := db.read(ctx, fn)
	return err
}

// read is Read that also reports the round trips the source made.
func (db *DB) read(ctx context.Context, fn func(src query.Source) error) (trips int, err error) {
	conn, err := db.pool.Acquire(ctx)
	if err != nil {
		return 0, fmt.Errorf("read: %w", err)
	}
	defer conn.Release() // pgxpool closes a connection left inside a transaction
	src := &source{ctx: ctx, conn: conn, db: db}
	defer func() {
		if src.begun {
			// A read-only transaction has nothing to commit.
			_, _ = conn.Exec(context.WithoutCancel(ctx), "rollback")
		}
	}()
	err = fn(src)
	src.closed = true
	return src.trips, err
}
