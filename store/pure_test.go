package store_test

import (
	"go/build"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestPureImports keeps store a pure package (STYLE L2): no IO, no clocks,
// no global randomness, no goroutines. It checks the package's own imports
// against an allow-list (no os, net, math/rand, crypto/rand, ...) and its
// source for what the list cannot catch: package time may parse dates
// (store now reads its own, see parseDate), never read the clock.
func TestPureImports(t *testing.T) {
	pkg, err := build.ImportDir(".", 0)
	require.NoError(t, err)
	allowed := map[string]bool{
		"bytes": true, "cmp": true, "encoding/binary": true,
		"errors": true, "io": true, "math": true, "slices": true,
		"strconv": true, "strings": true, "unicode": true, "unicode/utf8": true, "sync": true, "time": true, "github.com/tidwall/btree": true,
		"github.com/triplesync/triplesync/internal/errs": true, "github.com/triplesync/triplesync/internal/jsonlite": true,
		"github.com/triplesync/triplesync/internal/sha2": true,
	}
	for _, imp := range pkg.Imports {
		assert.True(t, allowed[imp], "store imports %q, which a pure package may not", imp)
	}
	for _, name := range pkg.GoFiles {
		src, err := os.ReadFile(filepath.Join(pkg.Dir, name))
		require.NoError(t, err)
		for _, banned := range []string{"time.Now", "time.Since", "time.Sleep", "go func"} {
			assert.False(t, strings.Contains(string(src), banned), "%s uses %s", name, banned)
		}
	}
}
