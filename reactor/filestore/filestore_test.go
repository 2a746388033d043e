package filestore_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/triplesync/triplesync/reactor"
	"github.com/triplesync/triplesync/reactor/filestore"
	"github.com/triplesync/triplesync/reactor/reactortest"
	"github.com/triplesync/triplesync/store"
)

func MustOpen(tb testing.TB, dir string) *filestore.Storage {
	tb.Helper()
	s, err := filestore.New(dir)
	require.NoError(tb, err)
	return s
}

func TestStorage(t *testing.T) {
	reactortest.TestStorage(t, func(tb testing.TB) (reactor.Storage, func() reactor.Storage) {
		dir := tb.TempDir()
		return MustOpen(tb, dir), func() reactor.Storage { return MustOpen(tb, dir) }
	})
}

func mutation(i int) reactor.Mutation {
	e := store.EntityID{byte(i), 1, 2, 3, 4, 5, 0x40, 7, 0x80}
	return reactor.Mutation{ID: e.String(), Seq: uint64(i), Created: int64(i),
		Steps: []store.Step{{Op: store.OpDeleteEntity, E: e, Namespace: "todos"}}}
}

// A crash while writing leaves temporary files, whole or cut short; the
// records keep their last complete state and the leftovers are removed.
func TestCrashLeavesTempFiles(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := MustOpen(t, dir)
	m1, m2 := mutation(1), mutation(2)
	require.NoError(t, s.Write(ctx, &reactor.Batch{PutMutations: []reactor.Mutation{m1, m2}}))
	good, err := os.ReadFile(filepath.Join(dir, "mutations", m1.ID+".json"))
	require.NoError(t, err)
	// A rewrite of m1 cut short, and a new mutation never renamed.
	require.NoError(t, os.WriteFile(filepath.Join(dir, "mutations", ".tmp-"+m1.ID+".json.99.1"), good[:len(good)/2], 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "mutations", ".tmp-"+mutation(3).ID+".json.99.2"), good, 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "queries", ".tmp-qx.json.99.3"), []byte(`{"v":1,`), 0o600))

	st, err := MustOpen(t, dir).Load(ctx)
	require.NoError(t, err)
	assert.Equal(t, []reactor.Mutation{m1, m2}, st.Mutations)
	assert.Empty(t, st.Queries)
	for _, d := range []string{"mutations", "queries"} {
		entries, err := os.ReadDir(filepath.Join(dir, d))
		require.NoError(t, err)
		for _, e := range entries {
			assert.False(t, strings.HasPrefix(e.Name(), ".tmp-"), "leftover %s/%s", d, e.Name())
		}
	}
}

// A crash between the renames of one batch leaves some records new and
// the rest old, each whole.
func TestCrashBetweenRenames(t *testing.T) {
	ctx := context.Background()
	for stop := range 4 {
		dir := t.TempDir()
		s := MustOpen(t, dir)
		old := []reactor.Mutation{mutation(1), mutation(2), mutation(3)}
		require.NoError(t, s.Write(ctx, &reactor.Batch{PutMutations: old}))
		next := make([]reactor.Mutation, len(old))
		for i, m := range old {
			m.TxID, m.Confirmed = store.TxID(10+i), 99
			next[i] = m
		}
		crash := errors.New("crash")
		filestore.SetBeforeRename(s, func(i int) error {
			if i == stop {
				return crash
			}
			return nil
		})
		err := s.Write(ctx, &reactor.Batch{PutMutations: next})
		if stop < len(next) {
			require.ErrorIs(t, err, crash)
		} else {
			require.NoError(t, err)
		}
		st, err := MustOpen(t, dir).Load(ctx)
		require.NoError(t, err)
		require.Len(t, st.Mutations, 3)
		for i, m := range st.Mutations {
			if i < stop {
				assert.Equal(t, next[i], m, "stop %d: mutation %d renamed", stop, i)
			} else {
				assert.Equal(t, old[i], m, "stop %d: mutation %d not renamed", stop, i)
			}
		}
	}
}

// A mutation record that does not decode fails the load (a write must not
// vanish silently); a cached query that does not decode is dropped.
func TestCorruptRecords(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := MustOpen(t, dir)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "queries", "qbad.json"), []byte("{not json"), 0o600))
	st, err := s.Load(ctx)
	require.NoError(t, err)
	assert.Empty(t, st.Queries)
	_, err = os.Stat(filepath.Join(dir, "queries", "qbad.json"))
	assert.True(t, errors.Is(err, os.ErrNotExist), "the bad cached query is removed")

	require.NoError(t, os.WriteFile(filepath.Join(dir, "mutations", "bad.json"), []byte(`{"v":1,"id":`), 0o600))
	_, err = s.Load(ctx)
	require.ErrorIs(t, err, reactor.ErrCorrupt)
	assert.Contains(t, err.Error(), "bad.json")
}

// Keys that are not plain names are escaped: they stay inside their
// directory and come back unchanged.
func TestKeyEscaping(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := MustOpen(t, dir)
	keys := []string{"../../etc/passwd", ".tmp-x", "a b/c%d", "", "é"}
	var b reactor.Batch
	for i, k := range keys {
		b.PutSettings = append(b.PutSettings, reactor.Setting{Key: k, Value: []byte{byte('0' + i)}})
	}
	require.NoError(t, s.Write(ctx, &b))
	st, err := MustOpen(t, dir).Load(ctx)
	require.NoError(t, err)
	for i, k := range keys {
		assert.Equal(t, []byte{byte('0' + i)}, st.Settings[k], "key %q", k)
	}
	entries, err := os.ReadDir(filepath.Join(dir, "settings"))
	require.NoError(t, err)
	assert.Len(t, entries, len(keys))
	top, err := os.ReadDir(dir)
	require.NoError(t, err)
	assert.Len(t, top, 3, "nothing written outside the three directories")
}

// BenchmarkWrite measures one batch of the size a Ready carries: a new
// mutation, and a mutation and a cached query of 200 triples.
func BenchmarkWrite(b *testing.B) {
	ctx := context.Background()
	s := MustOpen(b, b.TempDir())
	q := reactor.CachedQuery{ID: "qbench", Q: []byte(`{"todos":{}}`)}
	for i := range 200 {
		q.Triples = append(q.Triples, store.Triple{E: store.EntityID{byte(i), 0, 0, 0, 0, 0, 0x40, 0, 0x80}, A: store.EntityID{1, 0, 0, 0, 0, 0, 0x40, 0, 0x80},
			V: store.String("some title"), CreatedAt: 1})
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		require.NoError(b, s.Write(ctx, &reactor.Batch{PutMutations: []reactor.Mutation{mutation(i % 200)}, PutQueries: []reactor.CachedQuery{q}}))
	}
}
