package server

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
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
// machine).
//
// A backend left idle for a second was also slow to answer: the server
// calls warm a few times a second, which takes a snapshot when the
// connection has been idle (sparse writes: check p50 ≈ 600–980 µs → ≈
// 420 µs, commit → invalidation ≈ 1.2–1.6 ms → 0.54–0.70 ms). Used by the
// WAL goroutine and that ticker; closed by the server after the WAL
// reader.
type visibility struct {
	dsn string

	mu   sync.Mutex
	used time.Time // last query
	conn *pgx.Conn // nil until first needed, and after an error
	snap xidSnapshot
	ok   bool // snap holds a snapshot
}

// Keeping the visibility connection warm.
const (
	warmEvery = 200 * time.Millisecond // how often the server calls warm
	warmIdle  = 150 * time.Millisecond // idle time after which warm queries
)

// warm takes a snapshot if v's connection has been idle for idle. A later
// snapshot only ever covers more transactions, so it also spares the next
// wait a round trip when nothing was written meanwhile. It does not
// connect: a connection that failed is made again by the next wait.
func (v *visibility) warm(ctx context.Context, idle time.Duration) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.conn == nil || time.Since(v.used) < idle {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	text, err := v.current(ctx)
	if err != nil {
		return
	}
	if snap, err := parseSnapshot(text); err == nil {
		v.snap, v.ok = snap, true
	}
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
	v.mu.Lock()
	defer v.mu.Unlock()
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
// if needed. v.mu is held.
func (v *visibility) current(ctx context.Context) (string, error) {
	v.used = time.Now()
	if v.conn == nil {
		conn, err := pgx.Connect(ctx, v.dsn)
		if err != nil {
			return "", err
		}
		v.conn = conn
	}
	var text string
	if err := v.conn.QueryRow(ctx, "SELECT pg_current_snapshot()::text").Scan(&text); err != nil {
		v.drop(ctx)
		return "", err
	}
	return text, nil
}

// close closes v's connection, if any.
func (v *visibility) close(ctx context.Context) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.drop(ctx)
}

// drop closes v's connection, if any. v.mu is held.
func (v *visibility) drop(ctx context.Context) {
	if v.conn != nil {
		_ = v.conn.Close(ctx)
		v.conn = nil
	}
}
