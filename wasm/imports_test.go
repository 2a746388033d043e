//go:build !(js && wasm)

package wasm_test

import (
	"go/build"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestImportsStayLight keeps out of the browser client's own packages the
// standard packages that cost its WebAssembly the most (issue #8): fmt,
// encoding/json and reflect, encoding/hex (it imports fmt), crypto, os, and
// sort, which the generic slices functions replace. Each is tens to
// hundreds of KB, and one import anywhere links it.
func TestImportsStayLight(t *testing.T) {
	heavy := []string{"fmt", "encoding/json", "encoding/hex", "reflect", "os", "sort", "crypto/rand", "crypto/sha1", "crypto/sha256", "net/url"}
	for _, dir := range []string{".", "cmd/triplesync-wasm"} {
		for _, tags := range [][]string{nil, {"js", "wasm"}} {
			ctx := build.Default
			if tags != nil {
				ctx.GOOS, ctx.GOARCH = "js", "wasm"
			}
			pkg, err := ctx.ImportDir(dir, 0)
			require.NoError(t, err)
			for _, imp := range pkg.Imports {
				assert.NotContains(t, heavy, imp, "%s (GOOS=%s) imports %s", dir, ctx.GOOS, imp)
			}
		}
	}
}
