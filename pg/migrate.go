package pg

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// Beginner starts transactions: *pgx.Conn, *pgxpool.Pool and *pgxpool.Conn
// all satisfy it.
type Beginner interface {
	Begin(ctx context.Context) (pgx.Tx, error)
}

// migrateLock is the pg_advisory_xact_lock key every migration transaction
// takes ("tripsync" in ASCII), so servers starting at once take turns.
const migrateLock int64 = 0x7472697073796e63

// versionTable records each applied migration.
const versionTable = "triplesync_schema_version"

// Migrate brings the database to [SchemaVersion], applying each missing
// migration in its own transaction; on an up-to-date database it changes
// nothing, so every server runs it at start. Errors are wrapped as
// "migrate: ..."; a database migrated by a newer binary gives
// [ErrSchemaTooNew].
func Migrate(ctx context.Context, db Beginner) error {
	for _, m := range migrations {
		if err := apply(ctx, db, m); err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
	}
	return nil
}

// apply runs one migration unless it is already applied. The version is
// read under the lock, inside the migration's own transaction, so of two
// servers racing the second sees the first's work.
func apply(ctx context.Context, db Beginner, m migration) error {
	tx, err := db.Begin(ctx)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx)) // no-op after Commit

	if _, err := tx.Exec(ctx, "select pg_advisory_xact_lock($1)", migrateLock); err != nil {
		return fmt.Errorf("lock: %w", err)
	}
	if _, err := tx.Exec(ctx, `create table if not exists `+versionTable+` (
		version    int PRIMARY KEY,
		name       text NOT NULL,
		applied_at timestamptz NOT NULL DEFAULT now())`); err != nil {
		return fmt.Errorf("create %s: %w", versionTable, err)
	}
	current, err := version(ctx, tx)
	if err != nil {
		return err
	}
	if current > SchemaVersion {
		return fmt.Errorf("%w: database at version %d, this binary at %d", ErrSchemaTooNew, current, SchemaVersion)
	}
	if current >= m.version {
		return nil
	}
	if current != m.version-1 {
		return fmt.Errorf("apply %d %s: database at version %d skips a step", m.version, m.name, current)
	}
	if _, err := tx.Exec(ctx, m.sql); err != nil {
		return fmt.Errorf("apply %d %s: %w", m.version, m.name, err)
	}
	if _, err := tx.Exec(ctx, "insert into "+versionTable+" (version, name) values ($1, $2)", m.version, m.name); err != nil {
		return fmt.Errorf("record %d %s: %w", m.version, m.name, err)
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("commit %d %s: %w", m.version, m.name, err)
	}
	return nil
}

// AppliedVersion returns the schema version the database is at: 0 before
// the first [Migrate].
func AppliedVersion(ctx context.Context, db Beginner) (int, error) {
	tx, err := db.Begin(ctx)
	if err != nil {
		return 0, fmt.Errorf("schema version: %w", err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	var exists bool
	if err := tx.QueryRow(ctx, "select to_regclass($1) is not null", versionTable).Scan(&exists); err != nil {
		return 0, fmt.Errorf("schema version: %w", err)
	}
	if !exists {
		return 0, nil
	}
	return version(ctx, tx)
}

func version(ctx context.Context, tx pgx.Tx) (int, error) {
	var v int
	if err := tx.QueryRow(ctx, "select coalesce(max(version), 0) from "+versionTable).Scan(&v); err != nil {
		return 0, fmt.Errorf("schema version: %w", err)
	}
	return v, nil
}
