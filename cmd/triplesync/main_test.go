package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/triplesync/triplesync/internal/pgtest"
	"github.com/triplesync/triplesync/pg"
)

// binary is the triplesync binary built once by TestMain; the end-to-end
// tests run it as a user would, signals and exit codes included.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "triplesync-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "triplesync")
	if out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "go build: %v\n%s", err, out)
		os.Exit(1)
	}
	code := pgtest.Run(m)
	os.RemoveAll(dir)
	os.Exit(code)
}

// TestServe_Managed runs serve twice on one data directory: /healthz
// answers, SIGTERM and SIGINT end it with status 0 and no postgres left
// behind, and data written in the first run is there in the second.
func TestServe_Managed(t *testing.T) {
	pgtest.MustFindBinaries(t)
	dataDir := mustTempDir(t)

	// First run: initdb, migrate, write a row, SIGTERM.
	p := startServe(t, nil, "--addr", "127.0.0.1:0", "--data-dir", dataDir)
	assertHealthz(t, p.addr, http.StatusOK)
	pid, port := readPostmasterPid(t, filepath.Join(dataDir, "pg"))
	dsn := fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", port, managedDatabase)
	execSQL(t, dsn, "create table kept (n int); insert into kept values (7)")
	p.stop(t, syscall.SIGTERM)
	assertGone(t, pid)
	assert.NoFileExists(t, filepath.Join(dataDir, "pg", "postmaster.pid"), "clean shutdown removes the lock file")
	assert.FileExists(t, filepath.Join(dataDir, "postgres.log"))

	// Second run on the same directory: no initdb, the row is there, SIGINT.
	p = startServe(t, nil, "--addr", "127.0.0.1:0", "--data-dir", dataDir)
	assertHealthz(t, p.addr, http.StatusOK)
	assert.NotContains(t, p.output(), "msg=initdb", "second run must reuse the cluster")
	pid, port = readPostmasterPid(t, filepath.Join(dataDir, "pg"))
	dsn = fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", port, managedDatabase)
	var n int
	queryRow(t, dsn, "select n from kept", &n)
	assert.Equal(t, 7, n, "row from the first run")
	var version int
	queryRow(t, dsn, "select max(version) from triplesync_schema_version", &version)
	assert.Equal(t, pg.SchemaVersion, version)
	p.stop(t, syscall.SIGINT)
	assertGone(t, pid)
}

// TestServe_DatabaseURL serves against an existing Postgres, migrates it,
// and reports 503 from /healthz exactly while that Postgres is down.
func TestServe_DatabaseURL(t *testing.T) {
	db := pgtest.New(t)
	p := startServe(t, []string{"DATABASE_URL=" + db.DSN}, "--addr", "127.0.0.1:0", "--log-format", "json")
	assert.Contains(t, p.output(), `"postgres":"external"`)
	assertHealthz(t, p.addr, http.StatusOK)
	var version int
	queryRow(t, db.DSN, "select max(version) from triplesync_schema_version", &version)
	assert.Equal(t, pg.SchemaVersion, version)

	if db.Cluster != nil {
		require.NoError(t, db.Cluster.Stop(t.Context()))
		assertHealthz(t, p.addr, http.StatusServiceUnavailable)
		require.NoError(t, db.Cluster.Start(t.Context()))
		assertHealthz(t, p.addr, http.StatusOK)
	}
	p.stop(t, syscall.SIGTERM)
}

// TestServe_Errors checks that each start-up failure is one line on stderr
// and exit status 1.
func TestServe_Errors(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer busy.Close()
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	closedAddr := closed.Addr().String()
	closed.Close()
	empty := t.TempDir()

	tests := []struct {
		name string
		env  []string
		args []string
		want string // in the one line
	}{
		{"unparseable DATABASE_URL", []string{"DATABASE_URL=postgres://u:secret@%zz/db"}, nil, "DATABASE_URL: cannot parse"},
		{"unreachable DATABASE_URL", []string{"DATABASE_URL=postgres://postgres@" + closedAddr + "/x?sslmode=disable"}, nil, "connect postgres:"},
		{"port in use", nil, []string{"--addr", busy.Addr().String()}, "address already in use"},
		{"no postgres binaries", []string{"PATH=" + empty, "TRIPLESYNC_PG_BIN_DIR=" + empty}, nil, "postgres binaries not found in " + empty},
		{"bad log format", nil, []string{"--log-format", "xml"}, "--log-format"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dataDir := filepath.Join(t.TempDir(), "data")
			args := append([]string{"serve", "--addr", "127.0.0.1:0", "--data-dir", dataDir}, tt.args...)
			stdout, stderr, code := runBinary(t, tt.env, args...)
			assert.Equal(t, 1, code, "exit status; stderr:\n%s", stderr)
			assert.Empty(t, stdout)
			lines := strings.Split(strings.TrimRight(stderr, "\n"), "\n")
			require.Len(t, lines, 1, "stderr must be one line:\n%s", stderr)
			assert.Regexp(t, `^triplesync: `, lines[0])
			assert.Contains(t, lines[0], tt.want)
			assert.NotContains(t, lines[0], "secret", "password leaked")
			assert.NoDirExists(t, filepath.Join(dataDir, "pg"), "no Postgres may be started")
		})
	}
}

func TestCommands(t *testing.T) {
	tests := []struct {
		name   string
		args   []string
		code   int
		stdout string // regexp
		stderr string // regexp
	}{
		{"version", []string{"version"}, 0, `^triplesync \S+.* go1\.\d+`, `^$`},
		{"help", []string{"-h"}, 0, `triplesync serve \[flags\]`, `^$`},
		{"serve help", []string{"serve", "-h"}, 0, `(?s)-database-url.*DATABASE_URL.*TRIPLESYNC_PG_BIN_DIR`, `^$`},
		{"no command", nil, 2, `^$`, `Usage:`},
		{"unknown command", []string{"frobnicate"}, 2, `^$`, `^triplesync: unknown command "frobnicate"`},
		{"unknown flag", []string{"serve", "--nope"}, 2, `^$`, `^triplesync: flag provided but not defined: -nope`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stdout, stderr, code := runBinary(t, nil, tt.args...)
			assert.Equal(t, tt.code, code, "triplesync %v: exit status", tt.args)
			assert.Regexp(t, regexp.MustCompile(tt.stdout), stdout)
			assert.Regexp(t, regexp.MustCompile(tt.stderr), stderr)
		})
	}
}

// serveProc is a running `triplesync serve`.
type serveProc struct {
	cmd  *exec.Cmd
	addr string
	out  lockedBuffer  // stderr so far
	done chan struct{} // closed when stderr reaches EOF
}

// lockedBuffer is a bytes.Buffer written by one goroutine, read by another.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) WriteString(s string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf.WriteString(s)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// startServe starts the binary and waits (bounded by the test's deadline)
// until it logs that it serves.
func startServe(t *testing.T, env []string, args ...string) *serveProc {
	t.Helper()
	cmd := exec.Command(binary, append([]string{"serve"}, args...)...)
	cmd.Env = append(cleanEnv(), env...)
	stderr, err := cmd.StderrPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	p := &serveProc{cmd: cmd, done: make(chan struct{})}
	t.Cleanup(func() {
		if cmd.ProcessState == nil { // the test failed before stopping it
			_ = cmd.Process.Signal(syscall.SIGTERM)
			<-p.done
			_ = cmd.Wait()
		}
	})

	serving := make(chan string, 1)
	go func() {
		defer close(p.done)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			line := sc.Text()
			p.out.WriteString(line + "\n")
			if strings.Contains(line, "msg=serving") || strings.Contains(line, `"msg":"serving"`) {
				serving <- line
			}
		}
		close(serving)
	}()
	select {
	case line, ok := <-serving:
		if !ok {
			_ = cmd.Wait()
			t.Fatalf("serve exited before serving:\n%s", p.out.String())
		}
		m := regexp.MustCompile(`"?addr"?[=:]"?([0-9.]+:[0-9]+)`).FindStringSubmatch(line)
		require.NotNil(t, m, "no addr in %q", line)
		p.addr = m[1]
	case <-t.Context().Done():
		t.Fatal("serve did not start in time")
	}
	return p
}

// output returns what the process has logged so far; every line up to
// "serving" is there.
func (p *serveProc) output() string { return p.out.String() }

// stop signals the process and checks that it exits with status 0.
func (p *serveProc) stop(t *testing.T, sig syscall.Signal) {
	t.Helper()
	require.NoError(t, p.cmd.Process.Signal(sig))
	<-p.done
	err := p.cmd.Wait()
	assert.NoError(t, err, "exit after %v; stderr:\n%s", sig, p.out.String())
}

func runBinary(t *testing.T, env []string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), binary, args...)
	cmd.Env = append(cleanEnv(), env...)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return o.String(), e.String(), exit.ExitCode()
	}
	require.NoError(t, err)
	return o.String(), e.String(), 0
}

// cleanEnv is the test's environment without the server's own variables.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "DATABASE_URL=") && !strings.HasPrefix(kv, "TRIPLESYNC_") {
			env = append(env, kv)
		}
	}
	return env
}

func assertHealthz(t *testing.T, addr string, want int) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, "http://"+addr+"/healthz", nil)
	require.NoError(t, err)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	assert.Equal(t, want, resp.StatusCode, "GET /healthz: %s", body)
	if want == http.StatusOK {
		assert.JSONEq(t, `{"status":"ok"}`, string(body))
	}
}

// readPostmasterPid returns the postmaster's pid and port from its lock
// file.
func readPostmasterPid(t *testing.T, dataDir string) (pid, port int) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dataDir, "postmaster.pid"))
	require.NoError(t, err)
	lines := strings.Split(string(data), "\n")
	require.GreaterOrEqual(t, len(lines), 4, "postmaster.pid: %q", data)
	pid, err = strconv.Atoi(strings.TrimSpace(lines[0]))
	require.NoError(t, err)
	port, err = strconv.Atoi(strings.TrimSpace(lines[3]))
	require.NoError(t, err)
	require.NoError(t, syscall.Kill(pid, 0), "postmaster %d not running", pid)
	return pid, port
}

// assertGone checks that the postmaster and its process group are gone.
func assertGone(t *testing.T, pid int) {
	t.Helper()
	assert.ErrorIs(t, syscall.Kill(pid, 0), syscall.ESRCH, "postmaster %d still exists", pid)
	assert.ErrorIs(t, syscall.Kill(-pid, 0), syscall.ESRCH, "process group %d still exists", pid)
}

// mustTempDir returns a directory the postgres user can reach when the
// tests run as root (t.TempDir's parent is closed to it).
func mustTempDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "triplesync-test-")
	require.NoError(t, err)
	t.Cleanup(func() { os.RemoveAll(dir) })
	require.NoError(t, os.Chmod(dir, 0o755))
	return dir
}

func execSQL(t *testing.T, dsn, sql string) {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), dsn)
	require.NoError(t, err)
	defer conn.Close(context.Background())
	_, err = conn.Exec(t.Context(), sql)
	require.NoError(t, err)
}

func queryRow(t *testing.T, dsn, sql string, dst ...any) {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), dsn)
	require.NoError(t, err)
	defer conn.Close(context.Background())
	require.NoError(t, conn.QueryRow(t.Context(), sql).Scan(dst...))
}

// TestServe_UnreachableDataDir: as root, a data directory the postgres
// user cannot reach is one clear line, not initdb's complaint.
func TestServe_UnreachableDataDir(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("only root runs postgres as another user")
	}
	pgtest.MustFindBinaries(t)
	closed := t.TempDir() // its parent is mode 0700
	_, stderr, code := runBinary(t, nil, "serve", "--addr", "127.0.0.1:0", "--data-dir", filepath.Join(closed, "data"))
	assert.Equal(t, 1, code)
	lines := strings.Split(strings.TrimRight(stderr, "\n"), "\n")
	require.Len(t, lines, 1, "stderr must be one line:\n%s", stderr)
	assert.Contains(t, lines[0], "not reachable by the postgres user")
	assert.Contains(t, lines[0], "--data-dir")
	assert.NoDirExists(t, filepath.Join(closed, "data"), "nothing created on error")
}
