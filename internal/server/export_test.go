package server

import "github.com/triplesync/triplesync/wal"

// SetAppliedHook makes s call fn from the WAL goroutine once the session
// server has applied a committed transaction: the invalidator has marked
// the queries it touches stale and their sessions are woken. Set it
// before Open.
func SetAppliedHook(s *Server, fn func(tx wal.Transaction)) { s.applied = fn }
