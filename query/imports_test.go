package query_test

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestPure keeps the package pure (STYLE L2): it imports only store, the
// pure internal/errs and internal/jsonlite, and the standard library, and nothing it depends on does IO of the kinds the
// pure core must not.
func TestPure(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list")
	}
	out, err := exec.Command("go", "list", "-f", `{{join .Imports "\n"}}`, ".").Output()
	require.NoError(t, err)
	for _, imp := range strings.Fields(string(out)) {
		if strings.Contains(imp, ".") {
			// store, and the pure helpers that stand in for fmt and
			// encoding/json (which the wasm client cannot afford).
			assert.Contains(t, []string{
				"github.com/triplesync/triplesync/store",
				"github.com/triplesync/triplesync/internal/errs",
				"github.com/triplesync/triplesync/internal/jsonlite",
			}, imp, "query imports %s", imp)
		}
		for _, bad := range []string{"os", "net", "time", "math/rand", "log", "log/slog", "sync", "database/sql", "syscall/js"} {
			assert.NotEqual(t, bad, imp, "query imports %s", imp)
		}
	}
	out, err = exec.Command("go", "list", "-deps", ".").Output()
	require.NoError(t, err)
	for _, dep := range strings.Fields(string(out)) {
		for _, bad := range []string{"net", "database/sql", "log/slog", "syscall/js", "github.com/jackc/", "github.com/gorilla/"} {
			assert.False(t, dep == bad || strings.HasPrefix(dep, bad+"/") || strings.HasPrefix(dep, bad) && strings.HasSuffix(bad, "/"),
				"query depends on %s", dep)
		}
	}
}
