// Package pgtest starts real PostgreSQL servers: a throwaway cluster for
// tests and the managed, persistent cluster `triplesync serve` runs when no
// DATABASE_URL is given.
//
// # Tests
//
// A package whose tests need Postgres calls [Main] from TestMain and [New]
// in each test:
//
//	func TestMain(m *testing.M) { pgtest.Main(m) }
//
//	func TestX(t *testing.T) {
//		db := pgtest.New(t) // a fresh database, dropped when the test ends
//		conn, err := pgx.Connect(t.Context(), db.DSN)
//		...
//	}
//
// The first [New] in a test binary starts one cluster for the whole binary
// (initdb and postgres in a temporary directory, a free loopback port,
// wal_level=logical, fsync off); [Main] stops it and removes its directory
// when the tests are done. Each test gets its own database named after
// tb.Name(), so databases, publications and replication slots of different
// tests never meet. With TEST_DATABASE_URL set, databases are created on that
// server instead and no cluster is started.
//
// Without Postgres binaries (on PATH or under /usr/lib/postgresql/*/bin) the
// test is skipped with the reason, unless CI=true or TEST_REQUIRE_POSTGRES=1,
// which turn the skip into a failure.
//
// # Managed clusters
//
// [StartCluster] runs initdb on first use of a data directory only, then
// starts postgres on it; [Cluster.Close] stops it with a fast shutdown and
// waits. The same type serves fault tests: [Cluster.Stop], [Cluster.Start],
// [Cluster.Restart] and [Cluster.Crash] act on the running server while its
// port, and so every DSN, stays the same.
//
// # Running as root
//
// initdb and postgres refuse to run as root. When the process is root, both
// run as the "postgres" system user, and the data directory is created and
// chowned for it; its parent directories must be searchable by that user
// (t.TempDir's are not, which is why the test cluster lives under
// os.MkdirTemp). Every server runs in its own process group with
// Pdeathsig=SIGQUIT, so the kernel stops it when this process dies, however it
// dies: no server outlives the test binary or `triplesync serve`.
//
// pgtest imports pgx (to wait for readiness and create databases) besides the
// standard library; ARCHITECTURE.md's "stdlib" for this package predates that.
package pgtest
