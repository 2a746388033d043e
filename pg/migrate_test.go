package pg_test

import (
	"context"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/triplesync/triplesync/internal/pgtest"
	"github.com/triplesync/triplesync/pg"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

func TestMigrate_Idempotent(t *testing.T) {
	ctx := t.Context()
	pool := mustOpenPool(t, pgtest.New(t).DSN)

	v, err := pg.AppliedVersion(ctx, pool)
	require.NoError(t, err)
	assert.Equal(t, 0, v, "version of an empty database")

	require.NoError(t, pg.Migrate(ctx, pool))
	require.NoError(t, pg.Migrate(ctx, pool), "second Migrate")

	v, err = pg.AppliedVersion(ctx, pool)
	require.NoError(t, err)
	assert.Equal(t, pg.SchemaVersion, v)
	var rows, maxVersion int
	require.NoError(t, pool.QueryRow(ctx,
		"select count(*), max(version) from triplesync_schema_version").Scan(&rows, &maxVersion))
	assert.Equal(t, pg.SchemaVersion, rows, "one row per migration, none twice")
	assert.Equal(t, pg.SchemaVersion, maxVersion)
}

func TestMigrate_Schema(t *testing.T) {
	ctx := t.Context()
	pool := mustOpenPool(t, pgtest.New(t).DSN)
	require.NoError(t, pg.Migrate(ctx, pool))

	for _, table := range []string{"attrs", "triples", "transactions", "triplesync_schema_version"} {
		var exists bool
		require.NoError(t, pool.QueryRow(ctx, "select to_regclass($1) is not null", table).Scan(&exists))
		assert.True(t, exists, "table %s", table)
	}

	indexes := queryStrings(t, pool, "select indexname from pg_indexes where tablename = 'triples'")
	for _, idx := range []string{"triples_pkey", "triples_ea_idx", "triples_av_idx", "triples_ave_idx",
		"triples_vae_idx", "triples_eav_idx", "triples_attr_idx"} {
		assert.Contains(t, indexes, idx)
	}
	assert.Contains(t, queryStrings(t, pool, "select indexname from pg_indexes where tablename = 'attrs'"), "attrs_reverse_key")

	for _, table := range []string{"triples", "attrs"} {
		var ident string
		require.NoError(t, pool.QueryRow(ctx, "select relreplident::text from pg_class where oid = $1::regclass", table).Scan(&ident))
		assert.Equal(t, "f", ident, "replica identity of %s", table)
	}

	published := queryStrings(t, pool, "select tablename from pg_publication_tables where pubname = $1", pg.Publication)
	assert.ElementsMatch(t, []string{"triples", "attrs", "transactions"}, published)
}

// TestMigrate_Concurrent races two servers' migrations on a fresh database:
// without the advisory lock, one of them fails on a duplicate table.
func TestMigrate_Concurrent(t *testing.T) {
	dsn := pgtest.New(t).DSN
	pools := []*pgxpool.Pool{mustOpenPool(t, dsn), mustOpenPool(t, dsn), mustOpenPool(t, dsn)}

	var wg sync.WaitGroup
	errs := make([]error, len(pools))
	start := make(chan struct{})
	for i, p := range pools {
		wg.Go(func() {
			<-start
			errs[i] = pg.Migrate(t.Context(), p)
		})
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		assert.NoError(t, err, "Migrate #%d", i)
	}
	v, err := pg.AppliedVersion(t.Context(), pools[0])
	require.NoError(t, err)
	assert.Equal(t, pg.SchemaVersion, v)
}

func TestMigrate_TooNew(t *testing.T) {
	ctx := t.Context()
	pool := mustOpenPool(t, pgtest.New(t).DSN)
	require.NoError(t, pg.Migrate(ctx, pool))
	_, err := pool.Exec(ctx, "insert into triplesync_schema_version (version, name) values ($1, 'future')", pg.SchemaVersion+1)
	require.NoError(t, err)

	err = pg.Migrate(ctx, pool)
	require.ErrorIs(t, err, pg.ErrSchemaTooNew)
	assert.Regexp(t, `^migrate: `, err.Error())
}

func TestMigrate_WorksOnConn(t *testing.T) {
	ctx := t.Context()
	conn, err := pgx.Connect(ctx, pgtest.New(t).DSN)
	require.NoError(t, err)
	defer conn.Close(context.Background())
	require.NoError(t, pg.Migrate(ctx, conn))
	v, err := pg.AppliedVersion(ctx, conn)
	require.NoError(t, err)
	assert.Equal(t, pg.SchemaVersion, v)
}

// mustOpenPool opens a pool on dsn, closed when the test ends.
func mustOpenPool(tb testing.TB, dsn string) *pgxpool.Pool {
	tb.Helper()
	pool, err := pgxpool.New(tb.Context(), dsn)
	require.NoError(tb, err)
	tb.Cleanup(pool.Close)
	return pool
}

// mustMigrate returns a pool on a fresh, migrated database.
func mustMigrate(tb testing.TB) *pgxpool.Pool {
	tb.Helper()
	pool := mustOpenPool(tb, pgtest.New(tb).DSN)
	require.NoError(tb, pg.Migrate(tb.Context(), pool))
	return pool
}

// querier is what pgxpool.Pool, pgx.Conn and pgx.Tx share for reading.
type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

func queryStrings(tb testing.TB, q querier, sql string, args ...any) []string {
	tb.Helper()
	rows, err := q.Query(tb.Context(), sql, args...)
	require.NoError(tb, err)
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	require.NoError(tb, err)
	return out
}
