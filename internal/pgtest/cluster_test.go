package pgtest_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	osexec "os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/triplesync/triplesync/internal/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// TestCluster_Lifecycle starts a cluster, restarts it, crashes and recovers
// it, and stops it, checking after each stop that no process is left.
func TestCluster_Lifecycle(t *testing.T) {
	bin := pgtest.MustFindBinaries(t)
	ctx := t.Context()
	c := mustStartCluster(t, pgtest.Config{DataDir: filepath.Join(mustTempDir(t), "data"), NoSync: true})

	conn, err := pgx.Connect(ctx, c.AdminDSN())
	require.NoError(t, err)
	var walLevel, role string
	var versionNum int
	require.NoError(t, conn.QueryRow(ctx,
		"select current_setting('wal_level'), current_user, current_setting('server_version_num')::int").
		Scan(&walLevel, &role, &versionNum))
	require.NoError(t, conn.Close(ctx))
	assert.Equal(t, "logical", walLevel)
	assert.Equal(t, pgtest.Superuser, role)
	assert.Equal(t, bin.Major, versionNum/10000, "server version %d, binaries %s", versionNum, bin.Version)

	pid := c.PID()
	require.NotZero(t, pid)
	if os.Geteuid() == 0 {
		// As root, the server must run as the postgres user.
		pgUser, err := user.Lookup("postgres")
		require.NoError(t, err)
		assert.Equal(t, pgUser.Uid, processUID(t, pid), "uid of postmaster %d", pid)
	}

	// Restart and crash recovery keep the data and the port (so every DSN).
	port := c.Port()
	exec(t, c.AdminDSN(), "create table kept (n int); insert into kept values (1)")
	require.NoError(t, c.Restart(ctx))
	assertGone(t, pid)
	assert.Equal(t, port, c.Port(), "port after Restart")
	assert.Equal(t, 1, count(t, c.AdminDSN(), "select count(*) from kept"))

	exec(t, c.AdminDSN(), "insert into kept values (2)")
	pid = c.PID()
	require.NoError(t, c.Crash(ctx))
	assertGone(t, pid)
	require.NoError(t, c.Start(ctx))
	assert.Equal(t, 2, count(t, c.AdminDSN(), "select count(*) from kept"), "rows after crash recovery")

	pid = c.PID()
	require.NoError(t, c.Stop(ctx))
	assert.Zero(t, c.PID())
	assertGone(t, pid)
	_, err = pgx.Connect(ctx, c.AdminDSN())
	assert.Error(t, err, "connect after Stop")
	assert.NoError(t, c.Stop(ctx), "second Stop")
}

// TestStartCluster_Managed is the managed-server path: initdb on the first
// start only, data kept across starts, and a clear error for a data
// directory a live server holds.
func TestStartCluster_Managed(t *testing.T) {
	pgtest.MustFindBinaries(t)
	ctx := t.Context()
	root := mustTempDir(t)
	var logs bytes.Buffer
	cfg := pgtest.Config{
		DataDir: filepath.Join(root, "pg"),
		Logger:  slog.New(slog.NewTextHandler(&logs, nil)),
	}

	c1, err := pgtest.StartCluster(ctx, cfg)
	require.NoError(t, err)
	exec(t, c1.AdminDSN(), "create table kept (n int); insert into kept values (42)")
	pid := c1.PID()
	require.NoError(t, c1.Close(ctx))
	assertGone(t, pid)
	assert.ErrorIs(t, c1.Start(ctx), pgtest.ErrClosed)

	c2 := mustStartCluster(t, cfg)
	assert.Equal(t, 1, count(t, c2.AdminDSN(), "select count(*) from kept where n = 42"), "row from the first run")
	assert.Equal(t, 1, strings.Count(logs.String(), "msg=initdb"), "initdb runs once:\n%s", logs.String())

	log, err := os.ReadFile(filepath.Join(root, "postgres.log"))
	require.NoError(t, err)
	assert.Contains(t, string(log), "database system is ready", "postgres.log next to the data dir")

	_, err = pgtest.StartCluster(ctx, cfg)
	require.ErrorIs(t, err, pgtest.ErrAlreadyRunning)
	assert.Contains(t, err.Error(), strconv.Itoa(c2.PID()))
	assert.NotZero(t, c2.PID(), "the running server is untouched")
}

func TestStartCluster_NoBinaries(t *testing.T) {
	empty := t.TempDir()
	_, err := pgtest.FindBinaries(empty)
	assert.ErrorIs(t, err, pgtest.ErrNoBinaries)

	_, err = pgtest.StartCluster(t.Context(), pgtest.Config{DataDir: filepath.Join(t.TempDir(), "pg"), BinDir: empty})
	require.ErrorIs(t, err, pgtest.ErrNoBinaries)
	assert.Contains(t, err.Error(), empty)
}

func TestStartCluster_Unreachable(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("only root hands the data directory to another user")
	}
	pgtest.MustFindBinaries(t)
	closed := filepath.Join(mustTempDir(t), "closed")
	require.NoError(t, os.Mkdir(closed, 0o700))
	_, err := pgtest.StartCluster(t.Context(), pgtest.Config{DataDir: filepath.Join(closed, "pg")})
	require.ErrorIs(t, err, pgtest.ErrUnreachable)
	assert.Contains(t, err.Error(), closed)
	assert.NoDirExists(t, filepath.Join(closed, "pg"), "nothing created on error")
}

func TestFindBinaries(t *testing.T) {
	bin := pgtest.MustFindBinaries(t)
	assert.FileExists(t, filepath.Join(bin.Dir, "initdb"))
	assert.GreaterOrEqual(t, bin.Major, 10)
	assert.True(t, strings.HasPrefix(bin.Version, strconv.Itoa(bin.Major)), "version %q, major %d", bin.Version, bin.Major)

	forced, err := pgtest.FindBinaries(bin.Dir)
	require.NoError(t, err)
	assert.Equal(t, bin, forced)
}

// mustTempDir returns a directory the postgres user can reach when the
// tests run as root (t.TempDir's parent is closed to it), removed at the end.
func mustTempDir(tb testing.TB) string {
	tb.Helper()
	dir, err := os.MkdirTemp("", "pgtest-test-")
	require.NoError(tb, err)
	tb.Cleanup(func() { os.RemoveAll(dir) })
	require.NoError(tb, os.Chmod(dir, 0o755))
	return dir
}

func mustStartCluster(tb testing.TB, cfg pgtest.Config) *pgtest.Cluster {
	tb.Helper()
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	c, err := pgtest.StartCluster(tb.Context(), cfg)
	require.NoError(tb, err)
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		assert.NoError(tb, c.Close(ctx))
	})
	return c
}

// assertGone checks that the postmaster and its whole process group
// (every backend it forked) have exited.
func assertGone(tb testing.TB, pid int) {
	tb.Helper()
	assert.ErrorIs(tb, syscall.Kill(pid, 0), syscall.ESRCH, "postmaster %d still exists", pid)
	assert.ErrorIs(tb, syscall.Kill(-pid, 0), syscall.ESRCH, "process group %d still exists", pid)
}

func processUID(tb testing.TB, pid int) string {
	tb.Helper()
	status, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "status"))
	require.NoError(tb, err)
	for _, line := range strings.Split(string(status), "\n") {
		if rest, ok := strings.CutPrefix(line, "Uid:"); ok {
			return strings.Fields(rest)[0] // real uid
		}
	}
	tb.Fatalf("no Uid line in /proc/%d/status", pid)
	return ""
}

func exec(tb testing.TB, dsn, sql string) {
	tb.Helper()
	conn, err := pgx.Connect(tb.Context(), dsn)
	require.NoError(tb, err)
	defer conn.Close(context.Background())
	_, err = conn.Exec(tb.Context(), sql)
	require.NoError(tb, err)
}

func count(tb testing.TB, dsn, sql string, args ...any) int {
	tb.Helper()
	conn, err := pgx.Connect(tb.Context(), dsn)
	require.NoError(tb, err)
	defer conn.Close(context.Background())
	var n int
	require.NoError(tb, conn.QueryRow(tb.Context(), sql, args...).Scan(&n))
	return n
}

// TestCluster_DiesWithParent kills (SIGKILL, no cleanup possible) a process
// that started a cluster, and checks that the kernel's parent-death signal
// takes the server down: no postgres outlives its test binary.
func TestCluster_DiesWithParent(t *testing.T) {
	pgtest.MustFindBinaries(t)
	dir := mustTempDir(t)
	cmd := osexec.CommandContext(t.Context(), os.Args[0], "-test.run=^TestHelperCluster$")
	cmd.Env = append(os.Environ(), helperEnv+"="+dir)
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	defer cmd.Process.Kill()

	var pid int
	sc := bufio.NewScanner(out)
	for pid == 0 && sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "postmaster "); ok {
			pid, err = strconv.Atoi(rest)
			require.NoError(t, err)
		}
	}
	require.NotZero(t, pid, "helper printed no postmaster pid")
	require.NoError(t, syscall.Kill(pid, 0), "postmaster %d not running", pid)
	t.Cleanup(func() { _ = syscall.Kill(-pid, syscall.SIGKILL) }) // should the test fail

	require.NoError(t, cmd.Process.Kill())
	_ = cmd.Wait()
	// The postmaster is not our child, so poll for it to go. Immediate
	// shutdown takes well under a second; the minute only keeps a broken
	// build from hanging until the test binary's timeout.
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	for syscall.Kill(pid, 0) == nil || syscall.Kill(-pid, 0) == nil {
		select {
		case <-ctx.Done():
			t.Fatalf("postmaster %d outlived its parent", pid)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

const helperEnv = "PGTEST_HELPER_DIR"

// TestHelperCluster is the process TestCluster_DiesWithParent kills: it
// starts a cluster, prints its pid and waits.
func TestHelperCluster(t *testing.T) {
	dir := os.Getenv(helperEnv)
	if dir == "" {
		t.Skip("helper process of TestCluster_DiesWithParent")
	}
	c, err := pgtest.StartCluster(context.Background(), pgtest.Config{
		DataDir: filepath.Join(dir, "data"), NoSync: true, Logger: slog.New(slog.DiscardHandler)})
	require.NoError(t, err)
	fmt.Printf("postmaster %d\n", c.PID())
	time.Sleep(time.Hour) // until killed
}
