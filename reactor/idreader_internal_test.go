package reactor

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/triplesync/triplesync/store"
)

// TestIDReader checks the default Config.Rand: it fills whole buffers of
// any length, never fails, and does not repeat itself.
func TestIDReader(t *testing.T) {
	var r idReader
	seen := map[string]bool{}
	for n := range 40 {
		p := make([]byte, n)
		got, err := r.Read(p)
		require.NoError(t, err)
		require.Equal(t, n, got)
		if n >= 8 {
			require.False(t, seen[string(p)], "repeated %d bytes", n)
			seen[string(p)] = true
			require.NotEqual(t, make([]byte, n), p)
		}
	}
	// The tail of an odd-length read is filled too.
	zeroTail := 0
	for range 64 {
		p := make([]byte, 13)
		_, _ = r.Read(p)
		if bytes.Equal(p[8:], make([]byte, 5)) {
			zeroTail++
		}
	}
	require.Less(t, zeroTail, 2)
	ids := map[store.EntityID]bool{}
	for range 10000 {
		id, err := store.NewEntityID(r)
		require.NoError(t, err)
		require.False(t, ids[id])
		ids[id] = true
	}
}
