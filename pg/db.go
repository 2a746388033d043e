package pg

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/jackc/pgx/v5"
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
// Beginning the transaction costs one round trip, which also reads which
// attributes are indexed and which are links (the scans' SQL depends on
// it) and sets three planner switches for the transaction. Sequential
// scans are off: every scan has an index made for it (see the package
// comment), and the planner's default costs otherwise prefer reading the
// whole triples table once a set of entities passes a few percent of it,
// which measured six times slower than the primary key. Parallel query is
// off: a page of a live query is a few index scans, better run alone than
// with workers started for every subscriber. JIT is off: it compiles any
// plan whose cost passes a threshold (a disabled sequential scan of a
// seven-row table does), which cost 40 to 160 ms for queries that run in
// microseconds.
//
// Read returns fn's error as it is, or the error of beginning the
// transaction.
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
	src := &source{ctx: ctx, conn: conn, attrs: map[store.AttrID]attrKind{}}
	b := &pgx.Batch{}
	b.Queue("begin isolation level repeatable read read only")
	b.Queue("set local max_parallel_workers_per_gather = 0")
	b.Queue("set local enable_seqscan = off")
	b.Queue("set local jit = off")
	b.Queue(selectAttrKinds).Query(src.collectAttrKinds)
	if err := conn.SendBatch(ctx, b).Close(); err != nil {
		return 0, fmt.Errorf("read: begin: %w", err)
	}
	// A read-only transaction has nothing to commit.
	defer conn.Exec(context.WithoutCancel(ctx), "rollback")
	err = fn(src)
	src.closed = true
	return src.trips, err
}
