package topics_test

import (
	"fmt"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/triplesync/triplesync/store"
	"github.com/triplesync/triplesync/topics"
)

func lookup(ix *topics.Index, change ...topics.Topic) []topics.SubID {
	var got []topics.SubID
	ix.Lookup(change, func(id topics.SubID) { got = append(got, id) })
	slices.Sort(got)
	return got
}

func TestIndexLookup(t *testing.T) {
	ix := topics.NewIndex(0)
	subs := map[topics.SubID][]topics.Topic{
		1: {{A: topics.IDs(a1)}},                                                          // every triple of a1
		2: {{E: topics.IDs(e1), A: topics.IDs(a1)}},                                       // e1's a1
		3: {{A: topics.IDs(a1), V: topics.Values(num(5))}},                                // a1 = 5
		4: {{A: topics.IDs(a1), V: topics.MustCmp(topics.Gt, num(5))}},                    // a1 > 5
		5: {{E: topics.IDs(e2, e3)}},                                                      // anything of e2, e3
		6: {{A: topics.IDs(a2)}, {E: topics.IDs(e1), A: topics.IDs(a1, a2)}},              // two topics
		7: {{Idx: store.FlagVAE, A: topics.IDs(a1)}},                                      // a1 through vae only
		8: {{E: topics.IDs(e1), A: topics.IDs(a1), V: topics.MustCmp(topics.Lt, num(0))}}, // e1's a1 < 0
		9: {{A: topics.IDs(a1), V: topics.Values()}},                                      // matches nothing
	}
	for id, ts := range subs {
		require.NoError(t, ix.Register(id, ts))
	}
	change := func(e, a store.EntityID, vs ...store.Value) topics.Topic {
		return topics.Topic{Idx: store.FlagEA, E: topics.IDs(e), A: topics.IDs(a), V: topics.Values(vs...)}
	}
	tests := []struct {
		name   string
		change []topics.Topic
		want   []topics.SubID
	}{
		{"e1 a1 = 5", []topics.Topic{change(e1, a1, num(5))}, []topics.SubID{1, 2, 3, 6}},
		{"e1 a1 5 -> 7", []topics.Topic{change(e1, a1, num(5), num(7))}, []topics.SubID{1, 2, 3, 4, 6}},
		{"e1 a1 = -1", []topics.Topic{change(e1, a1, num(-1))}, []topics.SubID{1, 2, 6, 8}},
		{"e2 a1 = 1", []topics.Topic{change(e2, a1, num(1))}, []topics.SubID{1, 5}},
		{"e3 a2", []topics.Topic{change(e3, a2, str("x"))}, []topics.SubID{5, 6}},
		{"other attr", []topics.Topic{change(e1, id(0xa3), num(5))}, nil},
		{"two topics dedup", []topics.Topic{change(e1, a1, num(5)), change(e1, a2, num(5))}, []topics.SubID{1, 2, 3, 6}},
		{"vae flag", []topics.Topic{{Idx: store.FlagVAE, E: topics.IDs(e2), A: topics.IDs(a1), V: topics.Values(num(0))}}, []topics.SubID{1, 5, 7}},
		{"attr wildcard", []topics.Topic{{A: topics.IDs(a1)}}, []topics.SubID{1, 2, 3, 4, 5, 6, 7, 8}},
		{"everything", []topics.Topic{{}}, []topics.SubID{1, 2, 3, 4, 5, 6, 7, 8}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, lookup(ix, tt.change...), "Lookup(%v)", tt.change)
			assert.Equal(t, tt.want, lookup(ix, tt.change...), "Lookup(%v), again", tt.change)
		})
	}
	st := ix.Stats()
	assert.Equal(t, 9, st.Subs)
	assert.Equal(t, 10, st.Topics)
	assert.Positive(t, st.Hits, "repeated single-triple lookups hit the cache")

	ix.Unregister(2)
	ix.Unregister(6)
	ix.Unregister(42) // unknown: nothing happens
	assert.Equal(t, []topics.SubID{1, 3}, lookup(ix, change(e1, a1, num(5))), "after unregister")
	assert.Equal(t, 7, ix.Len())
	assert.Nil(t, ix.Topics(2))
	assert.Len(t, ix.Topics(1), 1)
}

func TestIndexRegisterReplaces(t *testing.T) {
	ix := topics.NewIndex(-1)
	require.NoError(t, ix.Register(1, []topics.Topic{{A: topics.IDs(a1)}}))
	require.NoError(t, ix.Register(1, []topics.Topic{{A: topics.IDs(a2)}}))
	assert.Empty(t, lookup(ix, topics.Topic{A: topics.IDs(a1)}))
	assert.Equal(t, []topics.SubID{1}, lookup(ix, topics.Topic{A: topics.IDs(a2)}))
	assert.Equal(t, 1, ix.Stats().Topics)
}

func TestIndexRegisterInvalid(t *testing.T) {
	ix := topics.NewIndex(0)
	require.NoError(t, ix.Register(1, []topics.Topic{{A: topics.IDs(a1)}}))
	err := ix.Register(1, []topics.Topic{{A: topics.IDs(a2)}, {E: topics.Values(num(1))}})
	require.ErrorIs(t, err, topics.ErrInvalidPart)
	assert.Equal(t, []topics.SubID{1}, lookup(ix, topics.Topic{A: topics.IDs(a1)}), "a failed Register keeps the old topics")
}

// TestIndexCacheInvalidation checks that a cached answer is not reused after
// the registrations change.
func TestIndexCacheInvalidation(t *testing.T) {
	ix := topics.NewIndex(2)
	c := topics.Topic{E: topics.IDs(e1), A: topics.IDs(a1), V: topics.Values(num(1))}
	assert.Empty(t, lookup(ix, c))
	require.NoError(t, ix.Register(1, []topics.Topic{{A: topics.IDs(a1)}}))
	assert.Equal(t, []topics.SubID{1}, lookup(ix, c))
	assert.Equal(t, []topics.SubID{1}, lookup(ix, c))
	ix.Unregister(1)
	assert.Empty(t, lookup(ix, c))
	for i := range 10 { // overflow the tiny cache
		assert.Empty(t, lookup(ix, topics.Topic{E: topics.IDs(id(byte(100 + i))), A: topics.IDs(a1), V: topics.Values(num(1))}))
	}
	st := ix.Stats()
	assert.Equal(t, uint64(1), st.Hits)
}

func ExampleIndex() {
	todosTitle := store.MustParseEntityID("00000000-0000-4000-8000-0000000000a1")
	todo := store.MustParseEntityID("00000000-0000-4000-8000-000000000001")

	ix := topics.NewIndex(0)
	// Query 1 reads every title; query 2 titles like "buy%"; query 3 one todo.
	_ = ix.Register(1, []topics.Topic{{A: topics.IDs(todosTitle)}})
	_ = ix.Register(2, []topics.Topic{{A: topics.IDs(todosTitle), V: topics.MustCmp(topics.Like, store.String("buy%"))}})
	_ = ix.Register(3, []topics.Topic{{E: topics.IDs(store.EntityID{9})}})

	// A todo's title changes from "sell milk" to "buy milk".
	change := topics.OfChange(&store.Change{Triples: []store.TripleChange{{
		Op:  store.OpUpdate,
		Old: store.Triple{E: todo, A: todosTitle, V: store.String("sell milk")},
		New: store.Triple{E: todo, A: todosTitle, V: store.String("buy milk")},
	}}})
	var woken []topics.SubID
	ix.Lookup(change, func(id topics.SubID) { woken = append(woken, id) })
	slices.Sort(woken)
	fmt.Println(change[0].V, woken)
	// Output: {"buy milk" "sell milk"} [1 2]
}
