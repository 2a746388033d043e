package wal

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
)

// Defaults for the zero fields of [Config].
const (
	DefaultStatusInterval = 10 * time.Second
	DefaultQueueSize      = 64
	DefaultMinBackoff     = 100 * time.Millisecond
	DefaultMaxBackoff     = 30 * time.Second
)

// Config configures a [Reader]. Zero fields take the defaults above.
type Config struct {
	// DSN is an ordinary Postgres connection string (URL or key=value) for
	// the database whose WAL to tail; the reader adds replication=database.
	// The role needs the REPLICATION attribute (or to be a superuser).
	DSN string

	// Slot names the permanent logical replication slot this reader owns.
	// Give every server instance its own, stable across restarts, e.g.
	// [SlotName] of the instance's id: a slot remembers what its reader
	// acknowledged, and two readers sharing one would steal each other's
	// changes. Lower-case letters, digits and underscores, at most 63.
	Slot string

	// Publication is the publication to stream (pg creates "triplesync"
	// over triples, attrs and transactions). Same character rules as Slot.
	Publication string

	// Handle is called once per committed transaction, in commit order,
	// from one goroutine. The reader acknowledges a transaction to Postgres
	// only after Handle returned nil for it and for every transaction
	// before it. Handle may block: that is the backpressure, and the reader
	// keeps the replication connection alive meanwhile. An error does not
	// stop the reader: it ends the replication connection (so a Postgres
	// fast shutdown, whose walsender waits for this reader to confirm
	// what it sent, is not held up; issue 9), waits a jittered backoff
	// between MinBackoff and MaxBackoff that grows while Handle keeps
	// failing, and streams again from the slot's acknowledged position:
	// Handle sees the failed transaction again, and nothing it had
	// handled. Retrying inside Handle instead would hold the
	// acknowledgement, and a Postgres restart, back. ctx is cancelled
	// when the reader closes. The transaction's slices belong to Handle.
	Handle func(ctx context.Context, tx Transaction) error

	// Logger receives connection, reset and error events. Default
	// slog.Default().
	Logger *slog.Logger

	// StatusInterval is how often the reader reports its position to
	// Postgres when nothing asks it to sooner. It must be well under the
	// server's wal_sender_timeout (default 60s). Default 10s.
	StatusInterval time.Duration

	// QueueSize bounds the transactions decoded but not yet handled.
	// Default 64.
	QueueSize int

	// MinBackoff and MaxBackoff bound the jittered exponential wait
	// before reconnecting after a lost connection. Defaults 100ms and 30s.
	MinBackoff, MaxBackoff time.Duration

	// NoStreaming turns off pgoutput's streaming of large in-progress
	// transactions. With streaming on (the default), Postgres sends a
	// transaction that outgrows logical_decoding_work_mem as it goes
	// instead of spilling it to disk first; the decoder buffers it until
	// it commits either way.
	NoStreaming bool
}

// validate checks c and fills in defaults.
func (c *Config) validate() error {
	if c.DSN == "" {
		return fmt.Errorf("%w: no DSN", ErrInvalidConfig)
	}
	if _, err := pgconn.ParseConfig(c.DSN); err != nil {
		return fmt.Errorf("%w: dsn: %v", ErrInvalidConfig, err)
	}
	if !validIdent(c.Slot) {
		return fmt.Errorf("%w: slot %q: want 1-63 lower-case letters, digits and underscores", ErrInvalidConfig, c.Slot)
	}
	if !validIdent(c.Publication) {
		return fmt.Errorf("%w: publication %q: want 1-63 lower-case letters, digits and underscores", ErrInvalidConfig, c.Publication)
	}
	if c.Handle == nil {
		return fmt.Errorf("%w: no Handle", ErrInvalidConfig)
	}
	if c.StatusInterval < 0 || c.QueueSize < 0 || c.MinBackoff < 0 || c.MaxBackoff < 0 {
		return fmt.Errorf("%w: negative interval or size", ErrInvalidConfig)
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.StatusInterval == 0 {
		c.StatusInterval = DefaultStatusInterval
	}
	if c.QueueSize == 0 {
		c.QueueSize = DefaultQueueSize
	}
	if c.MinBackoff == 0 {
		c.MinBackoff = DefaultMinBackoff
	}
	if c.MaxBackoff == 0 {
		c.MaxBackoff = DefaultMaxBackoff
	}
	if c.MaxBackoff < c.MinBackoff {
		return fmt.Errorf("%w: MaxBackoff %v < MinBackoff %v", ErrInvalidConfig, c.MaxBackoff, c.MinBackoff)
	}
	return nil
}

// validIdent accepts the names the reader puts into replication commands
// unquoted: Postgres folds unquoted identifiers to lower case, so only
// lower-case letters, digits and underscores, not starting with a digit.
func validIdent(s string) bool {
	if s == "" || len(s) > 63 || '0' <= s[0] && s[0] <= '9' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// replicationConfig parses dsn and asks for a logical replication
// connection to its database.
func replicationConfig(dsn string) (*pgconn.Config, error) {
	cfg, err := pgconn.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("%w: dsn: %v", ErrInvalidConfig, err)
	}
	cfg.RuntimeParams["replication"] = "database"
	return cfg, nil
}
