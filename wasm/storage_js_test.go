//go:build js && wasm

package wasm_test

import (
	"context"
	"flag"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/triplesync/triplesync/reactor"
	"github.com/triplesync/triplesync/reactor/reactortest"
	"github.com/triplesync/triplesync/wasm"
)

var echoURL = flag.String("echo", "", "a WebSocket echo endpoint (TestJS passes one)")

var apps atomic.Int64

// freshApp returns an app name no other test in this page used.
func freshApp(prefix string) string {
	return fmt.Sprintf("%s%d", prefix, apps.Add(1))
}

func mustIndexedDB(tb testing.TB) *wasm.IndexedDB {
	tb.Helper()
	f, err := wasm.NewIndexedDB()
	require.NoError(tb, err)
	return f
}

// TestIndexedDBContract runs reactor's storage contract over the
// browser's IndexedDB.
func TestIndexedDBContract(t *testing.T) {
	f := mustIndexedDB(t)
	reactortest.TestStorage(t, func(tb testing.TB) (reactor.Storage, func() reactor.Storage) {
		app := freshApp("contract")
		s := MustOpenStorage(tb, f, app, 0)
		return s, func() reactor.Storage { return MustOpenStorage(tb, f, app, 0) }
	})
}

// TestIndexedDBMigration: a new format version opens a new database and
// brings the previous one's records over, then deletes it.
func TestIndexedDBMigration(t *testing.T) {
	ctx := context.Background()
	f := mustIndexedDB(t)
	app := freshApp("mig")
	old := MustOpenStorage(t, f, app, 1)
	require.NoError(t, old.Write(ctx, &reactor.Batch{
		PutSettings:  []reactor.Setting{{Key: "k", Value: []byte("v")}},
		PutMutations: []reactor.Mutation{mutation("m1", 1), mutation("m2", 2)},
	}))
	require.NoError(t, old.Close(ctx))

	s := MustOpenStorage(t, f, app, 2)
	st, err := s.Load(ctx)
	require.NoError(t, err)
	assert.Equal(t, []byte("v"), st.Settings["k"])
	require.Len(t, st.Mutations, 2)
	ok, err := f.Exists(ctx, wasm.DBName(app, 1))
	require.NoError(t, err)
	assert.False(t, ok, "the old database is deleted")
}

// TestIndexedDBReopen: when another tab deletes the database, our
// connection is closed by its versionchange; the next write reopens.
func TestIndexedDBReopen(t *testing.T) {
	ctx := context.Background()
	f := mustIndexedDB(t)
	app := freshApp("reopen")
	s := MustOpenStorage(t, f, app, 0)
	require.NoError(t, s.Write(ctx, &reactor.Batch{PutMutations: []reactor.Mutation{mutation("m1", 1)}}))
	require.NoError(t, f.Delete(ctx, s.Name()))
	require.NoError(t, s.Write(ctx, &reactor.Batch{PutMutations: []reactor.Mutation{mutation("m2", 2)}}))
	st, err := s.Load(ctx)
	require.NoError(t, err)
	require.Len(t, st.Mutations, 1)
	assert.Equal(t, "m2", st.Mutations[0].ID)
}
