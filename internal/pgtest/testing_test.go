package pgtest_test

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/triplesync/triplesync/internal/pgtest"
)

func TestNew_Isolated(t *testing.T) {
	db1, db2 := pgtest.New(t), pgtest.New(t)
	require.NotEqual(t, db1.Name, db2.Name)
	assert.Regexp(t, `^testnew_isolated_[0-9a-f]{12}$`, db1.Name)

	exec(t, db1.DSN, "create table only_in_one (n int); insert into only_in_one values (1)")
	assert.Equal(t, 1, count(t, db1.DSN, "select count(*) from only_in_one"))
	assert.Equal(t, 0, count(t, db2.DSN, "select count(*) from pg_class where relname = 'only_in_one'"),
		"table of %s visible in %s", db1.Name, db2.Name)
	assert.Equal(t, 1, count(t, db1.AdminDSN, "select count(*) from pg_database where datname = $1", db2.Name))

	var wal string
	conn, err := pgx.Connect(t.Context(), db1.DSN)
	require.NoError(t, err)
	defer conn.Close(context.Background())
	require.NoError(t, conn.QueryRow(t.Context(), "select current_setting('wal_level')").Scan(&wal))
	assert.Equal(t, "logical", wal)
}

// TestNew_DropsDatabase checks the cleanup of New even while a replication
// connection holds a slot in the database and an inactive permanent slot
// exists: DROP DATABASE refuses both unless they are dealt with first.
func TestNew_DropsDatabase(t *testing.T) {
	var name, admin string
	var repl *pgconn.PgConn
	t.Run("sub", func(t *testing.T) {
		db := pgtest.New(t)
		name, admin = db.Name, db.AdminDSN
		exec(t, db.DSN, "select pg_create_logical_replication_slot('"+db.Name+"_perm', 'pgoutput')")

		var err error
		repl, err = pgconn.Connect(t.Context(), db.ReplicationDSN())
		require.NoError(t, err)
		_, err = repl.Exec(t.Context(), "CREATE_REPLICATION_SLOT "+db.Name+"_temp TEMPORARY LOGICAL pgoutput").ReadAll()
		require.NoError(t, err)
		assert.Equal(t, 2, count(t, admin, "select count(*) from pg_replication_slots where database = $1", name))
		// repl stays open past the subtest's end, on purpose.
	})
	defer repl.Close(context.Background())
	require.NotEmpty(t, name)
	assert.Equal(t, 0, count(t, admin, "select count(*) from pg_database where datname = $1", name), "database left behind")
	assert.Equal(t, 0, count(t, admin, "select count(*) from pg_replication_slots where slot_name like $1", name+"%"), "slots left behind")
}

func TestNew_Cluster(t *testing.T) {
	db := pgtest.New(t)
	if db.Cluster == nil {
		t.Skip("TEST_DATABASE_URL names the server")
	}
	assert.Equal(t, db.Cluster.AdminDSN(), db.AdminDSN)
	assert.NotZero(t, db.Cluster.PID())
}

func TestReplicationDSN(t *testing.T) {
	tests := []struct {
		name, dsn, want string
	}{
		{"url", "postgres://u@h:5/db?sslmode=disable", "postgres://u@h:5/db?replication=database&sslmode=disable"},
		{"url without query", "postgresql://u@h/db", "postgresql://u@h/db?replication=database"},
		{"keyword", "host=h dbname=db", "host=h dbname=db replication=database"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := pgtest.ReplicationDSN(tt.dsn)
			require.NoError(t, err)
			assert.Equal(t, tt.want, got, "ReplicationDSN(%q)", tt.dsn)
		})
	}
}

// TestNew_RestartsStoppedCluster: a fault test that leaves the shared
// cluster stopped must not break the tests after it.
func TestNew_RestartsStoppedCluster(t *testing.T) {
	db := pgtest.New(t)
	if db.Cluster == nil {
		t.Skip("TEST_DATABASE_URL names the server")
	}
	t.Run("leaves it stopped", func(t *testing.T) {
		sub := pgtest.New(t)
		require.NoError(t, sub.Cluster.Stop(t.Context()))
		// The subtest's cleanup starts it again to drop its database.
	})
	assert.NotZero(t, db.Cluster.PID(), "started again by the cleanup")
	require.NoError(t, db.Cluster.Stop(t.Context()))
	db2 := pgtest.New(t)
	assert.Equal(t, 1, count(t, db2.DSN, "select 1"))
}
