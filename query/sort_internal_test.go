package query

import (
	"math/rand/v2"
	"slices"
	"testing"

	tassert "github.com/stretchr/testify/assert"

	"github.com/triplesync/triplesync/store"
)

// TestSortTriples checks the radix path of sortTriples against a plain
// comparison sort, on sets with duplicates, shared id prefixes and
// several triples per entity.
func TestSortTriples(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{0, 1, 10, 255, 256, 1000, 5000} {
		var want []store.Triple
		for len(want) < n {
			var e store.EntityID
			e[0] = byte(r.IntN(4)) // many entities share their first bytes...
			e[7] = byte(r.IntN(3))
			e[15] = byte(r.IntN(256)) // ...and differ only at the end
			want = append(want, store.Triple{E: e, A: store.AttrID{byte(r.IntN(3))}, V: store.Number(float64(r.IntN(3)))})
		}
		var chunks [][]*store.Triple
		for i := range want {
			if len(chunks) == 0 || i%37 == 0 {
				chunks = append(chunks, nil)
			}
			chunks[len(chunks)-1] = append(chunks[len(chunks)-1], &want[i])
		}
		got := sortTriples(chunks, len(want))
		exp := slices.Clone(want)
		slices.SortFunc(exp, func(a, b store.Triple) int { return CompareIndex(EAV, a, b) })
		exp = slices.CompactFunc(exp, func(a, b store.Triple) bool { return a.Key() == b.Key() })
		if len(exp) == 0 {
			exp = []store.Triple{}
		}
		tassert.Equal(t, exp, got, "n=%d", n)
	}
}

// TestSortTriplesRuns checks the merge path of sortTriples (input made of
// a few runs in order, duplicates across runs) against a comparison sort,
// for every number of runs up to one past the merge limit.
func TestSortTriplesRuns(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for runs := 1; runs <= maxRuns+1; runs++ {
		for _, size := range []int{1, 7, 300} {
			var all []store.Triple
			var chunks [][]*store.Triple
			for range runs {
				run := make([]store.Triple, 0, size)
				for range size {
					run = append(run, store.Triple{E: store.EntityID{byte(r.IntN(8)), byte(r.IntN(8))}, A: store.AttrID{byte(r.IntN(2))}, V: store.Number(float64(r.IntN(2)))})
				}
				slices.SortFunc(run, func(a, b store.Triple) int { return CompareIndex(EAV, a, b) })
				all = append(all, run...)
				var c []*store.Triple
				for i := range run {
					c = append(c, &run[i])
				}
				chunks = append(chunks, c)
			}
			exp := slices.Clone(all)
			slices.SortFunc(exp, func(a, b store.Triple) int { return CompareIndex(EAV, a, b) })
			exp = slices.CompactFunc(exp, func(a, b store.Triple) bool { return a.Key() == b.Key() })
			tassert.Equal(t, exp, sortTriples(chunks, len(all)), "runs=%d size=%d", runs, size)
		}
	}
}

// TestSortInts checks sortInts (insertion sort when short, heapsort
// beyond) against slices.Sort.
func TestSortInts(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for n := range 60 {
		for range 20 {
			a := make([]int, n)
			for i := range a {
				a[i] = r.IntN(n + 1)
			}
			exp := slices.Clone(a)
			slices.Sort(exp)
			sortInts(a)
			tassert.Equal(t, exp, a, "n=%d", n)
		}
	}
}

// TestSortMembers checks sortMembers against a comparison sort on sorted
// runs (as entities give them) and on shuffled keys.
func TestSortMembers(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for n := range 40 {
		keys := make([]string, n)
		for i := range keys {
			keys[i] = string(rune('a'+i%26)) + string(rune('a'+i/26))
		}
		r.Shuffle(len(keys), func(i, j int) { keys[i], keys[j] = keys[j], keys[i] })
		if n > 2 { // an id, then two sorted runs
			slices.Sort(keys[1 : n/2])
			slices.Sort(keys[n/2:])
		}
		ms := make([]member, n)
		for i, k := range keys {
			ms[i] = member{key: k}
		}
		sortMembers(ms)
		got := make([]string, n)
		for i, m := range ms {
			got[i] = m.key
		}
		tassert.True(t, slices.IsSorted(got), "n=%d: %v", n, got)
		slices.Sort(keys)
		tassert.Equal(t, keys, got)
	}
}

// TestSortValues checks sortValues against sorting the values themselves.
func TestSortValues(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	for n := range 50 {
		vs := make([]store.Value, n)
		for i := range vs {
			switch r.IntN(3) {
			case 0:
				vs[i] = store.Number(float64(r.IntN(10)))
			case 1:
				vs[i] = store.String(string(rune('a' + r.IntN(10))))
			default:
				vs[i] = store.Bool(r.IntN(2) == 0)
			}
		}
		exp := slices.Clone(vs)
		slices.SortFunc(exp, store.Compare)
		in := slices.Clone(vs)
		tassert.Equal(t, exp, sortValues(vs), "n=%d", n)
		tassert.Equal(t, in, vs, "sortValues leaves its argument alone")
	}
}
