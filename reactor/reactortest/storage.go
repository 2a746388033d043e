// Package reactortest holds the contract suites of reactor's interfaces,
// which every implementation runs: MemStorage and filestore.Storage here,
// the wasm package's IndexedDB storage in a browser.
package reactortest

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/triplesync/triplesync/reactor"
	"github.com/triplesync/triplesync/store"
)

// OpenStorage returns a fresh, empty storage for one subtest, and a
// function that opens the same data again as a new value — what a new
// process would get. A storage that lives only in memory returns itself.
// Cleanup goes through tb.
type OpenStorage func(tb testing.TB) (s reactor.Storage, reopen func() reactor.Storage)

// TestStorage is the contract of [reactor.Storage]:
//
//   - an unwritten storage loads empty;
//   - settings, cached queries and mutations come back as written —
//     every value kind, CreatedAt, every step kind with its options;
//   - a put replaces the record with its key; deletes remove, deleting an
//     absent key does nothing; a key put and deleted in one batch ends
//     deleted;
//   - mutations load in Seq order, whatever their ids or the order they
//     were written in;
//   - what was written survives reopening;
//   - neither the written batch nor the loaded state aliases the storage;
//   - a cancelled context fails Load and Write without writing;
//   - a thousand mutations in one batch, and a query of ten thousand
//     triples, round-trip.
func TestStorage(t *testing.T, open OpenStorage) {
	ctx := context.Background()
	tests := []struct {
		name string
		run  func(t *testing.T, s reactor.Storage, reopen func() reactor.Storage)
	}{
		{"Empty", func(t *testing.T, s reactor.Storage, _ func() reactor.Storage) {
			st, err := s.Load(ctx)
			require.NoError(t, err)
			assert.Empty(t, st.Settings)
			assert.Empty(t, st.Queries)
			assert.Empty(t, st.Mutations)
		}},
		{"RoundTrip", func(t *testing.T, s reactor.Storage, _ func() reactor.Storage) {
			b := sampleBatch(t)
			require.NoError(t, s.Write(ctx, b))
			st, err := s.Load(ctx)
			require.NoError(t, err)
			assertState(t, b, st)
		}},
		{"Replace", func(t *testing.T, s reactor.Storage, _ func() reactor.Storage) {
			b := sampleBatch(t)
			require.NoError(t, s.Write(ctx, b))
			m := b.PutMutations[0]
			m.TxID, m.Confirmed = 42, m.Created+5
			q := b.PutQueries[0]
			q.ProcessedTxID, q.Triples = 43, q.Triples[:1]
			require.NoError(t, s.Write(ctx, &reactor.Batch{
				PutSettings:  []reactor.Setting{{Key: "attrs", Value: []byte(`[]`)}},
				PutQueries:   []reactor.CachedQuery{q},
				PutMutations: []reactor.Mutation{m},
			}))
			st, err := s.Load(ctx)
			require.NoError(t, err)
			assert.Equal(t, []byte(`[]`), st.Settings["attrs"])
			require.Len(t, st.Queries, len(b.PutQueries))
			assert.Equal(t, q, findQuery(st, q.ID))
			require.Len(t, st.Mutations, len(b.PutMutations))
			assert.Equal(t, m, st.Mutations[0])
		}},
		{"Delete", func(t *testing.T, s reactor.Storage, _ func() reactor.Storage) {
			b := sampleBatch(t)
			require.NoError(t, s.Write(ctx, b))
			require.NoError(t, s.Write(ctx, &reactor.Batch{
				DeleteSettings:  []string{"attrs", "never-written"},
				DeleteQueries:   []string{b.PutQueries[0].ID, "qnope"},
				DeleteMutations: []string{b.PutMutations[1].ID, "00000000-0000-4000-8000-000000000000"},
			}))
			st, err := s.Load(ctx)
			require.NoError(t, err)
			assert.NotContains(t, st.Settings, "attrs")
			assert.Contains(t, st.Settings, "token")
			require.Len(t, st.Queries, len(b.PutQueries)-1)
			assert.Equal(t, b.PutQueries[1].ID, st.Queries[0].ID)
			require.Len(t, st.Mutations, len(b.PutMutations)-1)
			for _, m := range st.Mutations {
				assert.NotEqual(t, b.PutMutations[1].ID, m.ID)
			}
		}},
		{"PutAndDeleteInOneBatch", func(t *testing.T, s reactor.Storage, _ func() reactor.Storage) {
			b := sampleBatch(t)
			b.DeleteMutations = []string{b.PutMutations[0].ID}
			b.DeleteQueries = []string{b.PutQueries[0].ID}
			b.DeleteSettings = []string{"token"}
			require.NoError(t, s.Write(ctx, b))
			st, err := s.Load(ctx)
			require.NoError(t, err)
			assert.NotContains(t, st.Settings, "token")
			assert.Len(t, st.Queries, len(b.PutQueries)-1)
			assert.Len(t, st.Mutations, len(b.PutMutations)-1)
		}},
		{"SeqOrder", func(t *testing.T, s reactor.Storage, _ func() reactor.Storage) {
			// Ids sort against Seq; written in a third order, in two batches.
			var ms []reactor.Mutation
			for i := range 12 {
				ms = append(ms, reactor.Mutation{ID: fmt.Sprintf("%08x-0000-4000-8000-000000000000", 0xffff-i),
					Seq: uint64(100 + i*7), Steps: []store.Step{{Op: store.OpDeleteEntity, E: id(i), Namespace: "todos"}}, Created: 1})
			}
			first := []reactor.Mutation{ms[5], ms[0], ms[11], ms[3], ms[8], ms[1]}
			second := []reactor.Mutation{ms[2], ms[10], ms[4], ms[9], ms[6], ms[7]}
			require.NoError(t, s.Write(ctx, &reactor.Batch{PutMutations: first}))
			require.NoError(t, s.Write(ctx, &reactor.Batch{PutMutations: second}))
			st, err := s.Load(ctx)
			require.NoError(t, err)
			require.Len(t, st.Mutations, len(ms))
			for i, m := range st.Mutations {
				assert.Equal(t, ms[i].Seq, m.Seq, "mutation %d", i)
			}
		}},
		{"Reopen", func(t *testing.T, s reactor.Storage, reopen func() reactor.Storage) {
			b := sampleBatch(t)
			require.NoError(t, s.Write(ctx, b))
			require.NoError(t, s.Write(ctx, &reactor.Batch{DeleteMutations: []string{b.PutMutations[2].ID}}))
			b.PutMutations = b.PutMutations[:2]
			st, err := reopen().Load(ctx)
			require.NoError(t, err)
			assertState(t, b, st)
		}},
		{"NoAliasing", func(t *testing.T, s reactor.Storage, _ func() reactor.Storage) {
			b := sampleBatch(t)
			want := sampleBatch(t)
			require.NoError(t, s.Write(ctx, b))
			b.PutSettings[0].Value[0] = 'X'
			b.PutQueries[0].Triples[0].CreatedAt = -1
			b.PutMutations[0].Steps[0].Namespace = "changed"
			st, err := s.Load(ctx)
			require.NoError(t, err)
			assertState(t, want, st)
			st.Settings["attrs"][0] = 'Y'
			st.Queries[0].Triples[0].CreatedAt = -2
			st.Mutations[0].Steps = nil
			st2, err := s.Load(ctx)
			require.NoError(t, err)
			assertState(t, want, st2)
		}},
		{"CancelledContext", func(t *testing.T, s reactor.Storage, _ func() reactor.Storage) {
			cctx, cancel := context.WithCancel(ctx)
			cancel()
			err := s.Write(cctx, sampleBatch(t))
			require.Error(t, err)
			assert.True(t, errors.Is(err, context.Canceled), "Write: %v", err)
			_, err = s.Load(cctx)
			require.Error(t, err)
			assert.True(t, errors.Is(err, context.Canceled), "Load: %v", err)
			st, err := s.Load(ctx)
			require.NoError(t, err)
			assert.Empty(t, st.Mutations, "a cancelled write wrote")
		}},
		{"Large", func(t *testing.T, s reactor.Storage, _ func() reactor.Storage) {
			var b reactor.Batch
			for i := range 1000 {
				b.PutMutations = append(b.PutMutations, reactor.Mutation{ID: id(10_000 + i).String(), Seq: uint64(i + 1), Created: int64(i),
					Steps: []store.Step{{Op: store.OpAddTriple, E: id(i), A: id(1), V: store.String(fmt.Sprintf("title %d", i))}}})
			}
			q := reactor.CachedQuery{ID: "qlarge", Q: []byte(`{"todos":{}}`), ProcessedTxID: 7, LastUsed: 9}
			for i := range 10_000 {
				q.Triples = append(q.Triples, store.Triple{E: id(i), A: id(1), V: store.Number(float64(i)), CreatedAt: int64(i)})
			}
			b.PutQueries = []reactor.CachedQuery{q}
			require.NoError(t, s.Write(ctx, &b))
			var del reactor.Batch
			for i := 0; i < 1000; i += 2 {
				del.DeleteMutations = append(del.DeleteMutations, b.PutMutations[i].ID)
			}
			require.NoError(t, s.Write(ctx, &del))
			st, err := s.Load(ctx)
			require.NoError(t, err)
			require.Len(t, st.Mutations, 500)
			for i, m := range st.Mutations {
				require.Equal(t, b.PutMutations[2*i+1], m)
			}
			require.Len(t, st.Queries, 1)
			assert.Equal(t, q, st.Queries[0])
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, reopen := open(t)
			tt.run(t, s, reopen)
		})
	}
}

// id returns a deterministic version-4 id.
func id(i int) store.EntityID {
	var e store.EntityID
	e[0], e[1], e[2], e[3] = byte(i>>24), byte(i>>16), byte(i>>8), byte(i)
	e[6], e[8], e[15] = 0x40, 0x80, 0x5a
	return e
}

// sampleBatch returns a batch with two settings, two queries holding
// every value kind, and three mutations holding every step kind, in
// canonical form (as decoding leaves them), so equality is meaningful.
func sampleBatch(t testing.TB) *reactor.Batch {
	obj, err := store.ParseValue([]byte(`{"b":[1,2,{"c":null}],"a":"x"}`))
	require.NoError(t, err)
	arr, err := store.ParseValue([]byte(`[true,"é",1.5e-7]`))
	require.NoError(t, err)
	values := []store.Value{store.Null(), store.Bool(true), store.Bool(false), store.Number(0), store.Number(-12.75),
		store.Number(1e21), store.String(""), store.String("héllo \"quoted\" \u2028 ✓"), obj, arr, store.Ref(id(99))}
	var triples []store.Triple
	for i, v := range values {
		triples = append(triples, store.Triple{E: id(i), A: id(200 + i), V: v, CreatedAt: 1_700_000_000_000 + int64(i)})
	}
	attr := store.Attr{ID: id(300), Namespace: "todos", Label: "owner", Type: store.TypeRef, Cardinality: store.CardinalityMany,
		Indexed: true, RefNamespace: "users", ReverseLabel: "todos", OnDeleteCascade: true}
	lookup := &store.LookupRef{A: id(301), V: store.String("a@b.c")}
	steps := []store.Step{
		{Op: store.OpAddAttr, A: attr.ID, Attr: attr},
		{Op: store.OpAddTriple, E: id(1), A: id(201), V: obj, Mode: store.ModeCreate},
		{Op: store.OpAddTriple, Lookup: lookup, A: id(202), V: store.Number(3), Mode: store.ModeUpdate},
		{Op: store.OpAddTriple, E: id(1), A: attr.ID, ValueLookup: lookup},
		{Op: store.OpDeepMergeTriple, E: id(2), A: id(203), V: obj},
		{Op: store.OpRetractTriple, E: id(3), A: id(204), V: arr},
		{Op: store.OpDeleteEntity, E: id(4), Namespace: "todos"},
		{Op: store.OpUpdateAttr, A: attr.ID, Attr: attr},
		{Op: store.OpDeleteAttr, A: id(305)},
	}
	enc, err := store.EncodeSteps(nil, steps)
	require.NoError(t, err)
	steps, err = store.DecodeSteps(enc)
	require.NoError(t, err)
	return &reactor.Batch{
		PutSettings: []reactor.Setting{{Key: "attrs", Value: []byte(`[{"id":"x"}]`)}, {Key: "token", Value: []byte("t0k3n")}},
		PutQueries: []reactor.CachedQuery{
			{ID: "q0123456789abcdef0123456789abcdef", Q: []byte(`{"todos":{"$":{"limit":3}}}`), Triples: triples[:6], ProcessedTxID: 11, LastUsed: 1_700_000_000_123},
			{ID: "qfedcba9876543210fedcba9876543210", Q: []byte(`{"users":{}}`), Triples: triples[6:], ProcessedTxID: 0, LastUsed: 5},
		},
		PutMutations: []reactor.Mutation{
			{ID: id(1000).String(), Seq: 1, Steps: steps[:3], Created: 1_700_000_000_001},
			{ID: id(1001).String(), Seq: 2, Steps: steps[3:6], Created: 1_700_000_000_002, TxID: 17, Confirmed: 1_700_000_000_010},
			{ID: id(1002).String(), Seq: 5, Steps: steps[6:], Created: 1_700_000_000_003},
		},
	}
}

// assertState checks that st holds exactly b's puts.
func assertState(t *testing.T, b *reactor.Batch, st *reactor.State) {
	t.Helper()
	require.Len(t, st.Settings, len(b.PutSettings))
	for _, s := range b.PutSettings {
		assert.Equal(t, s.Value, st.Settings[s.Key], "setting %s", s.Key)
	}
	require.Len(t, st.Queries, len(b.PutQueries))
	for _, q := range b.PutQueries {
		assert.Equal(t, q, findQuery(st, q.ID), "query %s", q.ID)
	}
	require.Equal(t, b.PutMutations, st.Mutations)
}

func findQuery(st *reactor.State, id string) reactor.CachedQuery {
	for _, q := range st.Queries {
		if q.ID == id {
			return q
		}
	}
	return reactor.CachedQuery{}
}
