package wal_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/triplesync/triplesync/internal/pgtest"
	"github.com/triplesync/triplesync/pg"
	"github.com/triplesync/triplesync/store"
	"github.com/triplesync/triplesync/wal"
)

// The tests below run against a real Postgres 15 (internal/pgtest), with
// the schema pg.Migrate makes; the test-only import of pg is the one
// place wal meets another edge.

func TestMain(m *testing.M) { pgtest.Main(m) }

// waitTimeout bounds every wait for a change to arrive.
const waitTimeout = 20 * time.Second

// fixture is a migrated database with two attributes and a writer.
type fixture struct {
	db     *pgtest.DB
	conn   *pgx.Conn
	title  store.Attr // todos.title: string, one, indexed
	owner  store.Attr // todos.owner: ref to users, one
	prefix string     // slot names start with it
}

func mustOpenFixture(t testing.TB) *fixture {
	t.Helper()
	db := pgtest.New(t)
	conn, err := pgx.Connect(t.Context(), db.DSN)
	require.NoError(t, err)
	t.Cleanup(func() { conn.Close(context.Background()) })
	require.NoError(t, pg.Migrate(t.Context(), conn))
	f := &fixture{
		db:   db,
		conn: conn,
		title: store.Attr{ID: store.MustParseEntityID(a1), Namespace: "todos", Label: "title",
			Type: store.TypeString, Cardinality: store.CardinalityOne, Indexed: true},
		owner: store.Attr{ID: store.MustParseEntityID(a2), Namespace: "todos", Label: "owner",
			Type: store.TypeRef, Cardinality: store.CardinalityOne, RefNamespace: "users", ReverseLabel: "todos"},
		prefix: db.Name,
	}
	f.exec(t, `INSERT INTO attrs (id, namespace, label, value_type, cardinality, is_indexed) VALUES ($1, 'todos', 'title', 'string', 'one', true)`, a1)
	f.exec(t, `INSERT INTO attrs (id, namespace, label, value_type, cardinality, ref_namespace, reverse_label) VALUES ($1, 'todos', 'owner', 'ref', 'one', 'users', 'todos')`, a2)
	return f
}

func (f *fixture) exec(t testing.TB, sql string, args ...any) {
	t.Helper()
	_, err := f.conn.Exec(context.Background(), sql, args...)
	require.NoError(t, err, sql)
}

// writeTx inserts a transactions row and one triple in one Postgres
// transaction, as the transact path does, and returns the tx-id.
func (f *fixture) writeTx(ctx context.Context, conn *pgx.Conn, e, v string) (store.TxID, error) {
	var id int64
	err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, `INSERT INTO transactions (mutation_id) VALUES (gen_random_uuid()::text) RETURNING id`).Scan(&id); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO triples (entity_id, attr_id, value, ea, ave, created_at) VALUES ($1, $2, $3::jsonb, true, true, 7)`, e, a1, v)
		return err
	})
	return store.TxID(id), err
}

// collector is a Handle that records what it is given.
type collector struct {
	mu  sync.Mutex
	txs []wal.Transaction
}

func (c *collector) handle(_ context.Context, tx wal.Transaction) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.txs = append(c.txs, tx)
	return nil
}

func (c *collector) all() []wal.Transaction {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]wal.Transaction(nil), c.txs...)
}

// changes returns the transactions that carry changes or a tx-id (not
// the resets a reader makes on its own).
func (c *collector) changes() []wal.Transaction {
	var out []wal.Transaction
	for _, tx := range c.all() {
		if !(tx.Reset && tx.TxID == 0 && len(tx.Triples) == 0 && len(tx.Attrs) == 0) {
			out = append(out, tx)
		}
	}
	return out
}

// waitFor polls until ok holds for the collected transactions or the
// deadline passes.
func (c *collector) waitFor(t testing.TB, what string, ok func([]wal.Transaction) bool) []wal.Transaction {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for {
		txs := c.changes()
		if ok(txs) {
			return txs
		}
		if time.Now().After(deadline) {
			require.FailNowf(t, "timed out", "waiting for %s; have %d transactions", what, len(txs))
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func (c *collector) waitN(t testing.TB, n int) []wal.Transaction {
	t.Helper()
	return c.waitFor(t, fmt.Sprintf("%d transactions", n), func(txs []wal.Transaction) bool { return len(txs) >= n })
}

func testLogger(t testing.TB) *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}

// readerConfig is a fast-reacting configuration for tests.
func (f *fixture) readerConfig(t testing.TB, slot string, handle func(context.Context, wal.Transaction) error) wal.Config {
	return wal.Config{
		DSN:            f.db.DSN,
		Slot:           f.prefix + "_" + slot,
		Publication:    pg.Publication,
		Handle:         handle,
		Logger:         testLogger(t),
		StatusInterval: 50 * time.Millisecond,
		MinBackoff:     10 * time.Millisecond,
		MaxBackoff:     200 * time.Millisecond,
	}
}

func mustOpenReader(t testing.TB, cfg wal.Config) *wal.Reader {
	t.Helper()
	r, err := wal.NewReader(cfg)
	require.NoError(t, err)
	require.NoError(t, r.Open(t.Context()))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		assert.NoError(t, r.Close(ctx))
	})
	return r
}

func TestReaderTriples(t *testing.T) {
	t.Parallel()
	f := mustOpenFixture(t)
	var c collector
	mustOpenReader(t, f.readerConfig(t, "r", c.handle))

	// (a) Through a transactions row: the tx-id arrives with the change.
	txid, err := f.writeTx(t.Context(), f.conn, e1, `"buy milk"`)
	require.NoError(t, err)
	require.NotZero(t, txid)

	// (b) Plain SQL from another connection: no tx-id.
	other, err := pgx.Connect(t.Context(), f.db.DSN)
	require.NoError(t, err)
	defer other.Close(context.Background())
	for _, sql := range []string{
		`UPDATE triples SET value = '"buy oat milk"', ave = false WHERE entity_id = '` + e1 + `'`,
		`INSERT INTO triples (entity_id, attr_id, value, eav, vae, created_at) VALUES ('` + e1 + `', '` + a2 + `', '"` + e2 + `"', true, true, 9)`,
		`DELETE FROM triples WHERE attr_id = '` + a2 + `'`,
	} {
		_, err := other.Exec(t.Context(), sql)
		require.NoError(t, err, sql)
	}

	txs := c.waitN(t, 4)
	require.Len(t, txs, 4)
	milk := triple(e1, a1, store.String("buy milk"), 7)
	oat := triple(e1, a1, store.String("buy oat milk"), 7)
	link := triple(e1, a2, store.String(e2), 9)
	tests := []struct {
		name string
		txid store.TxID
		want store.TripleChange
	}{
		{"insert with tx-id", txid, store.TripleChange{Op: store.OpInsert, New: milk, NewFlags: store.FlagEA | store.FlagAVE}},
		{"update", 0, store.TripleChange{Op: store.OpUpdate, Old: milk, OldFlags: store.FlagEA | store.FlagAVE, New: oat, NewFlags: store.FlagEA}},
		{"insert ref", 0, store.TripleChange{Op: store.OpInsert, New: link, NewFlags: store.FlagEAV | store.FlagVAE}},
		{"delete", 0, store.TripleChange{Op: store.OpDelete, Old: link, OldFlags: store.FlagEAV | store.FlagVAE}},
	}
	for i, tt := range tests {
		tx := txs[i]
		assert.Equal(t, tt.txid, tx.TxID, tt.name)
		assert.False(t, tx.Reset, "%s: %s", tt.name, tx.ResetReason)
		assert.Equal(t, []store.TripleChange{tt.want}, tx.Triples, tt.name)
		assert.NotZero(t, tx.LSN, tt.name)
		assert.Greater(t, tx.EndLSN, tx.LSN, tt.name)
		if i > 0 {
			assert.Greater(t, tx.LSN, txs[i-1].LSN, "commit order")
		}
	}
}

func TestReaderAttrs(t *testing.T) {
	t.Parallel()
	f := mustOpenFixture(t)
	var c collector
	mustOpenReader(t, f.readerConfig(t, "r", c.handle))

	const a3 = "a77e0000-0000-4000-8000-000000000003"
	f.exec(t, `INSERT INTO attrs (id, namespace, label, value_type, cardinality, is_unique) VALUES ($1, 'users', 'email', 'string', 'many', true)`, a3)
	f.exec(t, `UPDATE attrs SET cardinality = 'one', is_indexed = true WHERE id = $1`, a3)
	f.exec(t, `INSERT INTO triples (entity_id, attr_id, value, ea, av, ave) VALUES ($1, $2, '"a@b.c"', true, true, true)`, e1, a3)
	f.exec(t, `DELETE FROM attrs WHERE id = $1`, a3) // cascades to the triple

	txs := c.waitN(t, 4)
	email := store.Attr{ID: store.MustParseEntityID(a3), Namespace: "users", Label: "email", Type: store.TypeString,
		Cardinality: store.CardinalityMany, Unique: true}
	email2 := email
	email2.Cardinality, email2.Indexed = store.CardinalityOne, true
	assert.Equal(t, []store.AttrChange{{Op: store.OpInsert, New: email}}, txs[0].Attrs)
	assert.Equal(t, []store.AttrChange{{Op: store.OpUpdate, Old: email, New: email2}}, txs[1].Attrs)
	assert.Len(t, txs[2].Triples, 1)
	assert.Equal(t, []store.AttrChange{{Op: store.OpDelete, Old: email2}}, txs[3].Attrs)
	require.Len(t, txs[3].Triples, 1, "the cascade's delete is in the same transaction")
	assert.Equal(t, store.OpDelete, txs[3].Triples[0].Op)
	assert.Equal(t, store.String("a@b.c"), txs[3].Triples[0].Old.V)
}

// A value large enough to be TOASTed out of line arrives whole in New when
// an update leaves it alone: Postgres sends it as "unchanged" and the
// decoder takes it from the old row.
func TestReaderToast(t *testing.T) {
	t.Parallel()
	f := mustOpenFixture(t)
	var c collector
	mustOpenReader(t, f.readerConfig(t, "r", c.handle))

	random := make([]byte, 12<<10) // incompressible, so stored out of line
	_, _ = rand.Read(random)
	big := `{"blob": "` + hex.EncodeToString(random) + `", "n": 1}`
	f.exec(t, `INSERT INTO triples (entity_id, attr_id, value, created_at) VALUES ($1, $2, $3::jsonb, 1)`, e1, a1, big)
	f.exec(t, `UPDATE triples SET ave = true, created_at = 2 WHERE entity_id = $1`, e1)

	var storage string
	require.NoError(t, f.conn.QueryRow(t.Context(), `SELECT pg_column_size(value)::text FROM triples`).Scan(&storage))
	t.Logf("jsonb of %d bytes, %s bytes in the row", len(big), storage)

	txs := c.waitN(t, 2)
	want := mustValue(t, big)
	upd := txs[1]
	require.False(t, upd.Reset, upd.ResetReason)
	require.Len(t, upd.Triples, 1)
	ch := upd.Triples[0]
	assert.Equal(t, store.OpUpdate, ch.Op)
	assert.True(t, ch.New.V == want, "New.V is the whole value")
	assert.True(t, ch.Old.V == want, "Old.V is the whole value")
	assert.Equal(t, int64(2), ch.New.CreatedAt)
	assert.Equal(t, store.FlagAVE, ch.NewFlags)
}

// Transactions bigger than logical_decoding_work_mem are streamed while
// in progress; the reader delivers them at commit, without the rows of
// rolled-back savepoints, and never delivers an aborted one.
func TestReaderStreaming(t *testing.T) {
	t.Parallel()
	f := mustOpenFixture(t)
	var c collector
	cfg := f.readerConfig(t, "r", c.handle)
	cfg.DSN += "&logical_decoding_work_mem=64kB" // the walsender's own setting: stream early
	mustOpenReader(t, cfg)

	const n = 3000
	insert := `INSERT INTO triples (entity_id, attr_id, value) SELECT gen_random_uuid(), $1, to_jsonb(i) FROM generate_series(1, $2::int) i`
	// Aborted whole.
	tx, err := f.conn.Begin(t.Context())
	require.NoError(t, err)
	_, err = tx.Exec(t.Context(), insert, a1, n)
	require.NoError(t, err)
	require.NoError(t, tx.Rollback(t.Context()))
	// Committed, with a rolled-back savepoint in the middle.
	var txid int64
	require.NoError(t, pgx.BeginFunc(t.Context(), f.conn, func(tx pgx.Tx) error {
		if _, err := tx.Exec(t.Context(), insert, a1, n); err != nil {
			return err
		}
		if _, err := tx.Exec(t.Context(), `SAVEPOINT s`); err != nil {
			return err
		}
		if _, err := tx.Exec(t.Context(), insert, a2, n); err != nil {
			return err
		}
		if _, err := tx.Exec(t.Context(), `ROLLBACK TO SAVEPOINT s`); err != nil {
			return err
		}
		if _, err := tx.Exec(t.Context(), insert, a1, 10); err != nil {
			return err
		}
		return tx.QueryRow(t.Context(), `INSERT INTO transactions (mutation_id) VALUES ('m') RETURNING id`).Scan(&txid)
	}))
	f.exec(t, `INSERT INTO triples (entity_id, attr_id, value) VALUES ($1, $2, '"after"')`, e2, a1)

	txs := c.waitN(t, 2)
	require.Len(t, txs, 2, "the aborted transaction never arrives")
	big := txs[0]
	assert.Equal(t, store.TxID(txid), big.TxID)
	assert.False(t, big.Reset, big.ResetReason)
	assert.Len(t, big.Triples, n+10)
	for _, ch := range big.Triples {
		if ch.New.A != f.title.ID {
			t.Fatalf("a row of the rolled-back savepoint arrived: %v", ch.New)
		}
	}
	assert.Equal(t, store.String("after"), txs[1].Triples[0].New.V)
}

// TestReaderExactlyOnce kills the walsender again and again, and swaps the
// reader for a new one on the same slot, while transactions are written:
// every tx-id arrives once, in commit order.
func TestReaderExactlyOnce(t *testing.T) {
	t.Parallel()
	f := mustOpenFixture(t)
	var c collector
	cfg := f.readerConfig(t, "r", c.handle)
	r1, err := wal.NewReader(cfg)
	require.NoError(t, err)
	require.NoError(t, r1.Open(t.Context()))

	const n = 300
	writer, err := pgx.Connect(t.Context(), f.db.DSN)
	require.NoError(t, err)
	defer writer.Close(context.Background())
	written := make(chan []store.TxID, 1)
	go func() {
		var ids []store.TxID
		defer func() { written <- ids }()
		for i := range n {
			id, err := f.writeTx(context.Background(), writer, fmt.Sprintf("00000000-0000-4000-8000-%012d", i), fmt.Sprint(i))
			if err != nil {
				t.Errorf("write %d: %v", i, err)
				return
			}
			ids = append(ids, id)
		}
	}()

	// Kill the walsender whenever the reader has made progress since the
	// last kill, so kills land mid-stream rather than only mid-connect.
	kills := 0
	killUntil := func(target int) {
		last := -1
		deadline := time.Now().Add(waitTimeout)
		for seen := len(c.changes()); seen < target && time.Now().Before(deadline); seen = len(c.changes()) {
			if seen > last {
				kills += f.killWalsenders(t)
				last = seen
			}
			time.Sleep(2 * time.Millisecond)
		}
	}
	killUntil(n / 2)
	// Swap the reader for a new one on the same slot halfway through.
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	require.NoError(t, r1.Close(ctx))
	cancel()
	st := r1.Stats()
	t.Logf("swap after %d transactions: handled %x acked %x, slot at %x", len(c.changes()), st.Handled, st.Acked, f.confirmed(t, cfg.Slot))
	mustOpenReader(t, cfg)
	killUntil(n)
	ids := <-written
	require.Len(t, ids, n)
	txs := c.waitN(t, n)
	got := make([]store.TxID, 0, len(txs))
	for _, tx := range txs {
		got = append(got, tx.TxID)
	}
	t.Logf("%d transactions, %d walsenders killed", n, kills)
	assert.Greater(t, kills, 0)
	assert.Equal(t, ids, got, "every tx-id once, in order")
	for _, tx := range c.all() {
		assert.False(t, tx.Reset, "no gap: %s", tx.ResetReason)
	}
}

// killWalsenders terminates the walsenders streaming this test's
// database and returns how many it hit.
func (f *fixture) killWalsenders(t testing.TB) int {
	t.Helper()
	var n int
	err := f.conn.QueryRow(context.Background(), `SELECT count(*) FILTER (WHERE pg_terminate_backend(pid))
		FROM pg_stat_activity WHERE backend_type = 'walsender' AND datname = current_database()`).Scan(&n)
	require.NoError(t, err)
	return n
}

func TestReaderTwoSlots(t *testing.T) {
	t.Parallel()
	f := mustOpenFixture(t)
	var c1, c2 collector
	mustOpenReader(t, f.readerConfig(t, "one", c1.handle))
	mustOpenReader(t, f.readerConfig(t, "two", c2.handle))
	const n = 20
	for i := range n {
		_, err := f.writeTx(t.Context(), f.conn, fmt.Sprintf("00000000-0000-4000-8000-%012d", i), fmt.Sprint(i))
		require.NoError(t, err)
	}
	txs1, txs2 := c1.waitN(t, n), c2.waitN(t, n)
	require.Len(t, txs1, n)
	require.Len(t, txs2, n)
	for i := range n {
		assert.Equal(t, txs1[i].TxID, txs2[i].TxID)
		assert.Equal(t, txs1[i].Triples, txs2[i].Triples)
	}
}

// A reader closed and replaced resumes from the slot: what the first one
// handled is not delivered again, what came after is.
func TestReaderResume(t *testing.T) {
	t.Parallel()
	f := mustOpenFixture(t)
	var c1 collector
	cfg := f.readerConfig(t, "r", c1.handle)
	cfg.StatusInterval = time.Hour // only Close acknowledges
	r1, err := wal.NewReader(cfg)
	require.NoError(t, err)
	require.NoError(t, r1.Open(t.Context()))
	a, err := f.writeTx(t.Context(), f.conn, e1, `"a"`)
	require.NoError(t, err)
	b, err := f.writeTx(t.Context(), f.conn, e2, `"b"`)
	require.NoError(t, err)
	c1.waitN(t, 2)
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	require.NoError(t, r1.Close(ctx))
	// Close acknowledges what was handled. It may acknowledge more: a
	// keepalive's later position, once everything before it is handled
	// (other tests' databases write WAL on this cluster meanwhile).
	st := r1.Stats()
	assert.GreaterOrEqual(t, st.Acked, st.Handled, "Close acknowledges what was handled")

	cc, err := f.writeTx(t.Context(), f.conn, "00000000-0000-4000-8000-000000000003", `"c"`)
	require.NoError(t, err)
	var c2 collector
	cfg.Handle = c2.handle
	mustOpenReader(t, cfg)
	c2.waitN(t, 1)
	// One more write proves nothing else was queued before it.
	d, err := f.writeTx(t.Context(), f.conn, "00000000-0000-4000-8000-000000000004", `"d"`)
	require.NoError(t, err)
	txs := c2.waitN(t, 2)
	assert.Equal(t, []store.TxID{cc, d}, []store.TxID{txs[0].TxID, txs[1].TxID}, "not %v or %v again", a, b)
	for _, tx := range c2.all() {
		assert.False(t, tx.Reset)
	}
}

// A consumer that does not return holds the acknowledgement back: the
// slot's confirmed position stays before the transaction until it is
// handled.
func TestReaderAcknowledgesOnlyHandled(t *testing.T) {
	t.Parallel()
	f := mustOpenFixture(t)
	release := make(chan struct{})
	var c collector
	handle := func(ctx context.Context, tx wal.Transaction) error {
		select {
		case <-release:
		case <-ctx.Done():
			return ctx.Err()
		}
		return c.handle(ctx, tx)
	}
	cfg := f.readerConfig(t, "r", handle)
	cfg.QueueSize = 1
	r := mustOpenReader(t, cfg)
	var ends []store.LSN
	for i := range 5 {
		_, err := f.writeTx(t.Context(), f.conn, fmt.Sprintf("00000000-0000-4000-8000-%012d", i), `1`)
		require.NoError(t, err)
		var end string
		require.NoError(t, f.conn.QueryRow(t.Context(), `SELECT pg_current_wal_insert_lsn()::text`).Scan(&end))
		ends = append(ends, mustLSN(t, end))
	}
	// Let several status intervals pass while the consumer is stuck.
	deadline := time.Now().Add(300 * time.Millisecond)
	for time.Now().Before(deadline) {
		confirmed := f.confirmed(t, cfg.Slot)
		require.Less(t, confirmed, ends[0], "acknowledged %s before anything was handled", confirmed)
		time.Sleep(20 * time.Millisecond)
	}
	close(release)
	c.waitN(t, 5)
	deadline = time.Now().Add(waitTimeout)
	for f.confirmed(t, cfg.Slot) < r.Stats().Handled {
		require.True(t, time.Now().Before(deadline), "acknowledgement never caught up")
		time.Sleep(10 * time.Millisecond)
	}
	assert.GreaterOrEqual(t, r.Stats().Handled, c.all()[4].EndLSN)
}

func mustLSN(t testing.TB, s string) store.LSN {
	t.Helper()
	var hi, lo uint32
	_, err := fmt.Sscanf(s, "%X/%X", &hi, &lo)
	require.NoError(t, err, s)
	return store.LSN(uint64(hi)<<32 | uint64(lo))
}

func (f *fixture) confirmed(t testing.TB, slot string) store.LSN {
	t.Helper()
	var s string
	require.NoError(t, f.conn.QueryRow(context.Background(),
		`SELECT coalesce(confirmed_flush_lsn, '0/0')::text FROM pg_replication_slots WHERE slot_name = $1`, slot).Scan(&s))
	return mustLSN(t, s)
}

// A slot dropped under a running reader is made again, and the reader
// says everything may be stale: what was written in between is lost to it.
func TestReaderSlotRecreatedResets(t *testing.T) {
	t.Parallel()
	f := mustOpenFixture(t)
	var c collector
	cfg := f.readerConfig(t, "r", c.handle)
	cfg.MinBackoff, cfg.MaxBackoff = 300*time.Millisecond, 300*time.Millisecond
	mustOpenReader(t, cfg)
	_, err := f.writeTx(t.Context(), f.conn, e1, `1`)
	require.NoError(t, err)
	c.waitN(t, 1)

	deadline := time.Now().Add(waitTimeout)
	for {
		f.killWalsenders(t)
		_, err := f.conn.Exec(t.Context(), `SELECT pg_drop_replication_slot($1)`, cfg.Slot)
		if err == nil {
			break
		}
		require.True(t, time.Now().Before(deadline), "could not drop the slot: %v", err)
		time.Sleep(20 * time.Millisecond)
	}
	lost, err := f.writeTx(t.Context(), f.conn, e2, `2`)
	require.NoError(t, err)
	deadline = time.Now().Add(waitTimeout)
	for {
		all := c.all()
		if last := all[len(all)-1]; last.Reset {
			assert.Contains(t, last.ResetReason, "made again")
			break
		}
		require.True(t, time.Now().Before(deadline), "no reset after the slot was recreated")
		time.Sleep(10 * time.Millisecond)
	}
	after, err := f.writeTx(t.Context(), f.conn, "00000000-0000-4000-8000-000000000003", `3`)
	require.NoError(t, err)
	c.waitFor(t, "the write after the reset", func(txs []wal.Transaction) bool { return txs[len(txs)-1].TxID == after })
	t.Logf("tx %d was written while no slot existed: covered by the reset", lost)
}

// The reader survives a Postgres restart, and a crash (after which the
// slot's confirmed position may fall back to its last checkpoint, so
// transactions come again and are deduplicated), without losing or
// repeating a transaction.
//
// It is not parallel: it stops the cluster every test shares (parallel
// tests wait until the sequential ones are done).
func TestReaderPostgresRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("restarts Postgres")
	}
	tests := []struct {
		name string
		stop func(context.Context, *pgtest.Cluster) error
	}{
		{"restart", func(ctx context.Context, c *pgtest.Cluster) error { return c.Restart(ctx) }},
		{"crash", func(ctx context.Context, c *pgtest.Cluster) error {
			if err := c.Crash(ctx); err != nil {
				return err
			}
			return c.Start(ctx)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := mustOpenFixture(t)
			if f.db.Cluster == nil {
				t.Skip("TEST_DATABASE_URL names the server: cannot restart it")
			}
			var c collector
			r := mustOpenReader(t, f.readerConfig(t, "r", c.handle))
			var want []store.TxID
			for i := range 3 {
				id, err := f.writeTx(t.Context(), f.conn, fmt.Sprintf("00000000-0000-4000-8000-%012d", i), `1`)
				require.NoError(t, err)
				want = append(want, id)
			}
			c.waitN(t, 3)
			require.NoError(t, tt.stop(t.Context(), f.db.Cluster))
			conn, err := pgx.Connect(t.Context(), f.db.DSN)
			require.NoError(t, err)
			defer conn.Close(context.Background())
			for i := 3; i < 6; i++ {
				id, err := f.writeTx(t.Context(), conn, fmt.Sprintf("00000000-0000-4000-8000-%012d", i), `1`)
				require.NoError(t, err)
				want = append(want, id)
			}
			txs := c.waitN(t, 6)
			var got []store.TxID
			for _, tx := range txs {
				got = append(got, tx.TxID)
			}
			assert.Equal(t, want, got)
			assert.GreaterOrEqual(t, r.Stats().Reconnects, uint64(1))
			for _, tx := range c.all() {
				assert.False(t, tx.Reset, tx.ResetReason)
			}
		})
	}
}

// A Handle error ends the replication connection and the reader streams
// again from its slot (issue 9): the consumer sees the failed transaction
// again, and in the end every transaction exactly once, in commit order,
// with no reset; nothing from the failed transaction on is acknowledged
// while it fails. The failure comes with later transactions queued behind
// it, which must come again too.
func TestReaderHandleError(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		fails int
	}{
		{"fails once", 1},
		{"fails three times", 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := mustOpenFixture(t)
			probe, err := pgx.Connect(t.Context(), f.db.DSN) // the Handle goroutine's own
			require.NoError(t, err)
			defer probe.Close(context.Background())
			const n, bad = 10, 3 // the fourth transaction fails
			boom := fmt.Errorf("boom")
			written := make(chan struct{})
			var c collector
			var failed []wal.Transaction // Handle goroutine only until the reader is closed
			var early []string
			cfg := f.readerConfig(t, "r", nil)
			cfg.Handle = func(ctx context.Context, tx wal.Transaction) error {
				if len(c.changes()) != bad || len(failed) == tt.fails {
					return c.handle(ctx, tx)
				}
				if len(failed) == 0 {
					select { // let the later transactions queue up behind this one
					case <-written:
					case <-ctx.Done():
						return ctx.Err()
					}
				}
				failed = append(failed, tx)
				if got := confirmedOn(t, probe, cfg.Slot); got > tx.LSN {
					early = append(early, fmt.Sprintf("slot confirmed %X past failing transaction %X", got, tx.LSN))
				}
				return boom
			}
			r := mustOpenReader(t, cfg)
			var want []store.TxID
			for i := range n {
				id, err := f.writeTx(t.Context(), f.conn, fmt.Sprintf("00000000-0000-4000-8000-%012d", i), fmt.Sprint(i))
				require.NoError(t, err)
				want = append(want, id)
			}
			close(written)
			txs := c.waitN(t, n)
			var got []store.TxID
			for _, tx := range txs {
				got = append(got, tx.TxID)
			}
			assert.Equal(t, want, got, "every tx-id once, in order")
			st := r.Stats()
			assert.Equal(t, uint64(tt.fails), st.HandleErrors)
			assert.GreaterOrEqual(t, st.Reconnects, uint64(tt.fails), "each failure ends the connection")
			require.Len(t, failed, tt.fails)
			for _, tx := range failed {
				assert.Equal(t, want[bad], tx.TxID, "the failed transaction comes again")
			}
			assert.Empty(t, early, "acknowledged before handled")
			for _, tx := range c.all() {
				assert.False(t, tx.Reset, tx.ResetReason)
			}
			select {
			case <-r.Done():
				t.Fatalf("reader stopped: %v", r.Err())
			default:
			}
			assert.NoError(t, r.Err())
			deadline := time.Now().Add(waitTimeout)
			for f.confirmed(t, cfg.Slot) < txs[n-1].EndLSN {
				require.True(t, time.Now().Before(deadline), "acknowledgement never caught up")
				time.Sleep(10 * time.Millisecond)
			}
		})
	}
}

// confirmedOn reads slot's confirmed position on conn.
func confirmedOn(t testing.TB, conn *pgx.Conn, slot string) store.LSN {
	var s string
	if err := conn.QueryRow(context.Background(),
		`SELECT coalesce(confirmed_flush_lsn, '0/0')::text FROM pg_replication_slots WHERE slot_name = $1`, slot).Scan(&s); err != nil {
		t.Errorf("read slot position: %v", err)
		return 0
	}
	return mustLSN(t, s)
}

func TestReaderOpenErrors(t *testing.T) {
	t.Parallel()
	f := mustOpenFixture(t)
	tests := []struct {
		name  string
		edit  func(*wal.Config)
		want  error
		retry bool
	}{
		{"no publication", func(c *wal.Config) { c.Publication = "nope" }, wal.ErrInvalidConfig, false},
		{"physical slot", func(c *wal.Config) {
			f.exec(t, `SELECT pg_create_physical_replication_slot($1)`, c.Slot)
		}, wal.ErrSlotMismatch, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := f.readerConfig(t, "open", func(context.Context, wal.Transaction) error { return nil })
			tt.edit(&cfg)
			r, err := wal.NewReader(cfg)
			require.NoError(t, err)
			err = r.Open(t.Context())
			assert.ErrorIs(t, err, tt.want)
			assert.Equal(t, tt.retry, wal.Retryable(err))
			assert.NoError(t, r.Close(t.Context()))
			assert.ErrorIs(t, r.Open(t.Context()), wal.ErrClosed)
		})
	}
}
