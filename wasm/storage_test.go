package wasm_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/triplesync/triplesync/reactor"
	"github.com/triplesync/triplesync/reactor/reactortest"
	"github.com/triplesync/triplesync/store"
	"github.com/triplesync/triplesync/wasm"
)

// MustOpenStorage returns a Storage for app on f, opened.
func MustOpenStorage(tb testing.TB, f wasm.Factory, app string, format int) *wasm.Storage {
	tb.Helper()
	s, err := wasm.NewStorage(wasm.StorageConfig{App: app, Factory: f, Format: format})
	require.NoError(tb, err)
	require.NoError(tb, s.Open(context.Background()))
	tb.Cleanup(func() { _ = s.Close(context.Background()) })
	return s
}

// TestStorageContract runs reactor's storage contract over the in-memory
// twin of IndexedDB; the same suite runs over the real one in Chromium
// (TestIndexedDBContract, under GOOS=js).
func TestStorageContract(t *testing.T) {
	var n atomic.Int64
	reactortest.TestStorage(t, func(tb testing.TB) (reactor.Storage, func() reactor.Storage) {
		f := wasm.NewMemFactory()
		app := fmt.Sprintf("contract%d", n.Add(1))
		s := MustOpenStorage(tb, f, app, 0)
		return s, func() reactor.Storage { return MustOpenStorage(tb, f, app, 0) }
	})
}

func mutation(id string, seq uint64) reactor.Mutation {
	return reactor.Mutation{ID: id, Seq: seq, Created: 1000 + int64(seq),
		Steps: []store.Step{{Op: store.OpDeleteEntity, E: store.EntityID{byte(seq)}, Namespace: "todos"}}}
}

func TestDBName(t *testing.T) {
	assert.Equal(t, "triplesync_todos_v1", wasm.DBName("todos", 1))
	s, err := wasm.NewStorage(wasm.StorageConfig{App: "todos", Factory: wasm.NewMemFactory()})
	require.NoError(t, err)
	assert.Equal(t, "triplesync_todos_v1", s.Name())
}

func TestStorageConfigInvalid(t *testing.T) {
	tests := []struct {
		name string
		cfg  wasm.StorageConfig
	}{
		{"no factory", wasm.StorageConfig{App: "a"}},
		{"no app", wasm.StorageConfig{Factory: wasm.NewMemFactory()}},
		{"slash in app", wasm.StorageConfig{App: "a/b", Factory: wasm.NewMemFactory()}},
		{"negative format", wasm.StorageConfig{App: "a", Factory: wasm.NewMemFactory(), Format: -1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := wasm.NewStorage(tt.cfg)
			assert.Error(t, err, "NewStorage(%+v)", tt.cfg)
		})
	}
}

// TestStorageDurability: pending mutations go in a strict transaction,
// settings and cached queries in a relaxed one; each batch kind is one
// transaction however many records it has.
func TestStorageDurability(t *testing.T) {
	ctx := context.Background()
	f := wasm.NewMemFactory()
	s := MustOpenStorage(t, f, "dur", 0)
	before := len(f.Log())
	b := &reactor.Batch{
		PutSettings: []reactor.Setting{{Key: reactor.SettingAttrs, Value: []byte(`[]`)}},
		PutQueries:  []reactor.CachedQuery{{ID: "q1", Q: json.RawMessage(`{"todos":{}}`)}, {ID: "q2", Q: json.RawMessage(`{"x":{}}`)}},
	}
	for i := range 50 {
		b.PutMutations = append(b.PutMutations, mutation(fmt.Sprintf("m%02d", i), uint64(i+1)))
	}
	require.NoError(t, s.Write(ctx, b))
	log := f.Log()[before:]
	require.Len(t, log, 2, "one transaction per durability: %+v", log)
	byDur := map[wasm.Durability]wasm.WriteLog{}
	for _, l := range log {
		byDur[l.Durability] = l
	}
	assert.Equal(t, []string{"mutations"}, byDur[wasm.Strict].Stores)
	assert.Equal(t, 50, byDur[wasm.Strict].Puts)
	assert.Equal(t, []string{"queries", "settings"}, byDur[wasm.Relaxed].Stores)
	assert.Equal(t, 3, byDur[wasm.Relaxed].Puts)

	// A batch of caches only writes no mutations transaction.
	before = len(f.Log())
	require.NoError(t, s.Write(ctx, &reactor.Batch{DeleteQueries: []string{"q1"}}))
	log = f.Log()[before:]
	require.Len(t, log, 1)
	assert.Equal(t, wasm.Relaxed, log[0].Durability)
}

// TestStorageReopensClosedConnection: when the browser closes the
// connection (site data cleared, another tab's versionchange), the next
// Load or Write reopens it and succeeds.
func TestStorageReopensClosedConnection(t *testing.T) {
	ctx := context.Background()
	f := wasm.NewMemFactory()
	s := MustOpenStorage(t, f, "reopen", 0)
	require.NoError(t, s.Write(ctx, &reactor.Batch{PutMutations: []reactor.Mutation{mutation("m1", 1)}}))
	f.CloseAll()
	require.NoError(t, s.Write(ctx, &reactor.Batch{PutMutations: []reactor.Mutation{mutation("m2", 2)}}))
	f.CloseAll()
	st, err := s.Load(ctx)
	require.NoError(t, err)
	require.Len(t, st.Mutations, 2)
	assert.Equal(t, "m2", st.Mutations[1].ID)
}

// TestStorageWriteErrors: a full quota and other write errors are returned,
// never swallowed, and the transaction that failed applied nothing.
func TestStorageWriteErrors(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name  string
		err   error
		quota bool
	}{
		{"quota", fmt.Errorf("%w: QuotaExceededError", wasm.ErrQuotaExceeded), true},
		{"other", errors.New("UnknownError: disk on fire"), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := wasm.NewMemFactory()
			s := MustOpenStorage(t, f, "errs", 0)
			f.WriteFn = func(string, []wasm.Put, wasm.Durability) error { return tt.err }
			err := s.Write(ctx, &reactor.Batch{
				PutMutations: []reactor.Mutation{mutation("m1", 1)},
				PutQueries:   []reactor.CachedQuery{{ID: "q1", Q: json.RawMessage(`{}`)}},
			})
			require.Error(t, err)
			assert.Equal(t, tt.quota, errors.Is(err, wasm.ErrQuotaExceeded), "errors.Is(%v, ErrQuotaExceeded)", err)
			var dbe *wasm.DBError
			assert.True(t, errors.As(err, &dbe), "want a *DBError: %v", err)
			f.WriteFn = nil
			st, err := s.Load(ctx)
			require.NoError(t, err)
			assert.Empty(t, st.Mutations)
			assert.Empty(t, st.Queries)
		})
	}
}

// TestStorageCorruptRecords: an undecodable cached query is dropped (it is
// only a cache), an undecodable mutation fails Load (it is a user's write).
func TestStorageCorruptRecords(t *testing.T) {
	ctx := context.Background()
	f := wasm.NewMemFactory()
	s := MustOpenStorage(t, f, "corrupt", 0)
	require.NoError(t, s.Write(ctx, &reactor.Batch{PutQueries: []reactor.CachedQuery{{ID: "good", Q: json.RawMessage(`{"a":{}}`)}}}))
	name := wasm.DBName("corrupt", 1)
	f.Put(name, "queries", "bad", []byte(`{not json`))
	st, err := s.Load(ctx)
	require.NoError(t, err)
	require.Len(t, st.Queries, 1)
	assert.Equal(t, "good", st.Queries[0].ID)
	_, ok := f.Get(name, "queries", "bad")
	assert.False(t, ok, "the corrupt cached query is deleted")

	f.Put(name, "mutations", "m1", []byte(`{"v":1}`))
	_, err = s.Load(ctx)
	assert.ErrorIs(t, err, reactor.ErrCorrupt)
}

// TestStorageMigration: a new format opens a new database, copies the
// newest older format's records in, marks itself complete and deletes
// the old database; opening it again migrates nothing.
func TestStorageMigration(t *testing.T) {
	ctx := context.Background()
	f := wasm.NewMemFactory()
	old := MustOpenStorage(t, f, "mig", 1)
	b := &reactor.Batch{
		PutSettings:  []reactor.Setting{{Key: reactor.SettingAttrs, Value: []byte(`[]`)}},
		PutQueries:   []reactor.CachedQuery{{ID: "q1", Q: json.RawMessage(`{"todos":{}}`), ProcessedTxID: 7}},
		PutMutations: []reactor.Mutation{mutation("m1", 1), mutation("m2", 2)},
	}
	require.NoError(t, old.Write(ctx, b))
	require.NoError(t, old.Close(ctx))

	s := MustOpenStorage(t, f, "mig", 3) // v2 never existed: v1 is the newest older one
	assert.Equal(t, []string{"triplesync_mig_v3"}, f.Names(), "the old database is deleted")
	st, err := s.Load(ctx)
	require.NoError(t, err)
	assert.Equal(t, []byte(`[]`), st.Settings[reactor.SettingAttrs])
	require.Len(t, st.Queries, 1)
	assert.Equal(t, store.TxID(7), st.Queries[0].ProcessedTxID)
	require.Len(t, st.Mutations, 2)
	assert.Equal(t, []string{"m1", "m2"}, []string{st.Mutations[0].ID, st.Mutations[1].ID})

	// An old database appearing later (another tab running old code) is
	// not migrated again over newer data.
	f.Put("triplesync_mig_v1", "mutations", "stale", []byte(`{}`))
	again := MustOpenStorage(t, f, "mig", 3)
	st, err = again.Load(ctx)
	require.NoError(t, err)
	assert.Len(t, st.Mutations, 2)
}

// TestStorageMigrationInterrupted: a migration whose copy never committed
// (the tab closed) runs again at the next open.
func TestStorageMigrationInterrupted(t *testing.T) {
	ctx := context.Background()
	f := wasm.NewMemFactory()
	old := MustOpenStorage(t, f, "int", 1)
	require.NoError(t, old.Write(ctx, &reactor.Batch{PutMutations: []reactor.Mutation{mutation("m1", 1)}}))
	f.WriteFn = func(db string, _ []wasm.Put, _ wasm.Durability) error {
		if db == "triplesync_int_v2" {
			return errors.New("AbortError: the tab closed")
		}
		return nil
	}
	s, err := wasm.NewStorage(wasm.StorageConfig{App: "int", Factory: f, Format: 2})
	require.NoError(t, err)
	require.Error(t, s.Open(ctx))
	f.WriteFn = nil
	s2 := MustOpenStorage(t, f, "int", 2)
	st, err := s2.Load(ctx)
	require.NoError(t, err)
	require.Len(t, st.Mutations, 1)
	assert.Equal(t, "m1", st.Mutations[0].ID)
}

func TestStorageClosed(t *testing.T) {
	ctx := context.Background()
	s := MustOpenStorage(t, wasm.NewMemFactory(), "closed", 0)
	require.NoError(t, s.Close(ctx))
	_, err := s.Load(ctx)
	assert.ErrorIs(t, err, wasm.ErrClosed)
	assert.ErrorIs(t, s.Write(ctx, &reactor.Batch{PutSettings: []reactor.Setting{{Key: "k"}}}), wasm.ErrClosed)
}
