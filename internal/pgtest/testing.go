package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// Environment variables read by the test harness (and nowhere else: the
// server's configuration is read only in cmd/triplesync).
const (
	// EnvDatabaseURL points the tests at an existing server, given as a
	// superuser DSN; each test creates and drops its own database there.
	EnvDatabaseURL = "TEST_DATABASE_URL"
	// EnvRequire, when true, makes missing Postgres binaries a test failure
	// instead of a skip. CI=true has the same effect.
	EnvRequire = "TEST_REQUIRE_POSTGRES"
)

// DB is a fresh database made by [New] for one test.
type DB struct {
	// Name is the database's name: tb.Name() made lower-case [a-z0-9_] and
	// cut to 40 bytes, plus a random suffix; at most 54 bytes. It is unique
	// and safe to reuse as, or in, a publication or replication slot name.
	Name string

	// DSN connects to the database as a superuser.
	DSN string

	// AdminDSN connects to the server's maintenance database as a superuser,
	// e.g. to pg_terminate_backend the test's own sessions.
	AdminDSN string

	// Cluster is the server the database lives on, for fault tests that stop
	// or restart it; nil when TEST_DATABASE_URL names the server. Tests that
	// stop it must not run in parallel with other tests of the package; a
	// cluster left stopped is started again by the next New and by the
	// cleanup of the test that stopped it.
	Cluster *Cluster
}

// ReplicationDSN returns the DSN of a replication connection to the database
// (DSN plus replication=database), as logical replication needs.
func (d *DB) ReplicationDSN() string {
	s, err := ReplicationDSN(d.DSN)
	if err != nil {
		panic(err) // DSN is built by New and parses
	}
	return s
}

// ReplicationDSN adds replication=database to a URL or key=value DSN.
func ReplicationDSN(dsn string) (string, error) {
	return setParam(dsn, "replication", "database")
}

// shared is the one cluster of this test binary.
var shared struct {
	main    atomic.Bool // Main or Run is in charge of stopping the cluster
	once    sync.Once
	dir     string
	cluster *Cluster
	err     error
}

// Main runs the tests and exits; call it from TestMain so the shared cluster
// is stopped when the tests end:
//
//	func TestMain(m *testing.M) { pgtest.Main(m) }
func Main(m *testing.M) { os.Exit(Run(m)) }

// Run is [Main] without the exit, for a TestMain with work of its own to do
// before exiting. It returns the exit code.
func Run(m *testing.M) int {
	shared.main.Store(true)
	code := m.Run()
	if err := stopShared(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		if code == 0 {
			code = 1
		}
	}
	return code
}

// New returns a fresh, empty database for the test, dropped (together with
// its replication slots and connections) when the test ends. The first call
// in a test binary starts the shared cluster; see the package comment for
// TEST_DATABASE_URL and for when New skips the test.
func New(tb testing.TB) *DB {
	tb.Helper()
	if !shared.main.Load() {
		tb.Fatal("pgtest: New needs pgtest.Main in the package's TestMain: func TestMain(m *testing.M) { pgtest.Main(m) }")
	}
	admin, cluster := server(tb)

	name := dbName(tb.Name())
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := ensureDatabase(ctx, admin, name); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if cluster != nil {
			if err := cluster.Start(ctx); err != nil { // the test may have left it stopped
				tb.Error(err)
				return
			}
		}
		if err := dropDatabase(ctx, admin, name); err != nil {
			tb.Error(err)
		}
	})
	dsn, err := setParam(admin, "dbname", name)
	if err != nil {
		tb.Fatalf("pgtest: %s: %v", EnvDatabaseURL, err)
	}
	return &DB{Name: name, DSN: dsn, AdminDSN: admin, Cluster: cluster}
}

// server returns the admin DSN of the server to create databases on,
// starting the shared cluster on first use, or ends the test.
func server(tb testing.TB) (string, *Cluster) {
	tb.Helper()
	if u := os.Getenv(EnvDatabaseURL); u != "" {
		return u, nil
	}
	shared.once.Do(startShared)
	if err := shared.err; err != nil {
		if errors.Is(err, ErrNoBinaries) && !requirePostgres(os.Getenv) {
			tb.Skipf("%v; install PostgreSQL (e.g. apt-get install postgresql-15) or set %s", err, EnvDatabaseURL)
		}
		tb.Fatal(err)
	}
	// A fault test that stopped the cluster and failed before starting it
	// again must not fail every later test too.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := shared.cluster.Start(ctx); err != nil {
		tb.Fatal(err)
	}
	return shared.cluster.AdminDSN(), shared.cluster
}

// MustFindBinaries returns the Postgres installation [FindBinaries] picks,
// or skips the test when there is none (fails it under CI=true or
// TEST_REQUIRE_POSTGRES=1), like [New]. For tests that start clusters of
// their own.
func MustFindBinaries(tb testing.TB) Binaries {
	tb.Helper()
	b, err := FindBinaries("")
	if err != nil {
		if !requirePostgres(os.Getenv) {
			tb.Skipf("%v; install PostgreSQL (e.g. apt-get install postgresql-15)", err)
		}
		tb.Fatal(err)
	}
	return b
}

// requirePostgres reports whether a missing Postgres fails the tests.
func requirePostgres(getenv func(string) string) bool {
	truthy := func(k string) bool {
		b, err := strconv.ParseBool(getenv(k))
		return err == nil && b
	}
	return truthy("CI") || truthy(EnvRequire)
}

func startShared() {
	if _, err := FindBinaries(""); err != nil {
		shared.err = err
		return
	}
	dir, err := os.MkdirTemp("", "pgtest-")
	if err == nil {
		// MkdirTemp makes it 0700; the postgres user (when root) must be able
		// to search it to reach the data directory inside.
		err = os.Chmod(dir, 0o755)
	}
	if err != nil {
		shared.err = fmt.Errorf("pgtest: %w", err)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c, err := StartCluster(ctx, Config{
		DataDir:  filepath.Join(dir, "data"),
		NoSync:   true,
		Settings: map[string]string{"max_connections": "200"},
		Logger:   slog.New(slog.DiscardHandler),
	})
	if err != nil {
		os.RemoveAll(dir)
		shared.err = err
		return
	}
	shared.dir, shared.cluster = dir, c
}

func stopShared() error {
	if shared.cluster == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	err := shared.cluster.Close(ctx)
	if rmErr := os.RemoveAll(shared.dir); err == nil && rmErr != nil {
		err = fmt.Errorf("pgtest: %w", rmErr)
	}
	return err
}

// dropDatabase drops a test's database even while sessions, walsenders or
// replication slots still use it (DROP DATABASE refuses databases with
// slots, active or not).
func dropDatabase(ctx context.Context, adminDSN, name string) error {
	conn, err := pgx.Connect(ctx, adminDSN)
	if err != nil {
		return fmt.Errorf("pgtest: drop database %s: %w", name, err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	steps := []string{
		`select pg_terminate_backend(active_pid, 10000) from pg_replication_slots
		 where database = $1 and active_pid is not null`,
		`select pg_drop_replication_slot(slot_name) from pg_replication_slots
		 where database = $1 and not active`,
	}
	for _, q := range steps {
		if _, err := conn.Exec(ctx, q, name); err != nil {
			return fmt.Errorf("pgtest: drop database %s: %w", name, err)
		}
	}
	if _, err := conn.Exec(ctx, "drop database if exists "+pgx.Identifier{name}.Sanitize()+" with (force)"); err != nil {
		return fmt.Errorf("pgtest: drop database %s: %w", name, err)
	}
	return nil
}

// dbName derives a database name from a test name, e.g.
// "TestWAL/Restart#01" -> "testwal_restart_01_3fa9c2d1e07b".
func dbName(testName string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(testName) {
		switch {
		case 'a' <= r && r <= 'z' || '0' <= r && r <= '9':
			b.WriteRune(r)
		case b.Len() > 0 && !strings.HasSuffix(b.String(), "_"):
			b.WriteByte('_')
		}
	}
	s := b.String()
	if len(s) > 40 {
		s = s[:40]
	}
	s = strings.TrimRight(s, "_")
	if s == "" || s[0] >= '0' && s[0] <= '9' {
		s = "t_" + s
	}
	var suffix [6]byte
	_, _ = rand.Read(suffix[:]) // never fails on Linux
	return s + "_" + hex.EncodeToString(suffix[:])
}

// setParam sets one connection parameter in a URL or key=value DSN;
// "dbname" sets a URL's path.
func setParam(dsn, key, value string) (string, error) {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		u, err := url.Parse(dsn)
		if err != nil {
			return "", fmt.Errorf("parse dsn: %w", err)
		}
		if key == "dbname" {
			u.Path, u.RawPath = "/"+value, ""
			return u.String(), nil
		}
		q := u.Query()
		q.Set(key, value)
		u.RawQuery = q.Encode()
		return u.String(), nil
	}
	// key=value form: a later setting overrides an earlier one.
	return strings.TrimSpace(dsn) + " " + key + "=" + value, nil
}
