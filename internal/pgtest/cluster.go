package pgtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Superuser is the role initdb creates and every DSN of a [Cluster] uses.
// Authentication is trust on loopback, so DSNs carry no password.
const Superuser = "postgres"

// Config configures a [Cluster]. DataDir is required; the zero value of every
// other field is a sensible default.
type Config struct {
	// DataDir is the cluster's data directory (PGDATA). initdb runs when it
	// holds no cluster yet (no PG_VERSION file); otherwise the cluster in it is
	// started as it is. Relative paths are made absolute.
	DataDir string

	// Port is the TCP port on 127.0.0.1. Zero picks a free port at start; the
	// port then stays the same across [Cluster.Restart].
	Port int

	// BinDir, when set, is the only directory searched for initdb and
	// postgres (see [FindBinaries]).
	BinDir string

	// LogPath is the file initdb and postgres write to, appended to across
	// starts. Default: postgres.log in DataDir's parent directory.
	LogPath string

	// NoSync turns off fsync and full_page_writes (and initdb's final sync):
	// much faster, but a machine crash can corrupt the cluster. For throwaway
	// test clusters only.
	NoSync bool

	// Settings are extra server settings passed as -c name=value; they
	// override the defaults (wal_level=logical, 20 replication slots and WAL
	// senders, and with NoSync shared_buffers=64MB).
	Settings map[string]string

	// Logger receives progress messages (initdb, ready, stopped). Default:
	// slog.Default().
	Logger *slog.Logger
}

func (c *Config) validate() error {
	if c.DataDir == "" {
		return errors.New("pgtest: config: DataDir is required")
	}
	if c.Port < 0 || c.Port > 65535 {
		return fmt.Errorf("pgtest: config: port %d out of range", c.Port)
	}
	return nil
}

// Cluster is a running (or stopped) postgres server on one data directory,
// started by this process. Its methods are safe for concurrent use.
type Cluster struct {
	cfg    Config // resolved: absolute paths, chosen port
	bin    Binaries
	cred   *syscall.Credential // non-nil when running as root
	logger *slog.Logger

	mu     sync.Mutex
	proc   *process // nil while stopped
	closed bool
}

// process is one run of the postmaster.
type process struct {
	cmd  *exec.Cmd
	done chan struct{} // closed once the postmaster has exited and been reaped
	err  error         // cmd.Wait's result, set before done is closed
}

// StartCluster starts postgres on cfg.DataDir, running initdb first when the
// directory holds no cluster, and returns once the server accepts
// connections. The caller must [Cluster.Close] it.
//
// It fails with an error wrapping [ErrNoBinaries] when Postgres is not
// installed, [ErrAlreadyRunning] when a live postgres holds the directory,
// [ErrUnreachable] when (as root) the postgres user cannot reach it, and
// [ErrExited] when postgres stops during startup. If ctx ends first, the
// server is killed and ctx's error returned.
func StartCluster(ctx context.Context, cfg Config) (*Cluster, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	dataDir, err := filepath.Abs(cfg.DataDir)
	if err != nil {
		return nil, fmt.Errorf("pgtest: data dir: %w", err)
	}
	cfg.DataDir = dataDir
	if cfg.LogPath == "" {
		cfg.LogPath = filepath.Join(filepath.Dir(dataDir), "postgres.log")
	}
	logger := cfg.Logger
	if logger == nil {
		logger = slog.Default()
	}

	bin, err := FindBinaries(cfg.BinDir)
	if err != nil {
		return nil, err
	}
	cred, err := serverCredential()
	if err != nil {
		return nil, err
	}
	c := &Cluster{cfg: cfg, bin: bin, cred: cred, logger: logger}

	if err := c.prepare(ctx); err != nil {
		return nil, err
	}

	// A port picked here may be taken by someone else before postgres binds
	// it (other test binaries do the same); pick again a few times.
	pick := cfg.Port == 0
	for attempt := 1; ; attempt++ {
		if pick {
			if c.cfg.Port, err = freePort(); err != nil {
				return nil, err
			}
		}
		err = c.Start(ctx)
		if err == nil || !pick || attempt == 3 || !errors.Is(err, errBind) {
			break
		}
	}
	if err != nil {
		return nil, err
	}
	return c, nil
}

// prepare creates and initializes the data directory if needed, or checks
// that no live postgres holds it.
func (c *Cluster) prepare(ctx context.Context) error {
	dir := c.cfg.DataDir
	if c.cred != nil { // before creating anything
		if err := reachable(filepath.Dir(dir), c.cred); err != nil {
			return err
		}
	}
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return fmt.Errorf("pgtest: %w", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "PG_VERSION")); err == nil {
		return checkPidFile(dir)
	}

	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("pgtest: %w", err)
	}
	if c.cred != nil {
		if err := os.Chown(dir, int(c.cred.Uid), int(c.cred.Gid)); err != nil {
			return fmt.Errorf("pgtest: %w", err)
		}
	}
	args := []string{"-D", dir, "-U", Superuser, "--auth=trust", "--no-instructions",
		"-E", "UTF8", "--locale=C.UTF-8"}
	if c.cfg.NoSync {
		args = append(args, "--no-sync")
	}
	c.logger.Info("initdb", "data_dir", dir, "version", c.bin.Version)

	logf, err := openLog(c.cfg.LogPath)
	if err != nil {
		return err
	}
	defer logf.Close()
	var out bytes.Buffer
	cmd := c.command(ctx, "initdb", args...)
	cmd.Stdout = io.MultiWriter(logf, &out)
	cmd.Stderr = cmd.Stdout
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("pgtest: initdb: %w: %s", err, summary(out.String()))
	}
	return nil
}

// Start starts the server again after [Cluster.Stop] or [Cluster.Crash], on
// the same port, and waits until it accepts connections. It does nothing if
// the server runs.
func (c *Cluster) Start(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return ErrClosed
	}
	if c.proc != nil && !c.proc.exited() {
		return nil
	}
	c.proc = nil

	logf, err := openLog(c.cfg.LogPath)
	if err != nil {
		return err
	}
	logStart, _ := logf.Seek(0, io.SeekEnd)

	// exec.CommandContext is not used: ctx bounds the startup only, not the
	// server's life.
	cmd := c.command(context.Background(), "postgres", c.serverArgs()...)
	cmd.Stdout, cmd.Stderr = logf, logf
	err = cmd.Start()
	logf.Close() // the server holds its own descriptor
	if err != nil {
		return fmt.Errorf("pgtest: start postgres: %w", err)
	}
	p := &process{cmd: cmd, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()

	if err := c.waitReady(ctx, p); err != nil {
		// Startup failed or was cancelled: make sure nothing is left behind.
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-p.done
		if errors.Is(err, ErrExited) {
			tail := summary(readFrom(c.cfg.LogPath, logStart))
			if strings.Contains(tail, "could not bind") || strings.Contains(tail, "could not create any TCP/IP sockets") {
				err = fmt.Errorf("%w: %w", err, errBind)
			}
			err = fmt.Errorf("%w: %s (log: %s)", err, tail, c.cfg.LogPath)
		}
		return err
	}
	c.proc = p
	c.logger.Info("postgres ready", "port", c.cfg.Port, "pid", cmd.Process.Pid, "data_dir", c.cfg.DataDir)
	return nil
}

// errBind marks a startup failure caused by the port being taken.
var errBind = errors.New("port in use")

// serverArgs is the postgres command line: settings in a stable order.
func (c *Cluster) serverArgs() []string {
	settings := map[string]string{
		"listen_addresses":        "127.0.0.1",
		"port":                    strconv.Itoa(c.cfg.Port),
		"unix_socket_directories": "", // TCP only: no socket path to place or to outgrow
		"wal_level":               "logical",
		"max_replication_slots":   "20",
		"max_wal_senders":         "20",
	}
	if c.cfg.NoSync {
		settings["fsync"] = "off"
		settings["full_page_writes"] = "off"
		settings["shared_buffers"] = "64MB"
	}
	for k, v := range c.cfg.Settings {
		settings[k] = v
	}
	keys := make([]string, 0, len(settings))
	for k := range settings {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	args := []string{"-D", c.cfg.DataDir}
	for _, k := range keys {
		args = append(args, "-c", k+"="+settings[k])
	}
	return args
}

// command builds an exec.Cmd for one of the Postgres binaries: as the
// postgres user when root, in its own process group, stopped by the kernel
// (SIGQUIT: immediate shutdown) when this process dies.
//
// Pdeathsig fires when the thread that forked exits; Go threads only exit
// when a goroutine ends while locked to its thread, which this module never
// does.
func (c *Cluster) command(ctx context.Context, name string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, filepath.Join(c.bin.Dir, name), args...)
	cmd.Dir = "/" // the caller's working directory may be closed to the postgres user
	cmd.Env = serverEnv()
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Credential: c.cred,
		Setpgid:    true,
		Pdeathsig:  syscall.SIGQUIT,
	}
	return cmd
}

// waitReady polls postmaster.pid until the postmaster reports "ready", then
// checks with one connection. Polling the file instead of connecting keeps
// "the database system is starting up" errors out of the log.
func (c *Cluster) waitReady(ctx context.Context, p *process) error {
	pidFile := filepath.Join(c.cfg.DataDir, "postmaster.pid")
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-p.done:
			return fmt.Errorf("%w (%v)", ErrExited, p.err)
		case <-ctx.Done():
			return fmt.Errorf("pgtest: wait for postgres: %w", ctx.Err())
		case <-tick.C:
		}
		data, err := os.ReadFile(pidFile)
		if err != nil {
			continue
		}
		lines := strings.Split(string(data), "\n")
		if len(lines) < 8 || strings.TrimSpace(lines[0]) != strconv.Itoa(p.cmd.Process.Pid) ||
			strings.TrimSpace(lines[7]) != "ready" {
			continue
		}
		conn, err := pgx.Connect(ctx, c.AdminDSN())
		if err != nil {
			return fmt.Errorf("pgtest: connect: %w", err)
		}
		return conn.Close(ctx)
	}
}

// Stop shuts the server down (SIGINT: fast shutdown, which disconnects
// clients and aborts their transactions) and waits until the postmaster and
// all its children have exited. If ctx ends first, the process group is
// killed. Stop does nothing on a stopped server.
func (c *Cluster) Stop(ctx context.Context) error {
	return c.stop(ctx, syscall.SIGINT)
}

// Crash stops the server the way a crash would (SIGQUIT: immediate shutdown,
// no checkpoint), so the next [Cluster.Start] runs crash recovery. It waits
// like [Cluster.Stop].
func (c *Cluster) Crash(ctx context.Context) error {
	return c.stop(ctx, syscall.SIGQUIT)
}

// Restart stops the server and starts it again on the same port.
func (c *Cluster) Restart(ctx context.Context) error {
	if err := c.Stop(ctx); err != nil {
		return err
	}
	return c.Start(ctx)
}

// Close stops the server and waits; a closed cluster cannot be started
// again. The data directory is left as it is.
func (c *Cluster) Close(ctx context.Context) error {
	err := c.Stop(ctx)
	c.mu.Lock()
	c.closed = true
	c.mu.Unlock()
	return err
}

func (c *Cluster) stop(ctx context.Context, sig syscall.Signal) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	p := c.proc
	if p == nil {
		return nil
	}
	c.proc = nil
	pid := p.cmd.Process.Pid
	_ = p.cmd.Process.Signal(sig) // fails only if it has already exited
	select {
	case <-p.done:
		c.logger.Info("postgres stopped", "pid", pid, "signal", sig.String())
		return nil
	case <-ctx.Done():
		_ = syscall.Kill(-pid, syscall.SIGKILL)
		<-p.done
		return fmt.Errorf("pgtest: stop postgres: %w (killed)", ctx.Err())
	}
}

func (p *process) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// PID returns the postmaster's process id, or 0 while the server is
// stopped.
func (c *Cluster) PID() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.proc == nil || c.proc.exited() {
		return 0
	}
	return c.proc.cmd.Process.Pid
}

// Port returns the server's TCP port on 127.0.0.1.
func (c *Cluster) Port() int { return c.cfg.Port }

// DataDir returns the absolute data directory.
func (c *Cluster) DataDir() string { return c.cfg.DataDir }

// LogPath returns the file postgres logs to.
func (c *Cluster) LogPath() string { return c.cfg.LogPath }

// Binaries returns the installation the server runs from.
func (c *Cluster) Binaries() Binaries { return c.bin }

// DSN returns a URL connecting to database db as the superuser.
func (c *Cluster) DSN(db string) string {
	u := url.URL{
		Scheme:   "postgres",
		User:     url.User(Superuser),
		Host:     net.JoinHostPort("127.0.0.1", strconv.Itoa(c.cfg.Port)),
		Path:     "/" + db,
		RawQuery: "sslmode=disable",
	}
	return u.String()
}

// AdminDSN returns a superuser URL for the maintenance database "postgres":
// the connection to create and drop databases on, or to
// pg_terminate_backend other sessions from.
func (c *Cluster) AdminDSN() string { return c.DSN("postgres") }

// EnsureDatabase creates database name unless it exists.
func (c *Cluster) EnsureDatabase(ctx context.Context, name string) error {
	return ensureDatabase(ctx, c.AdminDSN(), name)
}

func ensureDatabase(ctx context.Context, adminDSN, name string) error {
	conn, err := pgx.Connect(ctx, adminDSN)
	if err != nil {
		return fmt.Errorf("pgtest: connect: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	var exists bool
	err = conn.QueryRow(ctx, "select exists(select 1 from pg_database where datname = $1)", name).Scan(&exists)
	if err != nil || exists {
		return err
	}
	_, err = conn.Exec(ctx, "create database "+pgx.Identifier{name}.Sanitize())
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "42P04" { // duplicate_database: created meanwhile
		return nil
	}
	if err != nil {
		return fmt.Errorf("pgtest: create database %s: %w", name, err)
	}
	return nil
}

// freePort asks the kernel for a free loopback port.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("pgtest: pick port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// serverEnv is this process's environment without PG* variables, which
// would otherwise reach initdb and postgres (PGDATA, PGPORT, ...).
func serverEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PG") {
			env = append(env, kv)
		}
	}
	return env
}

func openLog(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("pgtest: open log: %w", err)
	}
	return f, nil
}

// readFrom returns the log written since offset (at most its last 64 KiB).
func readFrom(path string, offset int64) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	if fi, err := f.Stat(); err == nil && fi.Size()-offset > 64<<10 {
		offset = fi.Size() - 64<<10
	}
	if _, err := f.Seek(offset, io.SeekStart); err != nil {
		return ""
	}
	data, _ := io.ReadAll(f)
	return string(data)
}

// summary turns tool output into one line for an error message: the lines
// reporting errors if there are any, else the last few lines.
func summary(out string) string {
	var all, bad []string
	for _, l := range strings.Split(out, "\n") {
		l = strings.TrimSpace(l)
		if l == "" {
			continue
		}
		all = append(all, l)
		if strings.Contains(l, "FATAL") || strings.Contains(l, "PANIC") ||
			strings.Contains(l, "ERROR") || strings.HasPrefix(l, "initdb: error") {
			bad = append(bad, l)
		}
	}
	lines := bad
	if len(lines) == 0 {
		lines = all
	}
	if len(lines) > 3 {
		lines = lines[len(lines)-3:]
	}
	if len(lines) == 0 {
		return "no output"
	}
	return strings.Join(lines, " | ")
}
