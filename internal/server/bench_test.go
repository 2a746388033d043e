package server_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/triplesync/triplesync/internal/pgtest"
	"github.com/triplesync/triplesync/internal/server"
	"github.com/triplesync/triplesync/internal/wire"
	"github.com/triplesync/triplesync/store"
	"github.com/triplesync/triplesync/wal"
)

// BenchmarkWriteToPush measures one write's way through the whole server
// on real Postgres: a session's transact, commit, WAL, invalidator, the
// shared query's re-run and the refresh-ok arriving at another session
// subscribed to a 100-row query.
func BenchmarkWriteToPush(b *testing.B) {
	db := pgtest.New(b)
	srv := mustOpen(b, db, "bench", sessionConfig(b))
	var ops [][]any
	for i := 1; i <= 100; i++ {
		ops = append(ops, todo(entity(i), fmt.Sprintf("todo %03d", i), alice))
	}
	adminTransact(b, srv, ops...)
	title, _ := srv.Sessions().Attrs().ByName("todos", "title")
	writer := dialInit(b, srv, userToken(b, alice))
	reader := dialInit(b, srv, userToken(b, alice))
	reader.addQuery("all", `{"todos":{}}`)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		writer.send(&wire.Transact{MutationID: fmt.Sprint("m", i), Steps: []store.Step{
			{Op: store.OpAddTriple, E: entity(1 + i%100), A: title.ID, V: store.String(fmt.Sprint("t", i))},
		}})
		expect[*wire.TransactOK](writer)
		reader.refresh("all")
	}
}

// BenchmarkCommitToInvalidation measures commit → invalidation on real
// Postgres over loopback (issue 5): each iteration commits a one-row
// write with plain SQL on its own connection (a transactions row and a
// title update, as transact writes them) and waits until the server has
// applied it to the session server, that is, the WAL reader decoded it,
// the visibility check passed, and the invalidator marked the subscribed
// query stale and woke its session. A subscriber on that query re-runs it
// meanwhile, as it would in production. It reports percentiles from the
// commit's return to the client ("commit"; the invalidation can finish
// before the client hears back, so it can be negative) and from just
// before the statement was sent ("send"). wal's BenchmarkReaderLatency
// measures the floor under it, commit → decoded, on the same machine.
//
// "back-to-back" writes as fast as the invalidations come (run it with
// -benchtime=2000x); "sparse" waits 1.1 s between writes, as a lone
// user's writes come, long enough for idle connections to go stale for
// pgxpool's liveness ping (run it with -benchtime=30x).
func BenchmarkCommitToInvalidation(b *testing.B) {
	b.Run("back-to-back", func(b *testing.B) { benchInvalidation(b, 0) })
	b.Run("sparse", func(b *testing.B) { benchInvalidation(b, 1100*time.Millisecond) })
}

func benchInvalidation(b *testing.B, pause time.Duration) {
	db := pgtest.New(b)
	type applied struct {
		tx store.TxID
		at time.Time
	}
	got := make(chan applied, 16)
	srv, err := server.New(server.Config{
		DSN: db.DSN, InstanceID: db.Name + "_bench", Session: sessionConfig(b), Logger: testLogger(),
	})
	require.NoError(b, err)
	server.SetAppliedHook(srv, func(tx wal.Transaction) {
		if tx.TxID != 0 {
			got <- applied{tx.TxID, time.Now()}
		}
	})
	b.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		require.NoError(b, srv.Close(ctx))
	})
	require.NoError(b, srv.Open(b.Context()))
	var ops [][]any
	for i := 1; i <= 100; i++ {
		ops = append(ops, todo(entity(i), fmt.Sprintf("todo %03d", i), alice))
	}
	setup := adminTransact(b, srv, ops...)
	title, _ := srv.Sessions().Attrs().ByName("todos", "title")
	sub := dialInit(b, srv, userToken(b, alice))
	sub.addQuery("all", `{"todos":{}}`)
	go func() { // keep reading, so the subscriber is never a slow consumer
		for {
			if _, _, err := sub.ws.ReadMessage(); err != nil {
				return
			}
		}
	}()
	for a := range got { // the setup's own write
		if a.tx == setup {
			break
		}
	}

	ctx := b.Context()
	conn, err := pgx.Connect(ctx, db.DSN)
	require.NoError(b, err)
	defer conn.Close(context.Background())
	_, err = conn.Prepare(ctx, "w", `WITH t AS (INSERT INTO transactions (mutation_id) VALUES (NULL) RETURNING id),
		u AS (UPDATE triples SET value = to_jsonb($1::text) WHERE entity_id = $2 AND attr_id = $3)
		SELECT id FROM t`)
	require.NoError(b, err)
	before := srv.Sessions().Stats()
	var sinceSend, sinceCommit []time.Duration
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if pause > 0 && i > 0 {
			b.StopTimer()
			time.Sleep(pause)
			b.StartTimer()
		}
		i++
		var tx store.TxID
		t0 := time.Now()
		if err := conn.QueryRow(ctx, "w", fmt.Sprint("t", i), entity(1+i%100), title.ID).Scan(&tx); err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		select {
		case a := <-got:
			if a.tx != tx {
				b.Fatalf("applied tx %d, want %d", a.tx, tx)
			}
			sinceSend = append(sinceSend, a.at.Sub(t0))
			sinceCommit = append(sinceCommit, a.at.Sub(t1))
		case <-time.After(readTimeout):
			b.Fatal("the write was never invalidated")
		}
	}
	b.StopTimer()
	after := srv.Sessions().Stats()
	require.Equal(b, uint64(i), after.Changes-before.Changes, "every write applied once")
	require.Positive(b, after.Refreshes-before.Refreshes, "the subscribed query was refreshed")
	report := func(name string, d []time.Duration) {
		slices.Sort(d)
		b.ReportMetric(float64(d[len(d)/2].Microseconds()), name+"-p50-µs")
		b.ReportMetric(float64(d[len(d)*99/100].Microseconds()), name+"-p99-µs")
	}
	report("commit", sinceCommit)
	report("send", sinceSend)
}
