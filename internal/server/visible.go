package server

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// visibility makes sure a transaction the WAL delivered is visible to the
// snapshots queries take next.
//
// Postgres flushes a commit record to the WAL before it removes the
// transaction from the set of running ones (ProcArrayEndTransaction), and
// the walsender may decode and send the commit in between: a query whose
// snapshot is taken right after the WAL reader hands the transaction on
// may not see it (seen in the integration tests: the refresh re-ran the
// query and found nothing new). Before handing a transaction to the
// invalidator, the server therefore waits until a snapshot taken after
// the commit arrived counts it as completed.
//
// One snapshot answers for many transactions: every transaction id below
// its xmax and not in its running list had completed when it was taken.
// Under load, one query covers a burst of commits; a lone commit costs one
// round trip, on a connection of its own: pgxpool pings a connection that
// has been idle for over a second before handing it out, so through the
// pool a commit after a quiet second cost two round trips (issue 5:
// BenchmarkCommitToInvalidation/sparse, visibility check p50 ≈ 850 µs
// through the pool, ≈ 450 µs on its own connection, on a loaded 2-core
// machine). Used by the WAL goroutine only; closed by the server after
// the WAL reader.
type visibility struct {
	dsn  string
	conn *pgx.Conn // nil until first needed, and after an error
	snap xidSnapshot
	ok   bool // snap holds a snapshot
}

// xidSnapshot is the transaction-id part of a Postgres snapshot, reduced
// to 32-bit ids (what the WAL carries), compared modulo wraparound.
type xidSnapshot struct {
	xmin, xmax uint32
	xip        []uint32 // running at the time, sorted
}

// completed reports whether transaction xid had completed (committed or
// aborted) when the snapshot was taken.
func (s xidSnapshot) completed(xid uint32) bool {
	if precedes(xid, s.xmin) {
		return true
	}
	if !precedes(xid, s.xmax) {
		return false
	}
	_, running := slices.BinarySearch(s.xip, xid)
	return !running
}

// parseSnapshot parses pg_current_snapshot()'s text form, "xmin:xmax:xip,…".
func parseSnapshot(text string) (xidSnapshot, error) {
	parts := strings.Split(text, ":")
	if len(parts) != 3 {
		return xidSnapshot{}, fmt.Errorf("snapshot %q: want xmin:xmax:xip", text)
	}
	num := func(s string) (uint32, error) {
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("snapshot %q: %w", text, err)
		}
		return uint32(n), nil // the low half: the WAL's 32-bit xid
	}
	var s xidSnapshot
	var err error
	if s.xmin, err = num(parts[0]); err != nil {
		return s, err
	}
	if s.xmax, err = num(parts[1]); err != nil {
		return s, err
	}
	if parts[2] != "" {
		for _, f := range strings.Split(parts[2], ",") {
			x, err := num(f)
			if err != nil {
				return s, err
			}
			s.xip = append(s.xip, x)
		}
	}
	slices.Sort(s.xip)
	return s, nil
}

// precedes reports whether 32-bit transaction id a comes before b, modulo
// wraparound, as Postgres compares them.
func precedes(a, b uint32) bool { return int32(a-b) < 0 }

// wait blocks until transaction xid has completed as of new snapshots. An
// xid of 0 (a reset the reader made up) needs no wait. An error (Postgres
// restarting) drops the connection, so the next wait connects anew; it
// is not retried here (see Server.handle).
func (v *visibility) wait(ctx context.Context, xid uint32) error {
	if xid == 0 || (v.ok && v.snap.completed(xid)) {
		return nil
	}
	delay := 50 * time.Microsecond
	for {
		text, err := v.current(ctx)
		if err != nil {
			return fmt.Errorf("check visibility of xid %d: %w", xid, err)
		}
		snap, err := parseSnapshot(text)
		if err != nil {
			return err
		}
		v.snap, v.ok = snap, true
		if snap.completed(xid) {
			return nil
		}
		// The committing backend is between its WAL flush and leaving the
		// running set: microseconds, unless it was descheduled.
		t := time.NewTimer(delay)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		}
		delay = min(2*delay, 10*time.Millisecond)
	}
}

// current reads pg_current_snapshot() on v's connection, connecting first
// if needed.
func (v *visibility) current(ctx context.Context) (string, error) {
	if v.conn == nil {
		conn, err := pgx.Connect(ctx, v.dsn)
		if err != nil {
			return "", err
		}
		v.conn = conn
	}
	var text string
	if err := v.conn.QueryRow(ctx, "SELECT pg_current_snapshot()::text").Scan(&text); err != nil {
		v.close(ctx)
		return "", err
	}
	return text, nil
}

// close closes v's connection, if any.
func (v *visibility) close(ctx context.Context) {
	if v.conn != nil {
		_ = v.conn.Close(ctx)
		v.conn = nil
	}
}
