package reactor

import (
	"errors"
	"io"
	"time"

	"github.com/triplesync/triplesync/internal/wire"
)

// Defaults for [Config] fields left zero.
const (
	DefaultMinBackoff      = 250 * time.Millisecond
	DefaultMaxBackoff      = 30 * time.Second
	DefaultCacheFlushDelay = 100 * time.Millisecond
	DefaultCacheMaxAge     = 365 * 24 * time.Hour
	DefaultCacheMaxEntries = 1000
	DefaultCacheMaxTriples = 1_000_000
)

// Config configures a [Core]. Now and Rand are required: the core reads no
// clock and no randomness of its own, so a test drives it deterministically.
type Config struct {
	// Now is the clock: the times of mutations, confirmations, reconnect
	// deadlines and cache use.
	Now func() time.Time
	// Rand is the source of mutation ids, entity and attribute ids drawn
	// by Transact, and reconnect jitter.
	Rand io.Reader

	// Token is sent with init; empty for an anonymous session.
	Token string

	// MinBackoff and MaxBackoff bound the delay before reconnecting: it
	// doubles from MinBackoff with each failed attempt up to MaxBackoff,
	// and a random half of it is taken off (jitter) so that clients
	// dropped together do not return together.
	MinBackoff, MaxBackoff time.Duration

	// CacheFlushDelay is how long a changed cached query waits before it
	// is written, so that a burst of refreshes costs one write. Pending
	// mutations are never delayed. Negative: write with every Ready.
	CacheFlushDelay time.Duration

	// CacheMaxAge, CacheMaxEntries and CacheMaxTriples bound the cached
	// queries kept in storage (as InstantDB's defaults: a year, 1000
	// queries, a million triples). Queries unused longest are dropped
	// first; subscribed queries never are.
	CacheMaxAge     time.Duration
	CacheMaxEntries int
	CacheMaxTriples int

	// MaxMessageBytes bounds the frames the client sends; a mutation whose
	// transact would be larger is refused. Zero: the protocol's default
	// (wire.DefaultMaxMessageBytes, 1 MiB), which the server uses too.
	MaxMessageBytes int

	// CreateMissingAttrs makes Transact define attributes for labels the
	// registry does not have (add-attr steps sent with the mutation), as a
	// schemaless InstantDB app does. Their ids derive from namespace and
	// label, so clients defining the same attribute at once agree and the
	// server applies it once. Off, an unknown label is an error.
	CreateMissingAttrs bool
}

// withDefaults returns cfg with zero fields set to their defaults.
func (cfg Config) withDefaults() Config {
	if cfg.MinBackoff == 0 {
		cfg.MinBackoff = DefaultMinBackoff
	}
	if cfg.MaxBackoff == 0 {
		cfg.MaxBackoff = DefaultMaxBackoff
	}
	if cfg.CacheFlushDelay == 0 {
		cfg.CacheFlushDelay = DefaultCacheFlushDelay
	}
	if cfg.CacheMaxAge == 0 {
		cfg.CacheMaxAge = DefaultCacheMaxAge
	}
	if cfg.CacheMaxEntries == 0 {
		cfg.CacheMaxEntries = DefaultCacheMaxEntries
	}
	if cfg.MaxMessageBytes == 0 {
		cfg.MaxMessageBytes = wire.DefaultMaxMessageBytes
	}
	if cfg.CacheMaxTriples == 0 {
		cfg.CacheMaxTriples = DefaultCacheMaxTriples
	}
	return cfg
}

func (cfg Config) validate() error {
	switch {
	case cfg.Now == nil:
		return errors.New("reactor: config: Now is required")
	case cfg.Rand == nil:
		return errors.New("reactor: config: Rand is required")
	case cfg.MinBackoff < 0 || cfg.MaxBackoff < cfg.MinBackoff:
		return errors.New("reactor: config: need 0 <= MinBackoff <= MaxBackoff")
	case cfg.CacheMaxAge < 0 || cfg.CacheMaxEntries < 0 || cfg.CacheMaxTriples < 0:
		return errors.New("reactor: config: negative cache limit")
	}
	return nil
}
