package reactor_test

import (
	"crypto/sha256"
	"encoding/hex"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/triplesync/triplesync/reactor"
)

// TestQueryIDHex pins QueryID's hand-written hex to encoding/hex's: the
// ids name cached results in storage and on the wire.
func TestQueryIDHex(t *testing.T) {
	for _, q := range []string{`{"todos":{}}`, `{"a":{"$":{"where":{"x":"<é>"}}},"b":{}}`, `{"todos":{"$":{"limit":3}}}`} {
		id, text, err := reactor.QueryID([]byte(q))
		require.NoError(t, err)
		sum := sha256.Sum256(text)
		require.Equal(t, "q"+hex.EncodeToString(sum[:16]), id)
	}
}
