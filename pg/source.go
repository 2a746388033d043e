package pg

import (
	"context"
	"fmt"
	"maps"
	"slices"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/triplesync/triplesync/query"
	"github.com/triplesync/triplesync/store"
)

// source is the Postgres [query.Source] of one [DB.Read]: every Scan call
// sends all its scans as one pgx.Batch over the Read's transaction, so a
// stage of the evaluation costs one round trip.
//
// Postgres narrows and orders; Go has the last word. Each scan's SQL
// selects a superset of the answer, ordered by the indexes (see scanPlan);
// the rows are then filtered with [query.Scan.Selects] and After, sorted
// with [query.Scan.Compare] and cut to Limit, so the answer is exactly the
// contract's even where Postgres's order is only close to the store's
// (strings of 1024 bytes or more, objects and arrays; see the package
// comment). A limit is pushed into SQL only in a form that cannot lose a
// row of the answer; if Go's filters leave a limited scan short while
// Postgres had more rows, the scan is sent again with a larger limit (a
// second round trip, which takes unusual data: long strings or JSON values
// next to a cursor).
type source struct {
	ctx    context.Context // bound for one evaluation, as query.Source asks
	conn   *pgxpool.Conn   // inside the Read's transaction once begun
	db     *DB
	begun  bool // BEGIN was sent: the Read must roll back
	closed bool
	trips  int // round trips made by scans
	// attrs says which attributes have the ave flag and which are links,
	// read with the transaction's snapshot, which cannot change; before
	// that round trip's answer, the previous Read's (a guess).
	attrs map[store.AttrID]attrKind
}

// attrKind is what the scans' SQL needs to know of an attribute.
type attrKind struct {
	ave, ref bool
}

// selectAttrKinds reads the attrKind of every attribute that has one
// (the others are plain: no ave index, not links).
const selectAttrKinds = `select id, is_unique or is_indexed, value_type = 'ref' from attrs
	where is_unique or is_indexed or value_type = 'ref'`

// beginRead opens a Read's transaction: a snapshot for every stage, and
// the planner switches of DB.Read, in one statement.
const (
	beginRead    = "begin isolation level repeatable read read only"
	readSwitches = "select set_config('max_parallel_workers_per_gather', '0', true), " +
		"set_config('enable_seqscan', 'off', true), set_config('jit', 'off', true)"
)

// queueBegin queues the statements that open the transaction.
func queueBegin(b *pgx.Batch) {
	b.Queue(beginRead)
	b.Queue(readSwitches)
	b.Queue(selectAttrKinds)
}

// readBegin reads the answers of queueBegin's statements: the attribute
// kinds of the transaction's snapshot.
func readBegin(br pgx.BatchResults) (map[store.AttrID]attrKind, error) {
	if _, err := br.Exec(); err != nil {
		return nil, err
	}
	if _, err := br.Exec(); err != nil {
		return nil, err
	}
	rows, err := br.Query()
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	kinds := map[store.AttrID]attrKind{}
	for rows.Next() {
		var a store.AttrID
		var k attrKind
		if err := rows.Scan((*[16]byte)(&a), &k.ave, &k.ref); err != nil {
			return nil, err
		}
		kinds[a] = k
	}
	return kinds, rows.Err()
}

// begin opens the transaction alone, for when there are no kinds to
// guess with.
func (s *source) begin() error {
	b := &pgx.Batch{}
	queueBegin(b)
	br := s.conn.SendBatch(s.ctx, b)
	kinds, err := readBegin(br)
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("read: begin: %w", err)
	}
	s.attrs = kinds
	s.db.kinds.Store(&kinds)
	return nil
}

var _ query.Source = (*source)(nil)

// maxPushedLimit is the largest limit a retried scan sends; beyond it the
// scan reads its whole answer.
const maxPushedLimit = 1 << 16

// Scan implements [query.Source]. The first Scan also opens the
// transaction, in the same round trip (see DB.Read).
func (s *source) Scan(scans []query.Scan) ([][]store.Triple, error) {
	if s.closed {
		return nil, ErrSourceClosed
	}
	begin := false
	if !s.begun {
		s.begun = true
		if p := s.db.kinds.Load(); p != nil {
			s.attrs, begin = *p, true
		} else if err := s.begin(); err != nil {
			return nil, err
		}
	}
	out, plans, err := s.plan(scans)
	if err != nil && begin {
		// The guessed kinds may be what makes a scan invalid.
		if err = s.begin(); err == nil {
			out, plans, err = s.plan(scans)
		}
		begin = false
	}
	if err != nil {
		return nil, err
	}
	for len(plans) > 0 || begin {
		b := &pgx.Batch{}
		if begin {
			queueBegin(b)
		}
		for _, p := range plans {
			sql, args := p.sql()
			b.Queue(sql, args...)
		}
		s.trips++
		br := s.conn.SendBatch(s.ctx, b)
		if begin {
			begin = false
			kinds, err := readBegin(br)
			if err != nil {
				br.Close()
				return nil, fmt.Errorf("read: begin: %w", err)
			}
			if !maps.Equal(kinds, s.attrs) {
				// The schema changed since the guess: build the scans again.
				s.attrs = kinds
				s.db.kinds.Store(&kinds)
				if err := br.Close(); err != nil {
					return nil, err
				}
				if out, plans, err = s.plan(scans); err != nil {
					return nil, err
				}
				continue
			}
		}
		var again []*scanPlan
		for _, p := range plans {
			ts, heads, err := collectTriples(br)
			if err != nil {
				br.Close()
				return nil, err
			}
			res := p.finish(ts)
			if p.limit > 0 && heads >= p.limit && len(res) < p.s.Limit {
				// Go's filters dropped rows Postgres counted: ask for more.
				p.limit *= 4
				if p.limit > maxPushedLimit {
					p.limit = 0
				}
				again = append(again, p)
				continue
			}
			out[p.index] = res
		}
		if err := br.Close(); err != nil {
			return nil, err
		}
		plans = again
	}
	return out, nil
}

// plan validates scans and builds the plans of those that can select
// anything; out has a nil answer for each scan.
func (s *source) plan(scans []query.Scan) ([][]store.Triple, []*scanPlan, error) {
	out := make([][]store.Triple, len(scans))
	plans := make([]*scanPlan, 0, len(scans))
	for i := range scans {
		sc := &scans[i]
		if err := sc.Validate(); err != nil {
			return nil, nil, err
		}
		kind := s.attrs[sc.A]
		if sc.Index == query.VAE && !kind.ref {
			return nil, nil, fmt.Errorf("%w: vae: %s is not a ref attribute", query.ErrBadScan, sc.A)
		}
		if p := newScanPlan(sc, i, kind); p != nil {
			plans = append(plans, p)
		}
	}
	return out, plans, nil
}

// collectTriples reads the next result of br: rows of (part, entity_id,
// attr_id, value text, created_at). heads counts the rows of part 0, those
// a pushed limit counted.
func collectTriples(br pgx.BatchResults) (ts []store.Triple, heads int, err error) {
	rows, err := br.Query()
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	var part int32
	var text []byte
	for rows.Next() {
		var t store.Triple
		if err := rows.Scan(&part, (*[16]byte)(&t.E), (*[16]byte)(&t.A), &text, &t.CreatedAt); err != nil {
			return nil, 0, err
		}
		if t.V, err = parseStored(text); err != nil {
			return nil, 0, fmt.Errorf("triple %s %s: %w", t.E, t.A, err)
		}
		if part == 0 {
			heads++
		}
		ts = append(ts, t)
	}
	return ts, heads, rows.Err()
}

// finish turns the rows of p's SQL into the scan's answer: filtered, after
// After, sorted, without the duplicates the completion of a fuzzy group
// may repeat, and cut to Limit.
func (p *scanPlan) finish(ts []store.Triple) []store.Triple {
	s := p.s
	var after store.Triple
	if s.After != nil {
		after = store.Triple{E: s.After.E, A: s.After.A, V: s.After.V}
	}
	out := ts[:0]
	for _, t := range ts {
		if s.Selects(t) && (s.After == nil || s.Compare(t, after) > 0) {
			out = append(out, t)
		}
	}
	slices.SortFunc(out, s.Compare)
	out = slices.CompactFunc(out, func(a, b store.Triple) bool { return a.Key() == b.Key() })
	if s.Limit > 0 && len(out) > s.Limit {
		out = out[:s.Limit]
	}
	if len(out) == 0 {
		return nil
	}
	return slices.Clip(out)
}
