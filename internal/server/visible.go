package server

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
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
// invalidator, the server therefore waits until a fresh snapshot counts
// it as completed.
//
// Nearly always it already is, and usually a snapshot's xmin proves it
// without asking: every transaction id below the xmin of some earlier
// snapshot has completed. Only an id at or above the last xmin seen costs
// a round trip. Used by the WAL goroutine only.
type visibility struct {
	xmin uint32 // low 32 bits of the last snapshot's xmin; 0 before any
}

// visibleSQL reports whether the transaction with 32-bit id $1 has
// completed as of a new snapshot, and that snapshot's xmin. The full
// 64-bit id takes the epoch of the snapshot's xmax, minus one when the
// 32-bit id is above xmax's low half (it comes from the previous epoch:
// a committed transaction's id is below xmax).
const visibleSQL = `
WITH s AS (SELECT pg_current_snapshot() AS snap),
     x AS (SELECT snap, pg_snapshot_xmax(snap)::text::int8 AS xmax, pg_snapshot_xmin(snap)::text::int8 AS xmin FROM s)
SELECT pg_visible_in_snapshot(
         ((((xmax >> 32) - CASE WHEN $1::int8 > (xmax & 4294967295) THEN 1 ELSE 0 END) << 32) | $1::int8)::text::xid8,
         snap),
       (xmin & 4294967295)
FROM x`

// precedes reports whether 32-bit transaction id a comes before b, modulo
// wraparound, as Postgres compares them.
func precedes(a, b uint32) bool { return int32(a-b) < 0 }

// wait blocks until transaction xid has completed as of new snapshots. An
// xid of 0 (a reset the reader made up) needs no wait.
func (v *visibility) wait(ctx context.Context, pool *pgxpool.Pool, xid uint32) error {
	if xid == 0 || (v.xmin != 0 && precedes(xid, v.xmin)) {
		return nil
	}
	delay := 50 * time.Microsecond
	for {
		var visible bool
		var xmin int64
		if err := pool.QueryRow(ctx, visibleSQL, int64(xid)).Scan(&visible, &xmin); err != nil {
			return fmt.Errorf("check visibility of xid %d: %w", xid, err)
		}
		v.xmin = uint32(xmin)
		if visible {
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
