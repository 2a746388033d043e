package server_test

import (
	"fmt"
	"testing"

	"github.com/triplesync/triplesync/internal/pgtest"
	"github.com/triplesync/triplesync/internal/wire"
	"github.com/triplesync/triplesync/store"
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
