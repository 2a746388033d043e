package topics_test

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
	allowed := []string{"github.com/triplesync/triplesync/store"}
	out, err := exec.Command("go", "list", "-f", `{{join .Imports "\n"}}`, ".").Output()
	require.NoError(t, err)
	for _, imp := range strings.Fields(string(out)) {
		if strings.Contains(imp, ".") {
			assert.True(t, slices.Contains(allowed, imp), "topics imports %s", imp)
		}
		for _, bad := range []string{"os", "net", "time", "math/rand", "math/rand/v2", "log", "log/slog", "sync", "database/sql", "syscall/js"} {
			assert.NotEqual(t, bad, imp, "topics imports %s", imp)
		}
	}
	out, err = exec.Command("go", "list", "-deps", ".").Output()
	require.NoError(t, err)
	for _, dep := range strings.Fields(string(out)) {
		for _, bad := range []string{"net", "database/sql", "log/slog", "syscall/js"} {
			assert.False(t, dep == bad || strings.HasPrefix(dep, bad+"/"), "topics depends on %s", dep)
		}
		assert.False(t, strings.HasPrefix(dep, "github.com/jackc/") || strings.HasPrefix(dep, "github.com/gorilla/"), "topics depends on %s", dep)
	}
}
