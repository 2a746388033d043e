package pg

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/triplesync/triplesync/query"
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
// Read returns fn's error as it is, or the error of beginning or ending
// the transaction.
func (db *DB) Read(ctx context.Context, fn func(src query.Source) error) error {
	_, err := db.read(ctx, fn)
	return err
}

// read is Read that also reports the round trips the source made.
func (db *DB) read(ctx context.Context, fn func(src query.Source) error) (trips int, err error) {
	tx, err := db.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return 0, fmt.Errorf("read: begin: %w", err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx)) // a read-only transaction has nothing to commit
	src := &source{ctx: ctx, tx: tx}
	err = fn(src)
	src.closed = true
	return src.trips, err
}
