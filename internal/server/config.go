package server

import (
	"fmt"
	"log/slog"
	"net"
	"time"

	"github.com/triplesync/triplesync/session"
)

// DefaultPublication is the publication pg.Migrate creates.
const DefaultPublication = "triplesync"

// DefaultWALStatusInterval is the server's WAL status interval, far
// shorter than wal.DefaultStatusInterval (10 s): a replication connection
// left idle for seconds was slow to wake for the next commit. With writes
// 1.1 s apart (BenchmarkCommitToInvalidation/sparse, on a loaded 2-core
// machine) commit → Handle took ≈ 800 µs at 10 s, ≈ 300 µs at 1 s and
// ≈ 0 µs (Handle starting before the writer saw its commit return) at
// 200 ms (issue 5). Four small messages a second cost next to nothing.
const DefaultWALStatusInterval = 250 * time.Millisecond

// Config configures a Server.
type Config struct {
	// DSN is the Postgres connection string. The role needs the
	// REPLICATION attribute (or superuser) for the WAL reader. Required.
	DSN string

	// Listener, when set, is where the server serves HTTP; Close closes it.
	// Otherwise the server listens on Addr.
	Listener net.Listener
	// Addr is the listen address when Listener is nil; "127.0.0.1:0" picks
	// a free port (see Server.Addr). Default "127.0.0.1:0".
	Addr string

	// InstanceID names this server's replication slot (wal.SlotName), and
	// must be stable across restarts and unique among the servers sharing a
	// database. Empty: the id kept in DataDir/instance-id, made on first
	// use.
	InstanceID string
	// DataDir holds the instance id file when InstanceID is empty.
	DataDir string

	// Publication is the publication the WAL reader streams. Default
	// "triplesync", the one pg.Migrate creates.
	Publication string

	// Session configures sessions: authentication, rules, limits. Its
	// Backend and Registerer are set by the server; its Logger defaults to
	// Logger.
	Session session.Config

	// WALStatusInterval is how often the WAL reader reports its position
	// to Postgres. Default DefaultWALStatusInterval.
	WALStatusInterval time.Duration

	// Logger receives the server's events. Default slog.Default().
	Logger *slog.Logger
}

func (c Config) withDefaults() Config {
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Addr == "" {
		c.Addr = "127.0.0.1:0"
	}
	if c.Publication == "" {
		c.Publication = DefaultPublication
	}
	if c.WALStatusInterval == 0 {
		c.WALStatusInterval = DefaultWALStatusInterval
	}
	if c.Session.Logger == nil {
		c.Session.Logger = c.Logger
	}
	return c
}

func (c *Config) validate() error {
	switch {
	case c.DSN == "":
		return fmt.Errorf("%w: no DSN", ErrInvalidConfig)
	case c.InstanceID == "" && c.DataDir == "":
		return fmt.Errorf("%w: set InstanceID or DataDir (where the instance id is kept)", ErrInvalidConfig)
	case c.WALStatusInterval < 0:
		return fmt.Errorf("%w: negative WALStatusInterval", ErrInvalidConfig)
	}
	return nil
}
