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
	// to Postgres. Default wal.DefaultStatusInterval.
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
