package reactor_test

import (
	"cmp"
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/triplesync/triplesync/reactor"
)

// TestSortBySeq compares SortBySeq with slices.SortStableFunc, ties
// included.
func TestSortBySeq(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for n := range 50 {
		ms := make([]reactor.Mutation, n)
		for i := range ms {
			ms[i] = reactor.Mutation{ID: "m" + strconv.Itoa(i), Seq: r.Uint64N(uint64(n/2 + 1)), Created: int64(i)}
		}
		if n%5 == 0 {
			slices.SortFunc(ms, func(a, b reactor.Mutation) int { return cmp.Compare(a.Seq, b.Seq) })
		}
		want := slices.Clone(ms)
		slices.SortStableFunc(want, func(a, b reactor.Mutation) int { return cmp.Compare(a.Seq, b.Seq) })
		reactor.SortBySeq(ms)
		require.Equal(t, want, ms)
	}
}
