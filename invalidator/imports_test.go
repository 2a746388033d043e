package invalidator_test

import (
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestPure keeps the package pure (STYLE L2): of this module it imports
// only the packages below, and nothing it depends on does IO of the kinds
// the pure core must not. (It may not start goroutines either; go list
// cannot check that, review does.)
func TestPure(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list")
	}
	allowed := []string{"github.com/triplesync/triplesync/store", "github.com/triplesync/triplesync/topics", "github.com/triplesync/triplesync/query"}
	out, err := exec.Command("go", "list", "-f", `{{join .Imports "\n"}}`, ".").Output()
	require.NoError(t, err)
	for _, imp := range strings.Fields(string(out)) {
		if strings.Contains(imp, ".") {
			assert.True(t, slices.Contains(allowed, imp), "invalidator imports %s", imp)
		}
		for _, bad := range []string{"os", "net", "time", "math/rand", "math/rand/v2", "log", "log/slog", "database/sql", "syscall/js"} {
			assert.NotEqual(t, bad, imp, "invalidator imports %s", imp)
		}
	}
	out, err = exec.Command("go", "list", "-deps", ".").Output()
	require.NoError(t, err)
	for _, dep := range strings.Fields(string(out)) {
		for _, bad := range []string{"net", "database/sql", "log/slog", "syscall/js"} {
			assert.False(t, dep == bad || strings.HasPrefix(dep, bad+"/"), "invalidator depends on %s", dep)
		}
		assert.False(t, strings.HasPrefix(dep, "github.com/jackc/") || strings.HasPrefix(dep, "github.com/gorilla/"), "invalidator depends on %s", dep)
	}
}
