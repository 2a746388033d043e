package store_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/triplesync/triplesync/store"
)

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name    string
		triples []store.Triple
		err     error
	}{
		{"unknown attribute", []store.Triple{tr(ann, attrID(0xfff), num(1), 1)}, store.ErrUnknownAttr},
		{"wrong type", []store.Triple{tr(ann, aUsersAge, str("x"), 1)}, store.ErrWrongType},
		{"id of another entity", []store.Triple{tr(ann, aUsersID, ref(bob), 1)}, store.ErrWrongType},
		{"two values of cardinality one", []store.Triple{tr(ann, aUsersAge, num(1), 1), tr(ann, aUsersAge, num(2), 1)}, store.ErrCardinality},
		{"unique held twice", []store.Triple{tr(ann, aUsersEmail, str("x"), 1), tr(bob, aUsersEmail, str("x"), 1)}, store.ErrUniqueViolation},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := store.Load(testAttrs(t), tt.triples)
			assert.Nil(t, s)
			assert.ErrorIs(t, err, tt.err)
		})
	}
}

func TestLoadNormalisesAndDedupes(t *testing.T) {
	in := []store.Triple{
		tr(todo, aTodosOwner, str("E0000000-0000-4000-8000-000000000001"), 7),
		tr(bob, aUsersTags, str("x"), 5),
		tr(bob, aUsersTags, str("x"), 3),
		tr(ann, aUsersBorn, str("1970-01-02"), 1),
	}
	s := mustLoad(t, in...)
	assert.Equal(t, sortedTriples([]store.Triple{
		tr(todo, aTodosOwner, ref(ann), 7),
		tr(bob, aUsersTags, str("x"), 3),
		tr(ann, aUsersBorn, num(86400000), 1),
	}), s.Triples())
	assert.Equal(t, "E0000000-0000-4000-8000-000000000001", func() string { v, _ := in[0].V.AsString(); return v }(), "Load keeps no reference to its input")
}

// TestLoadEqualsApply: loading triples and writing them step by step give
// the same store.
func TestLoadEqualsApply(t *testing.T) {
	base := applyBase()
	loaded := mustLoad(t, base...)
	var steps []store.Step
	for _, tr := range base {
		steps = append(steps, add(tr.E, tr.A, tr.V))
	}
	applied := mustApply(t, store.NewSnapshot(testAttrs(t)), 1, steps...)
	assert.Equal(t, loaded.Triples(), applied.Triples())
	for _, a := range []store.AttrID{aUsersEmail, aUsersAge, aUsersTags, aTodosTitle} {
		want := collect(func(fn func(store.Triple) bool) { loaded.ScanAttrValues(a, store.ValueRange{}, false, fn) })
		got := collect(func(fn func(store.Triple) bool) { applied.ScanAttrValues(a, store.ValueRange{}, false, fn) })
		assert.Equal(t, want, got, "AVE of %s", a)
	}
	require.Equal(t,
		collect(func(fn func(store.Triple) bool) { loaded.ScanRefs(ann, store.AttrID{}, fn) }),
		collect(func(fn func(store.Triple) bool) { applied.ScanRefs(ann, store.AttrID{}, fn) }))
	empty, err := store.Load(nil, nil)
	require.NoError(t, err)
	assert.Zero(t, empty.Len())
}

// TestLoadLargeThenApply loads a store of many B-tree nodes (Load bulk
// loads most triples and sets the rest into place) and checks it holds
// exactly the input, then that deletes and writes all over it keep every
// index in step.
func TestLoadLargeThenApply(t *testing.T) {
	seed := testSeed(t)
	r := rand.New(rand.NewPCG(seed, 1))
	var ts []store.Triple
	var users []store.EntityID
	for i := range 3000 {
		u := eid(i + 1)
		users = append(users, u)
		ts = append(ts, tr(u, aUsersID, ref(u), 1), tr(u, aUsersAge, num(float64(r.IntN(90))), 1),
			tr(u, aUsersEmail, str(fmt.Sprint("u", i, "@x")), 1))
		for range r.IntN(3) {
			ts = append(ts, tr(u, aUsersTags, str(fmt.Sprint(r.IntN(40))), 1))
		}
	}
	for i := range 3000 {
		td := eid(10000 + i)
		ts = append(ts, tr(td, aTodosID, ref(td), 1), tr(td, aTodosOwner, ref(users[r.IntN(len(users))]), 1))
	}
	r.Shuffle(len(ts), func(i, j int) { ts[i], ts[j] = ts[j], ts[i] })
	s := mustLoad(t, ts...)
	want := slices.Clone(ts)
	slices.SortFunc(want, func(a, b store.Triple) int {
		if c := a.E.Compare(b.E); c != 0 {
			return c
		}
		if c := a.A.Compare(b.A); c != 0 {
			return c
		}
		return store.Compare(a.V, b.V)
	})
	want = slices.CompactFunc(want, func(a, b store.Triple) bool { return a.Key() == b.Key() })
	require.Equal(t, want, s.Triples(), "the loaded store holds exactly its input")

	for round := range 10 {
		var steps []store.Step
		for range 50 {
			u := users[r.IntN(len(users))]
			switch r.IntN(3) {
			case 0:
				steps = append(steps, del(u, "users"))
			case 1:
				steps = append(steps, add(u, aUsersAge, num(float64(r.IntN(90)))))
			default:
				steps = append(steps, retract(u, aUsersTags, str(fmt.Sprint(r.IntN(40)))))
			}
		}
		next, err := s.Apply(steps, int64(round+2))
		require.NoError(t, err, "round %d (seed %d)", round, seed)
		require.NoError(t, next.CheckInvariants(), "round %d (seed %d)", round, seed)
		require.NoError(t, s.CheckInvariants(), "the old snapshot is untouched (seed %d)", seed)
		s = next
	}
}
