package pgtest

import "errors"

var (
	// ErrNoBinaries means initdb and postgres were not found. Tests skip on it
	// (or fail under CI=true / TEST_REQUIRE_POSTGRES=1).
	ErrNoBinaries = errors.New("pgtest: postgres binaries not found")

	// ErrAlreadyRunning means a live postgres holds the data directory (its
	// postmaster.pid names a running postgres process).
	ErrAlreadyRunning = errors.New("pgtest: postgres already running on the data directory")

	// ErrUnreachable means the postgres user cannot reach the data directory
	// because a parent directory is not searchable for it.
	ErrUnreachable = errors.New("pgtest: data directory not reachable by the postgres user")

	// ErrExited means postgres exited while starting; the error carries the
	// last lines of its log.
	ErrExited = errors.New("pgtest: postgres exited during startup")

	// ErrClosed means the cluster was closed.
	ErrClosed = errors.New("pgtest: cluster closed")
)
