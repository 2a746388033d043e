package store_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/triplesync/triplesync/store"
)

// readFixture: three users with ages and tags, two todos owned by user 1
// (one also watched by 2 and 3), one by user 2.
func readFixture(t *testing.T) *store.Snapshot {
	t.Helper()
	var ts []store.Triple
	for i, age := range []float64{30, 20, 30} {
		u := eid(i + 1)
		ts = append(ts, tr(u, aUsersID, ref(u), 1), tr(u, aUsersAge, num(age), 1), tr(u, aUsersTags, str("t"), 1))
	}
	ts = append(ts, tr(eid(1), aUsersTags, str("a"), 1))
	for i, owner := range []int{1, 1, 2} {
		td := eid(10 + i)
		ts = append(ts, tr(td, aTodosID, ref(td), 2), tr(td, aTodosOwner, ref(eid(owner)), 2))
	}
	ts = append(ts, tr(eid(10), aTodosWatchers, ref(eid(2)), 3), tr(eid(10), aTodosWatchers, ref(eid(3)), 3))
	return mustLoad(t, ts...)
}

func TestScanEntity(t *testing.T) {
	s := readFixture(t)
	got := collect(func(fn func(store.Triple) bool) { s.ScanEntity(eid(1), store.AttrID{}, fn) })
	assert.Equal(t, []store.Triple{
		tr(eid(1), aUsersID, ref(eid(1)), 1),
		tr(eid(1), aUsersAge, num(30), 1),
		tr(eid(1), aUsersTags, str("a"), 1),
		tr(eid(1), aUsersTags, str("t"), 1),
	}, got, "every attribute of e, by attribute then value")

	got = collect(func(fn func(store.Triple) bool) { s.ScanEntity(eid(1), aUsersTags, fn) })
	assert.Equal(t, []store.Triple{tr(eid(1), aUsersTags, str("a"), 1), tr(eid(1), aUsersTags, str("t"), 1)}, got)

	assert.Empty(t, collect(func(fn func(store.Triple) bool) { s.ScanEntity(eid(99), store.AttrID{}, fn) }))
	n := 0
	s.ScanEntity(eid(1), store.AttrID{}, func(store.Triple) bool { n++; return false })
	assert.Equal(t, 1, n, "fn returning false stops the scan")
}

func TestScanAttr(t *testing.T) {
	s := readFixture(t)
	got := collect(func(fn func(store.Triple) bool) { s.ScanAttr(aUsersAge, fn) })
	require.Len(t, got, 3)
	for i, t2 := range got {
		assert.Equal(t, eid(i+1), t2.E, "by entity")
	}
	got = collect(func(fn func(store.Triple) bool) { s.ScanAttr(aTodosWatchers, fn) })
	assert.Equal(t, []store.Triple{tr(eid(10), aTodosWatchers, ref(eid(2)), 3), tr(eid(10), aTodosWatchers, ref(eid(3)), 3)}, got)
	assert.Empty(t, collect(func(fn func(store.Triple) bool) { s.ScanAttr(aUsersName, fn) }))
}

func TestScanAttrValues(t *testing.T) {
	s := readFixture(t)
	ages := func(r store.ValueRange, desc bool) []string {
		var out []string
		ok := s.ScanAttrValues(aUsersAge, r, desc, func(t store.Triple) bool {
			out = append(out, t.V.String()+"@"+t.E.String()[34:])
			return true
		})
		require.True(t, ok)
		return out
	}
	tests := []struct {
		name string
		r    store.ValueRange
		asc  []string
	}{
		{"all", store.ValueRange{}, []string{"20@02", "30@01", "30@03"}},
		{"exactly 30", store.Exactly(num(30)), []string{"30@01", "30@03"}},
		{"exactly absent", store.Exactly(num(25)), nil},
		{"> 20", store.ValueRange{Lo: num(20), HasLo: true, LoExclusive: true}, []string{"30@01", "30@03"}},
		{">= 20", store.ValueRange{Lo: num(20), HasLo: true}, []string{"20@02", "30@01", "30@03"}},
		{"< 30", store.ValueRange{Hi: num(30), HasHi: true, HiExclusive: true}, []string{"20@02"}},
		{"<= 30", store.ValueRange{Hi: num(30), HasHi: true}, []string{"20@02", "30@01", "30@03"}},
		{"(20, 30)", store.ValueRange{Lo: num(20), Hi: num(30), HasLo: true, HasHi: true, LoExclusive: true, HiExclusive: true}, nil},
		{"strings sort above numbers", store.ValueRange{Lo: str(""), HasLo: true}, nil},
		{"below any bool", store.ValueRange{Hi: store.Bool(false), HasHi: true}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.asc, ages(tt.r, false), "ascending")
			var desc []string
			for i := len(tt.asc) - 1; i >= 0; i-- {
				desc = append(desc, tt.asc[i])
			}
			assert.Equal(t, desc, ages(tt.r, true), "descending")
			for _, v := range []store.Value{num(20), num(25), num(30)} {
				inList := false
				for _, a := range tt.asc {
					inList = inList || a[:2] == v.String()
				}
				if inList {
					assert.True(t, tt.r.Contains(v), "Contains(%v)", v)
				}
			}
		})
	}

	n := 0
	require.True(t, s.ScanAttrValues(aUsersAge, store.ValueRange{}, true, func(store.Triple) bool { n++; return false }))
	assert.Equal(t, 1, n, "fn returning false stops the scan")
	assert.False(t, s.ScanAttrValues(aUsersName, store.ValueRange{}, false, func(store.Triple) bool { panic("called") }),
		"not in AVE: the caller falls back to ScanAttr")
	assert.False(t, s.ScanAttrValues(attrID(0xfff), store.ValueRange{}, false, func(store.Triple) bool { panic("called") }))

	tags := collect(func(fn func(store.Triple) bool) { s.ScanAttrValues(aUsersTags, store.Exactly(str("t")), false, fn) })
	assert.Len(t, tags, 3, "a many attribute: one triple per holder")
}

func TestValueRangeContains(t *testing.T) {
	r := store.ValueRange{Lo: num(1), Hi: str("m"), HasLo: true, HasHi: true, HiExclusive: true}
	for v, want := range map[store.Value]bool{
		num(0): false, num(1): true, num(1e9): true, str(""): true, str("l"): true, str("m"): false,
		store.Null(): false, store.Bool(true): false, mustValue(t, `{}`): false,
	} {
		assert.Equal(t, want, r.Contains(v), "Contains(%v)", v)
	}
	assert.True(t, store.ValueRange{}.Contains(store.Null()))
	assert.True(t, store.Exactly(num(2)).Contains(num(2)))
	assert.False(t, store.Exactly(num(2)).Contains(num(2.5)))
}

func TestScanRefs(t *testing.T) {
	s := readFixture(t)
	got := collect(func(fn func(store.Triple) bool) { s.ScanRefs(eid(2), store.AttrID{}, fn) })
	assert.Equal(t, []store.Triple{
		tr(eid(12), aTodosOwner, ref(eid(2)), 2),
		tr(eid(10), aTodosWatchers, ref(eid(2)), 3),
	}, got, "by attribute, then source")
	got = collect(func(fn func(store.Triple) bool) { s.ScanRefs(eid(1), aTodosOwner, fn) })
	assert.Equal(t, []store.Triple{tr(eid(10), aTodosOwner, ref(eid(1)), 2), tr(eid(11), aTodosOwner, ref(eid(1)), 2)}, got)
	assert.Empty(t, collect(func(fn func(store.Triple) bool) { s.ScanRefs(eid(1), aTodosWatchers, fn) }))
	assert.Empty(t, collect(func(fn func(store.Triple) bool) { s.ScanRefs(eid(10), store.AttrID{}, fn) }))
}

func TestPointReads(t *testing.T) {
	s := readFixture(t)
	assert.Equal(t, 18, s.Len())
	assert.True(t, s.Has(store.TripleKey{E: eid(1), A: aUsersAge, V: num(30)}))
	assert.False(t, s.Has(store.TripleKey{E: eid(1), A: aUsersAge, V: num(31)}))
	got, ok := s.Get(store.TripleKey{E: eid(10), A: aTodosWatchers, V: ref(eid(3))})
	require.True(t, ok)
	assert.Equal(t, int64(3), got.CreatedAt)
	assert.True(t, s.EntityExists(eid(10)))
	assert.False(t, s.EntityExists(eid(99)))
	assert.True(t, s.InNamespace(eid(10), "todos"))
	assert.False(t, s.InNamespace(eid(10), "users"))

	all := s.Triples()
	require.Len(t, all, s.Len())
	for i := 1; i < len(all); i++ {
		p, c := all[i-1], all[i]
		assert.True(t, p.E.Compare(c.E) < 0 || p.E == c.E && (p.A.Compare(c.A) < 0 || p.A == c.A && store.Less(p.V, c.V)),
			"EAV order at %d: %s then %s", i, p, c)
	}
	all[0].CreatedAt = 999
	assert.NotEqual(t, int64(999), s.Triples()[0].CreatedAt, "the caller owns Triples' slice")

	empty := store.NewSnapshot(nil)
	assert.Zero(t, empty.Len())
	assert.Zero(t, empty.Attrs().Len())
	require.NoError(t, empty.CheckInvariants())
}

// TestApplyLeavesReceiverUnchanged: copy-on-write — the old snapshot keeps
// every triple and every index after the new one is changed.
func TestApplyLeavesReceiverUnchanged(t *testing.T) {
	old := readFixture(t)
	before := old.Triples()
	next := mustApply(t, old, 100,
		add(eid(1), aUsersAge, num(99)),
		add(eid(4), aUsersAge, num(1)),
		del(eid(2), "users"),
		retract(eid(1), aUsersTags, str("a")),
	)
	assert.Equal(t, before, old.Triples())
	require.NoError(t, old.CheckInvariants())
	assert.True(t, old.Has(store.TripleKey{E: eid(1), A: aUsersAge, V: num(30)}))
	assert.Len(t, collect(func(fn func(store.Triple) bool) { old.ScanRefs(eid(2), store.AttrID{}, fn) }), 2)
	assert.Len(t, collect(func(fn func(store.Triple) bool) { old.ScanAttrValues(aUsersAge, store.ValueRange{}, false, fn) }), 3)

	assert.True(t, next.Has(store.TripleKey{E: eid(1), A: aUsersAge, V: num(99)}))
	assert.False(t, next.EntityExists(eid(2)))
	assert.False(t, next.EntityExists(eid(12)), "cascaded through todos.owner")

	// A failing batch returns nil and leaves the receiver as it was.
	bad, err := next.Apply([]store.Step{add(eid(5), aUsersAge, num(5)), add(eid(5), aUsersAge, str("x"))}, 200)
	require.Error(t, err)
	assert.Nil(t, bad)
	assert.False(t, next.EntityExists(eid(5)))
	require.NoError(t, next.CheckInvariants())
}

// TestConcurrentUse runs readers and writers over one snapshot; run it with
// -race. Apply copies the trees under a lock because btree's Copy writes
// to its source.
func TestConcurrentUse(t *testing.T) {
	base := readFixture(t)
	var wg sync.WaitGroup
	results := make([]*store.Snapshot, 4)
	for i := range results {
		wg.Add(2)
		go func() {
			defer wg.Done()
			s, err := base.Apply([]store.Step{add(eid(100+i), aUsersAge, num(float64(i)))}, int64(i))
			if err == nil {
				results[i] = s
			}
		}()
		go func() {
			defer wg.Done()
			base.ScanAttrValues(aUsersAge, store.ValueRange{}, false, func(store.Triple) bool { return true })
			base.ScanRefs(eid(1), store.AttrID{}, func(store.Triple) bool { return true })
			_ = base.Triples()
		}()
	}
	wg.Wait()
	for i, s := range results {
		require.NotNil(t, s, "writer %d", i)
		require.NoError(t, s.CheckInvariants())
		assert.Equal(t, base.Len()+2, s.Len(), "writer %d sees only its own write (value and id triple)", i)
	}
	require.NoError(t, base.CheckInvariants())
	assert.Equal(t, 18, base.Len())
}

func TestScanAttrFrom(t *testing.T) {
	s := readFixture(t)
	scan := func(a store.AttrID, from *store.TripleKey, desc bool) []store.Triple {
		return collect(func(fn func(store.Triple) bool) { s.ScanAttrFrom(a, from, desc, fn) })
	}
	asc := collect(func(fn func(store.Triple) bool) { s.ScanAttr(aUsersTags, fn) })
	require.Len(t, asc, 4)
	assert.Equal(t, asc, scan(aUsersTags, nil, false), "ascending from the start is ScanAttr")
	desc := scan(aUsersTags, nil, true)
	require.Len(t, desc, 4)
	for i := range desc {
		assert.Equal(t, asc[len(asc)-1-i], desc[i], "descending is ScanAttr reversed")
	}
	// From a stored key, inclusive either way; from a key between two.
	k := asc[1].Key()
	assert.Equal(t, asc[1:], scan(aUsersTags, &k, false))
	assert.Equal(t, []store.Triple{asc[1], asc[0]}, scan(aUsersTags, &k, true))
	between := store.TripleKey{E: eid(1), V: str("b")} // after (1, a), before (1, t)
	assert.Equal(t, asc[1:], scan(aUsersTags, &between, false))
	assert.Equal(t, []store.Triple{asc[0]}, scan(aUsersTags, &between, true))
	past := store.TripleKey{E: eid(99)}
	assert.Empty(t, scan(aUsersTags, &past, false), "nothing after the last entity")
	assert.Len(t, scan(aUsersTags, &past, true), 4, "everything before it")
	assert.Empty(t, scan(aUsersName, nil, true), "an attribute without triples")
	n := 0
	s.ScanAttrFrom(aUsersTags, nil, true, func(store.Triple) bool { n++; return false })
	assert.Equal(t, 1, n, "fn returning false stops the scan")
}

// TestScanAttrFromLarge checks ScanAttrFrom against a filter of every
// triple on a store of many B-tree nodes, from random keys both ways.
func TestScanAttrFromLarge(t *testing.T) {
	seed := testSeed(t)
	r := rand.New(rand.NewPCG(seed, 0))
	var ts []store.Triple
	for i := range 2000 {
		u := eid(i + 1)
		ts = append(ts, tr(u, aUsersID, ref(u), 1))
		for range r.IntN(4) {
			ts = append(ts, tr(u, aUsersTags, str(fmt.Sprint(r.IntN(50))), 1))
		}
	}
	s := mustLoad(t, ts...)
	var all []store.Triple // the tags triples in AEV order
	for _, x := range s.Triples() {
		if x.A == aUsersTags {
			all = append(all, x)
		}
	}
	aev := func(a, b store.Triple) int {
		if c := a.E.Compare(b.E); c != 0 {
			return c
		}
		return store.Compare(a.V, b.V)
	}
	for range 200 {
		from := store.TripleKey{E: eid(r.IntN(2100)), A: aUsersTags, V: str(fmt.Sprint(r.IntN(60)))}
		if r.IntN(4) == 0 && len(all) > 0 {
			from = all[r.IntN(len(all))].Key()
		}
		f := store.Triple{E: from.E, A: from.A, V: from.V}
		var wantAsc, wantDesc []store.Triple
		for _, x := range all {
			if aev(x, f) >= 0 {
				wantAsc = append(wantAsc, x)
			} else {
				wantDesc = append(wantDesc, x)
			}
			if aev(x, f) == 0 {
				wantDesc = append(wantDesc, x)
			}
		}
		slices.Reverse(wantDesc)
		gotAsc := collect(func(fn func(store.Triple) bool) { s.ScanAttrFrom(aUsersTags, &from, false, fn) })
		gotDesc := collect(func(fn func(store.Triple) bool) { s.ScanAttrFrom(aUsersTags, &from, true, fn) })
		require.Equal(t, len(wantAsc), len(gotAsc), "ascending from %s (seed %d)", from.E, seed)
		require.Equal(t, wantAsc, gotAsc, "ascending from %v (seed %d)", from, seed)
		require.Equal(t, wantDesc, gotDesc, "descending from %v (seed %d)", from, seed)
	}
}
