package reactor_test

import (
	"go/ast"
	"go/build"
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// driverFiles are the files of the driver (STYLE.md L3): the only ones
// that may start goroutines, read the clock or use crypto/rand.
var driverFiles = map[string]bool{"driver.go": true, "dispatch.go": true}

// ioFiles may import what the state machine may not: the interfaces the
// driver's IO implements take contexts; MemStorage locks.
var ioFiles = map[string]map[string]bool{
	"storage.go":    {"context": true},
	"transport.go":  {"context": true},
	"memstorage.go": {"context": true, "sync": true},
}

// TestPure keeps the core a pure state machine and the package fit for
// GOOS=js: the package imports no IO (no os, net, syscall, websocket,
// server packages); the core's files start no goroutines and read no
// clock or randomness of their own — both come through Config.
func TestPure(t *testing.T) {
	pkg, err := build.ImportDir(".", 0)
	require.NoError(t, err)
	allowed := map[string]bool{
		"bytes": true, "cmp": true, "context": true, "math/rand/v2": true, "encoding/binary": true,
		"errors": true, "strings": true, "io": true, "maps": true, "slices": true,
		"strconv": true, "sync": true, "sync/atomic": true, "time": true,
		"github.com/triplesync/triplesync/internal/errs":     true,
		"github.com/triplesync/triplesync/internal/jsonlite": true,
		"github.com/triplesync/triplesync/internal/sha2":     true,
		"github.com/triplesync/triplesync/internal/wire":     true,
		"github.com/triplesync/triplesync/query":             true,
		"github.com/triplesync/triplesync/store":             true,
	}
	for _, imp := range pkg.Imports {
		assert.True(t, allowed[imp], "reactor imports %q", imp)
	}
	clock := map[string]bool{"Now": true, "Since": true, "Until": true, "After": true, "AfterFunc": true,
		"NewTimer": true, "NewTicker": true, "Sleep": true, "Tick": true}
	fset := token.NewFileSet()
	for _, name := range pkg.GoFiles {
		if driverFiles[name] {
			continue
		}
		f, err := parser.ParseFile(fset, filepath.Join(pkg.Dir, name), nil, 0)
		require.NoError(t, err)
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			if ioFiles[name][p] {
				continue // an interface the IO implements, or the in-memory storage's lock
			}
			assert.NotContains(t, []string{"crypto/rand", "math/rand", "math/rand/v2", "sync", "sync/atomic", "context"}, p,
				"%s: the core imports %s", name, p)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.GoStmt:
				t.Errorf("%s: the core starts a goroutine", fset.Position(n.Pos()))
			case *ast.SelectorExpr:
				if id, ok := n.X.(*ast.Ident); ok && id.Name == "time" && clock[n.Sel.Name] {
					t.Errorf("%s: the core calls time.%s", fset.Position(n.Pos()), n.Sel.Name)
				}
			}
			return true
		})
	}
}
