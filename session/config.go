package session

import (
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/triplesync/triplesync/internal/perm"
	"github.com/triplesync/triplesync/internal/wire"
)

// Defaults for the zero fields of Config.
const (
	DefaultMaxQueries        = 1000
	DefaultMaxQueryBytes     = 64 << 10
	DefaultQueueFrames       = 1024
	DefaultQueueBytes        = 64 << 20
	DefaultPingInterval      = 30 * time.Second
	DefaultWriteTimeout      = 10 * time.Second
	DefaultRequestTimeout    = 30 * time.Second
	DefaultSchemaWaitTimeout = 5 * time.Second
	DefaultMaxRuns           = 2
)

// Config configures a Server. Zero fields take the defaults above.
type Config struct {
	// Backend reads and writes Postgres. Required.
	Backend Backend

	// Verifier checks users' JWTs. Nil refuses every token but the admin
	// token (anonymous sessions still work).
	Verifier *perm.Verifier

	// AdminToken, when set, is the token of admin sessions (init with it)
	// and of the admin HTTP API (Authorization: Bearer). Admins bypass
	// permission rules. Empty disables both.
	AdminToken string

	// Rules are the permission rules; nil means no rules, which denies
	// every action a user or anonymous session tries. Server.SetRules
	// replaces them while the server runs.
	Rules *perm.Rules

	// Dev allows schema changes (add-attr, update-attr, delete-attr steps)
	// from any session. Parse Rules with defaultAllow set to the same value
	// so actions without a rule are allowed too.
	Dev bool

	// Logger receives session and error events. Default slog.Default().
	Logger *slog.Logger

	// Registerer, when set, gets the server's Prometheus collectors
	// (see docs/operations.md for the list).
	Registerer prometheus.Registerer

	// MaxMessageBytes is the frame size limit: a larger frame is answered
	// with an error of type "limit" and the session stays open. Default
	// wire.DefaultMaxMessageBytes. It also bounds admin request bodies.
	MaxMessageBytes int
	// HardMaxMessageBytes is the size past which the WebSocket is closed
	// (close code 1009) instead: a frame between the two limits is read
	// and discarded. Default 4 × MaxMessageBytes.
	HardMaxMessageBytes int

	// MaxQueries bounds the live queries of one session. Default 1000.
	MaxQueries int
	// MaxQueryBytes bounds the JSON text of one query. Default 64 KiB.
	MaxQueryBytes int

	// QueueFrames and QueueBytes bound one session's outbound queue: a
	// session whose queue would exceed either is closed as a slow consumer
	// (ErrSlowConsumer). Defaults 1024 frames and 64 MiB.
	QueueFrames int
	QueueBytes  int

	// MaxRuns bounds the read transactions that run live queries at once
	// (first runs and re-runs). Queries made stale meanwhile wait and then
	// run together, up to 64 in one transaction, their scans sent to
	// Postgres together stage by stage. Keep it below the pool's size, so
	// that transacts find a connection (internal/server uses half the
	// pool). Default 2.
	MaxRuns int

	// PingInterval is how often the server pings each client; a client
	// that sends nothing, not even a pong, for two intervals is dropped.
	// Default 30s.
	PingInterval time.Duration
	// WriteTimeout bounds writing one frame. Default 10s.
	WriteTimeout time.Duration
	// RequestTimeout bounds one query run or one transact. Default 30s.
	RequestTimeout time.Duration
	// SchemaWaitTimeout bounds how long a transact that changes attributes
	// waits for its own change to come back through the WAL, so that the
	// session's next add-query resolves the new names. Default 5s.
	SchemaWaitTimeout time.Duration

	// CheckOrigin decides whether a WebSocket handshake's Origin is
	// accepted. Nil accepts any: sessions authenticate with a token in
	// init, never with cookies, so a foreign page gains nothing by
	// connecting.
	CheckOrigin func(r *http.Request) bool
}

// withDefaults returns c with its zero fields filled in.
func (c Config) withDefaults() Config {
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.MaxMessageBytes == 0 {
		c.MaxMessageBytes = wire.DefaultMaxMessageBytes
	}
	if c.HardMaxMessageBytes == 0 {
		c.HardMaxMessageBytes = 4 * c.MaxMessageBytes
	}
	if c.MaxQueries == 0 {
		c.MaxQueries = DefaultMaxQueries
	}
	if c.MaxQueryBytes == 0 {
		c.MaxQueryBytes = DefaultMaxQueryBytes
	}
	if c.QueueFrames == 0 {
		c.QueueFrames = DefaultQueueFrames
	}
	if c.QueueBytes == 0 {
		c.QueueBytes = DefaultQueueBytes
	}
	if c.MaxRuns == 0 {
		c.MaxRuns = DefaultMaxRuns
	}
	if c.PingInterval == 0 {
		c.PingInterval = DefaultPingInterval
	}
	if c.WriteTimeout == 0 {
		c.WriteTimeout = DefaultWriteTimeout
	}
	if c.RequestTimeout == 0 {
		c.RequestTimeout = DefaultRequestTimeout
	}
	if c.SchemaWaitTimeout == 0 {
		c.SchemaWaitTimeout = DefaultSchemaWaitTimeout
	}
	return c
}

func (c *Config) validate() error {
	switch {
	case c.Backend == nil:
		return fmt.Errorf("%w: no Backend", ErrInvalidConfig)
	case c.MaxMessageBytes < 1024:
		return fmt.Errorf("%w: MaxMessageBytes %d is under 1 KiB", ErrInvalidConfig, c.MaxMessageBytes)
	case c.HardMaxMessageBytes < c.MaxMessageBytes:
		return fmt.Errorf("%w: HardMaxMessageBytes %d is under MaxMessageBytes %d", ErrInvalidConfig, c.HardMaxMessageBytes, c.MaxMessageBytes)
	case c.MaxQueries < 0, c.MaxQueryBytes < 0, c.QueueFrames < 0, c.QueueBytes < 0, c.MaxRuns < 0:
		return fmt.Errorf("%w: negative limit", ErrInvalidConfig)
	case c.PingInterval < 0, c.WriteTimeout < 0, c.RequestTimeout < 0, c.SchemaWaitTimeout < 0:
		return fmt.Errorf("%w: negative duration", ErrInvalidConfig)
	}
	if c.Verifier != nil {
		if err := c.Verifier.Validate(); err != nil {
			return fmt.Errorf("%w: %w", ErrInvalidConfig, err)
		}
	}
	return nil
}
