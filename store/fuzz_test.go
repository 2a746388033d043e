package store_test

import (
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/triplesync/triplesync/store"
)

// FuzzApply decodes a batch of tx-steps from the input and applies it to the
// apply fixture: no panic; the result satisfies every invariant; a failed
// batch returns nil and, like a successful one, leaves the receiver as it
// was. Seeds are random batches over the fixture's entities and attributes
// (see stepGen) and the wire seeds of the step codec.
func FuzzApply(f *testing.F) {
	r := rand.New(rand.NewPCG(7, 7))
	g := &stepGen{r: r, attrs: testAttrs(f)}
	for range 24 {
		steps := make([]store.Step, 1+r.IntN(4))
		for i := range steps {
			steps[i] = g.step()
		}
		b, err := store.EncodeSteps(nil, steps)
		require.NoError(f, err)
		f.Add(b)
	}
	for _, s := range stepSeeds {
		f.Add([]byte("[" + s + "]"))
	}
	base := mustLoad(f, applyBase()...)
	want := base.Triples()
	f.Fuzz(func(t *testing.T, data []byte) {
		steps, err := store.DecodeSteps(data)
		if err != nil {
			return
		}
		next, err := base.Apply(steps, 42)
		require.Equal(t, want, base.Triples(), "the receiver changed")
		if err != nil {
			require.Nil(t, next)
			var se *store.StepError
			require.ErrorAs(t, err, &se)
			require.Less(t, se.Index, len(steps))
			return
		}
		require.NoError(t, next.CheckInvariants())
	})
}
