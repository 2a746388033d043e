package wal_test

import (
	"context"
	"fmt"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pglogrepl"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgproto3"
	"github.com/stretchr/testify/require"

	"github.com/triplesync/triplesync/pg"
	"github.com/triplesync/triplesync/store"
	"github.com/triplesync/triplesync/wal"
)

// BenchmarkDecode measures the pure decoder on pgoutput bytes: one
// iteration decodes one transaction of the given number of triple rows
// (plus its transactions row).
func BenchmarkDecode(b *testing.B) {
	for _, rows := range []int{1, 100, 10000} {
		b.Run(fmt.Sprintf("rows=%d", rows), func(b *testing.B) {
			msgs := [][]byte{beginMsg(0x100, 1), insertMsg(nil, relTx, txRow("1")...)}
			for i := range rows {
				msgs = append(msgs, insertMsg(nil, relTriples,
					tripleRow(fmt.Sprintf("6f1c1d2a-0000-4000-8000-%012d", i), a1, `"buy milk"`, "tfftf", "1700000000000")...))
			}
			msgs = append(msgs, commitMsg(0x100, 0x200))
			var d wal.Decoder
			for _, m := range schemaMsgs() {
				_, err := d.Decode(1, m)
				require.NoError(b, err)
			}
			b.ReportAllocs()
			start := time.Now()
			for b.Loop() {
				for _, m := range msgs {
					if _, err := d.Decode(1, m); err != nil {
						b.Fatal(err)
					}
				}
			}
			b.ReportMetric(float64(rows)*float64(b.N)/time.Since(start).Seconds(), "rows/s")
		})
	}
}

// BenchmarkReaderLatency measures commit → decoded on a real Postgres over
// loopback: each iteration commits a one-row transaction (a transactions
// row and a triple, as transact writes them) and waits until it has been
// decoded. Run it with -benchtime=2000x. It reports percentiles of the
// time from the commit's return to the client ("commit") and from just
// before the statement was sent ("send"); decoding can finish before the
// client hears back, so "commit" can be negative.
//
// "reader" goes through a [wal.Reader] and its Handle; "raw" is the floor
// under it: a bare pglogrepl receive loop feeding a [wal.Decoder] on one
// goroutine, with no queue, acknowledgement or delivery goroutine, on the
// same machine at the same time. The "-sparse" variants wait 1.1 s between
// writes (run them with -benchtime=30x), as internal/server's
// BenchmarkCommitToInvalidation/sparse does: the floor for a lone write,
// when every process on the way has gone idle.
func BenchmarkReaderLatency(b *testing.B) {
	b.Run("reader", func(b *testing.B) { benchReaderLatency(b, 0) })
	b.Run("raw", func(b *testing.B) { benchRawLatency(b, 0) })
	b.Run("reader-sparse", func(b *testing.B) { benchReaderLatency(b, 1100*time.Millisecond) })
	b.Run("raw-sparse", func(b *testing.B) { benchRawLatency(b, 1100*time.Millisecond) })
}

func benchReaderLatency(b *testing.B, pause time.Duration) {
	f := mustOpenFixture(b)
	got := make(chan time.Time, 1)
	cfg := f.readerConfig(b, "bench", func(_ context.Context, tx wal.Transaction) error {
		if tx.TxID != 0 {
			got <- time.Now()
		}
		return nil
	})
	mustOpenReader(b, cfg)
	benchLatency(b, f, got, pause)
}

func benchRawLatency(b *testing.B, pause time.Duration) {
	f := mustOpenFixture(b)
	got := make(chan time.Time, 1)
	ctx, cancel := context.WithCancel(context.Background())
	conn, err := pgconn.Connect(ctx, f.db.ReplicationDSN())
	require.NoError(b, err)
	slot := f.prefix + "_raw"
	_, err = pglogrepl.CreateReplicationSlot(ctx, conn, slot, "pgoutput", pglogrepl.CreateReplicationSlotOptions{Temporary: true, Mode: pglogrepl.LogicalReplication})
	require.NoError(b, err)
	require.NoError(b, pglogrepl.StartReplication(ctx, conn, slot, 0, pglogrepl.StartReplicationOptions{
		Mode: pglogrepl.LogicalReplication, PluginArgs: []string{"proto_version '2'", "publication_names '" + pg.Publication + "'"},
	}))
	done := make(chan struct{})
	go func() {
		defer close(done)
		var d wal.Decoder
		for {
			raw, err := conn.ReceiveMessage(ctx)
			if err != nil {
				return
			}
			cd, ok := raw.(*pgproto3.CopyData)
			if !ok || cd.Data[0] != pglogrepl.XLogDataByteID {
				continue
			}
			xld, err := pglogrepl.ParseXLogData(cd.Data[1:])
			if err != nil {
				return
			}
			if tx, err := d.Decode(store.LSN(xld.WALStart), xld.WALData); err == nil && tx != nil && tx.TxID != 0 {
				got <- time.Now()
			}
		}
	}()
	b.Cleanup(func() {
		cancel()
		<-done
		conn.Close(context.Background())
	})
	benchLatency(b, f, got, pause)
}

func benchLatency(b *testing.B, f *fixture, got <-chan time.Time, pause time.Duration) {
	ctx := b.Context()
	_, err := f.conn.Prepare(ctx, "w", `WITH t AS (INSERT INTO transactions (mutation_id) VALUES (NULL) RETURNING id)
		INSERT INTO triples (entity_id, attr_id, value, ea) SELECT gen_random_uuid(), $1, to_jsonb(id), true FROM t`)
	require.NoError(b, err)
	var sinceSend, sinceCommit []time.Duration
	b.ReportAllocs()
	first := true
	for b.Loop() {
		if pause > 0 && !first {
			b.StopTimer()
			time.Sleep(pause)
			b.StartTimer()
		}
		first = false
		t0 := time.Now()
		if _, err := f.conn.Exec(ctx, "w", a1); err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		select {
		case t2 := <-got:
			sinceSend = append(sinceSend, t2.Sub(t0))
			sinceCommit = append(sinceCommit, t2.Sub(t1))
		case <-time.After(waitTimeout):
			b.Fatal("transaction never arrived")
		}
	}
	report := func(name string, d []time.Duration) {
		slices.Sort(d)
		b.ReportMetric(float64(d[len(d)/2].Microseconds()), name+"-p50-µs")
		b.ReportMetric(float64(d[len(d)*99/100].Microseconds()), name+"-p99-µs")
	}
	report("commit", sinceCommit)
	report("send", sinceSend)
}

// BenchmarkReaderThroughput measures decoding throughput end to end: the
// transactions are committed while no reader runs, then a reader on the
// slot is timed from Open until it has handled them all. "small" is many
// one-row transactions (committed by a procedure, one COMMIT per row),
// "large" one transaction of many rows.
func BenchmarkReaderThroughput(b *testing.B) {
	tests := []struct {
		name    string
		txs     int
		rowsPer int
		produce string
	}{
		{"small", 20000, 1, `CALL bench_small($1, 20000)`},
		{"large", 1, 100000, `INSERT INTO triples (entity_id, attr_id, value) SELECT gen_random_uuid(), $1, to_jsonb(i) FROM generate_series(1, 100000) i`},
	}
	for _, tt := range tests {
		b.Run(tt.name, func(b *testing.B) {
			f := mustOpenFixture(b)
			f.exec(b, `CREATE PROCEDURE bench_small(a uuid, n int) LANGUAGE plpgsql AS $$
				BEGIN FOR i IN 1..n LOOP
					INSERT INTO triples (entity_id, attr_id, value) VALUES (gen_random_uuid(), a, to_jsonb(i));
					COMMIT;
				END LOOP; END $$`)
			var rows atomic.Int64
			done := make(chan struct{}, 1)
			want := int64(tt.txs * tt.rowsPer)
			cfg := f.readerConfig(b, "bench", func(_ context.Context, tx wal.Transaction) error {
				if rows.Add(int64(len(tx.Triples))) >= want {
					select {
					case done <- struct{}{}:
					default:
					}
				}
				return nil
			})
			cfg.QueueSize = 1024
			var total time.Duration
			b.ReportAllocs()
			for b.Loop() {
				// Make the slot, then write while no reader runs.
				r, err := wal.NewReader(cfg)
				require.NoError(b, err)
				require.NoError(b, r.Open(b.Context()))
				require.NoError(b, r.Close(b.Context()))
				_, err = f.conn.Exec(b.Context(), tt.produce, a1)
				require.NoError(b, err)
				rows.Store(0)

				start := time.Now()
				r, err = wal.NewReader(cfg)
				require.NoError(b, err)
				require.NoError(b, r.Open(b.Context()))
				select {
				case <-done:
				case <-time.After(2 * time.Minute):
					b.Fatal("transactions never arrived")
				}
				total += time.Since(start)
				require.NoError(b, r.Close(b.Context()))
				_, err = f.conn.Exec(b.Context(), `TRUNCATE triples`)
				require.NoError(b, err)
				require.NoError(b, wal.DropSlot(b.Context(), f.db.DSN, cfg.Slot))
			}
			secs := total.Seconds()
			b.ReportMetric(float64(want)*float64(b.N)/secs, "rows/s")
			b.ReportMetric(float64(tt.txs)*float64(b.N)/secs, "txs/s")
		})
	}
}
