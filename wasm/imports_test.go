//go:build !(js && wasm)

package wasm_test

import (
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestImportsStayLight keeps out of the browser client the standard
// packages that cost its WebAssembly the most (issue #8): fmt (~120 KB
// gzip), encoding/json with reflect (~200 KB), encoding/hex (it imports
// fmt), crypto (its FIPS module, ~80 KB), os and net/url. One import
// anywhere in the client's dependency closure links the package, so the
// closure is what is checked, with `go list -deps` as the linker sees it.
// One edge is allowed: encoding/binary imports reflect only for its
// struct functions, which the client never calls, and the linker drops
// them (measured: the binary is the same size without encoding/binary).
func TestImportsStayLight(t *testing.T) {
	heavy := map[string]bool{"fmt": true, "encoding/json": true, "encoding/hex": true, "reflect": true, "os": true, "net/url": true}
	cmd := exec.Command("go", "list", "-deps", "-f", `{{.ImportPath}}{{range .Imports}} {{.}}{{end}}`, "./cmd/triplesync-wasm")
	cmd.Env = append(os.Environ(), "GOOS=js", "GOARCH=wasm")
	out, err := cmd.Output()
	require.NoError(t, err, "go list: %s", out)
	var found []string
	for line := range strings.Lines(string(out)) {
		pkg, imports, _ := strings.Cut(strings.TrimSpace(line), " ")
		if heavy[pkg] || pkg == "internal/fmtsort" {
			continue // reported where it is imported
		}
		for imp := range strings.FieldsSeq(imports) {
			if pkg == "encoding/binary" && imp == "reflect" {
				continue
			}
			if heavy[imp] || strings.HasPrefix(imp, "crypto/") || imp == "crypto" {
				found = append(found, pkg+" imports "+imp)
			}
		}
	}
	require.Empty(t, found, "the wasm client links packages it cannot afford")
}
