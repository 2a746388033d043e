package reactor

import (
	"encoding/binary"
	"time"
)

// ConnState is the state of the client's connection to the server.
type ConnState uint8

const (
	// StateConnecting: a connection is being dialled, or is open and
	// waiting for init-ok.
	StateConnecting ConnState = iota
	// StateOnline: the server accepted the session (init-ok); queries and
	// mutations flow.
	StateOnline
	// StateOffline: no connection; the client reconnects at
	// [Status.RetryAt]. Mutations are kept and sent when it is back.
	StateOffline
	// StateError: the server refused the session (its error is in
	// [Status.Err]); the client still retries with backoff, in case the
	// cause was passing.
	StateError
)

// String returns the state's name: connecting, online, offline or error.
func (s ConnState) String() string {
	switch s {
	case StateConnecting:
		return "connecting"
	case StateOnline:
		return "online"
	case StateOffline:
		return "offline"
	case StateError:
		return "error"
	}
	return "unknown"
}

// Status is the connection status subscribers observe.
type Status struct {
	State ConnState
	// Err is why the last connection ended or was refused; nil while
	// connecting or online after a clean start.
	Err error
	// SessionID is the server's name for the session, once online.
	SessionID string
	// Attempt counts the failed connection attempts since the client was
	// last online.
	Attempt int
	// RetryAt is when the client reconnects, while offline or in error.
	RetryAt time.Time
}

// backoff returns the delay before reconnect attempt n (1 for the first
// retry): min·2^(n-1) capped at max, of which a random part up to half is
// taken off. The random part comes from the core's Rand.
func (c *Core) backoff(n int) time.Duration {
	d := c.cfg.MinBackoff
	for i := 1; i < n && d < c.cfg.MaxBackoff; i++ {
		d *= 2
	}
	d = min(d, c.cfg.MaxBackoff)
	if d <= 0 {
		return 0
	}
	var b [8]byte
	if _, err := c.cfg.Rand.Read(b[:]); err != nil {
		return d
	}
	half := uint64(d / 2)
	if half == 0 {
		return d
	}
	return d - time.Duration(binary.LittleEndian.Uint64(b[:])%half)
}
