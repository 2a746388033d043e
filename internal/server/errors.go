package server

import "errors"

var (
	// ErrInvalidConfig is returned by New for a Config that cannot work.
	ErrInvalidConfig = errors.New("server: invalid config")

	// ErrClosed is returned by Open on a server opened or closed before.
	ErrClosed = errors.New("server: closed")
)
