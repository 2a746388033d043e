package session

import (
	"encoding/json"
	"fmt"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/triplesync/triplesync/internal/wire"
	"github.com/triplesync/triplesync/query"
	"github.com/triplesync/triplesync/store"
)

func tid(n int) store.EntityID {
	return store.MustParseEntityID(fmt.Sprintf("00000000-0000-4000-8000-%012d", n))
}

func tr(e, a int, v string, at int64) store.Triple {
	return store.Triple{E: tid(e), A: tid(a), V: store.String(v), CreatedAt: at}
}

func sortEAV(ts []store.Triple) []store.Triple {
	ts = slices.Clone(ts)
	slices.SortFunc(ts, func(a, b store.Triple) int { return query.CompareIndex(query.EAV, a, b) })
	return ts
}

func TestDiffTriples(t *testing.T) {
	tests := []struct {
		name       string
		prev, next []store.Triple
		added      []store.Triple
		removed    []store.TripleKey
	}{
		{"both empty", nil, nil, nil, nil},
		{"all new", nil, []store.Triple{tr(1, 9, "a", 1)}, []store.Triple{tr(1, 9, "a", 1)}, nil},
		{"all gone", []store.Triple{tr(1, 9, "a", 1)}, nil, nil, []store.TripleKey{tr(1, 9, "a", 1).Key()}},
		{"unchanged", []store.Triple{tr(1, 9, "a", 1), tr(2, 9, "b", 1)}, []store.Triple{tr(1, 9, "a", 1), tr(2, 9, "b", 1)}, nil, nil},
		{"value replaced", []store.Triple{tr(1, 9, "a", 1), tr(2, 9, "b", 1)}, []store.Triple{tr(1, 9, "a", 1), tr(2, 9, "c", 2)},
			[]store.Triple{tr(2, 9, "c", 2)}, []store.TripleKey{tr(2, 9, "b", 1).Key()}},
		{"created-at changed only", []store.Triple{tr(1, 9, "a", 1)}, []store.Triple{tr(1, 9, "a", 5)}, []store.Triple{tr(1, 9, "a", 5)}, nil},
		{"interleaved", []store.Triple{tr(1, 9, "a", 1), tr(3, 9, "c", 1), tr(5, 9, "e", 1)},
			[]store.Triple{tr(2, 9, "b", 1), tr(3, 9, "c", 1), tr(4, 9, "d", 1)},
			[]store.Triple{tr(2, 9, "b", 1), tr(4, 9, "d", 1)},
			[]store.TripleKey{tr(1, 9, "a", 1).Key(), tr(5, 9, "e", 1).Key()}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			added, removed := diffTriples(tt.prev, tt.next)
			assert.Equal(t, tt.added, added, "added")
			assert.Equal(t, tt.removed, removed, "removed")
		})
	}
}

// TestDiffTriplesModel checks the merge against a map model on random
// sets.
func TestDiffTriplesModel(t *testing.T) {
	for seed := range 200 {
		var prev, next []store.Triple
		for i := range 40 {
			e, v := (seed*7+i*13)%23, fmt.Sprint((seed+i)%3)
			if (seed+i)%3 != 0 {
				prev = append(prev, tr(e, 9, v, 1))
			}
			if (seed+i*5)%4 != 0 {
				next = append(next, tr(e, 9, v, int64(1+(seed+i)%2)))
			}
		}
		prev, next = dedup(sortEAV(prev)), dedup(sortEAV(next))
		added, removed := diffTriples(prev, next)
		set := map[store.TripleKey]store.Triple{}
		for _, x := range prev {
			set[x.Key()] = x
		}
		for _, k := range removed {
			delete(set, k)
		}
		for _, x := range added {
			set[x.Key()] = x
		}
		want := map[store.TripleKey]store.Triple{}
		for _, x := range next {
			want[x.Key()] = x
		}
		require.Equal(t, want, set, "seed %d: prev + delta must equal next", seed)
	}
}

func dedup(ts []store.Triple) []store.Triple {
	return slices.CompactFunc(ts, func(a, b store.Triple) bool { return a.Key() == b.Key() })
}

// TestSplicedFrames: the frames spliced from pre-encoded parts decode
// exactly like wire.Encode's.
func TestSplicedFrames(t *testing.T) {
	ts := []store.Triple{tr(1, 9, "a \"quoted\" <b>", 1), tr(2, 9, "b", 2)}
	keys := []store.TripleKey{tr(3, 9, "c", 1).Key()}
	attrs := []store.Attr{{ID: tid(9), Namespace: "todos", Label: "title", Type: store.TypeString}}

	t.Run("add-query-ok", func(t *testing.T) {
		q := json.RawMessage(`{"todos": {}}`)
		got := appendAddQueryOK(nil, "ev<1>", "q\"1", q, appendTriples(nil, ts), 42)
		want, err := wire.Encode(nil, &wire.AddQueryOK{ClientEventID: "ev<1>", QueryID: "q\"1", Q: q, Result: ts, ProcessedTxID: 42})
		require.NoError(t, err)
		assertSameMessage(t, want, got)
	})
	t.Run("add-query-ok without event id", func(t *testing.T) {
		got := appendAddQueryOK(nil, "", "q", json.RawMessage(`{}`), appendTriples(nil, nil), 0)
		want, err := wire.Encode(nil, &wire.AddQueryOK{QueryID: "q", Q: json.RawMessage(`{}`), Result: wire.Triples{}})
		require.NoError(t, err)
		assertSameMessage(t, want, got)
	})
	t.Run("refresh-ok", func(t *testing.T) {
		comps := []computation{
			{queryID: "d", body: appendDeltaBody(nil, ts, keys)},
			{queryID: "e", body: appendDeltaBody(nil, nil, keys)},
			{queryID: "f", full: true, body: appendTriples(nil, ts)},
		}
		got := appendRefreshOK(nil, 7, comps, attrs)
		want, err := wire.Encode(nil, &wire.RefreshOK{ProcessedTxID: 7, Attrs: attrs, Computations: []wire.Computation{
			{QueryID: "d", Added: ts, Removed: keys},
			{QueryID: "e", Added: wire.Triples{}, Removed: keys},
			{QueryID: "f", Full: true, Added: ts},
		}})
		require.NoError(t, err)
		assertSameMessage(t, want, got)
	})
	t.Run("empty refresh-ok", func(t *testing.T) {
		got := appendRefreshOK(nil, 7, nil, nil)
		want, err := wire.Encode(nil, &wire.RefreshOK{ProcessedTxID: 7, Computations: []wire.Computation{}})
		require.NoError(t, err)
		assertSameMessage(t, want, got)
	})
}

func assertSameMessage(t *testing.T, want, got []byte) {
	t.Helper()
	wm, err := wire.Parse(want)
	require.NoError(t, err)
	gm, err := wire.Parse(got)
	require.NoError(t, err, "spliced frame %s", got)
	assert.Equal(t, wm, gm)
	assert.JSONEq(t, string(want), string(got))
}

// TestDeltaCache: sessions at the same version share one encoded delta,
// and an unchanged result is no delta.
func TestDeltaCache(t *testing.T) {
	v1 := &version{triples: []store.Triple{tr(1, 9, "a", 1)}}
	v2 := &version{triples: []store.Triple{tr(1, 9, "b", 2)}}
	v3 := &version{triples: []store.Triple{tr(1, 9, "b", 2)}}
	b1, changed := v2.deltaFrom(v1)
	require.True(t, changed)
	b2, _ := v2.deltaFrom(v1)
	assert.Same(t, &b1[0], &b2[0], "the second session reuses the encoding")
	_, changed = v3.deltaFrom(v2)
	assert.False(t, changed, "equal triples are no change")
	_, changed = v2.deltaFrom(v2)
	assert.False(t, changed)
	for i := range 10 { // the cache stays bounded
		v3.deltaFrom(&version{triples: []store.Triple{tr(i, 9, "x", 1)}})
	}
	assert.LessOrEqual(t, len(v3.deltas), maxCachedDeltas)
	full, changed := v1.deltaFrom(nil)
	assert.True(t, changed)
	assert.Contains(t, string(full), `"added":[[`)
}

func TestOriginalEvent(t *testing.T) {
	small := []byte(`{"op":"add-query","client-event-id":"1","q":{}}`)
	assert.Equal(t, json.RawMessage(small), originalEvent(small))
	assert.Nil(t, originalEvent([]byte(`{"op":`)), "invalid JSON is not echoed")
	assert.Nil(t, originalEvent([]byte(`[1]`)), "only objects are echoed")
	big := []byte(`{"op":"transact","client-event-id":"7","tx-steps":["` + string(make([]byte, 0)) + fmt.Sprintf("%0*d", 8000, 0) + `"]}`)
	assert.JSONEq(t, `{"op":"transact","client-event-id":"7"}`, string(originalEvent(big)), "a large request is cut to its op and id")
	assert.Equal(t, "7", eventIDOf(big))
	assert.Equal(t, "", eventIDOf([]byte(`{"op":`)))
}
