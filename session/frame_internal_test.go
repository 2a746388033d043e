package session

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/triplesync/triplesync/internal/wire"
	"github.com/triplesync/triplesync/store"
)

// TestRefreshFrame: sessions one version behind under the same query-id
// and processed-tx-id share one frame; anything else gets its own, and
// every frame decodes to its own computation.
func TestRefreshFrame(t *testing.T) {
	v1 := &version{triples: []store.Triple{tr(1, 9, "a", 1)}}
	v2 := &version{triples: []store.Triple{tr(1, 9, "b", 2)}}
	frame := func(qid string, processed store.TxID) []byte {
		body, changed := v2.deltaFrom(v1)
		require.True(t, changed)
		return v2.refreshFrame(v1, qid, processed, computation{queryID: qid, body: body, v: v2, from: v1})
	}
	a := frame("q", 7)
	b := frame("q", 7)
	assert.Same(t, &a[0], &b[0], "one frame for both sessions")
	for _, tt := range []struct {
		qid       string
		processed store.TxID
	}{{"q", 8}, {"other", 8}, {"q", 7}} {
		f := frame(tt.qid, tt.processed)
		m, err := wire.Parse(f)
		require.NoError(t, err)
		r := m.(*wire.RefreshOK)
		assert.Equal(t, tt.processed, r.ProcessedTxID)
		require.Len(t, r.Computations, 1)
		assert.Equal(t, tt.qid, r.Computations[0].QueryID)
		assert.Equal(t, wire.Triples{tr(1, 9, "b", 2)}, r.Computations[0].Added)
	}
}
