//go:build !(js && wasm)

package wasm_test

import (
	"testing"

	"github.com/triplesync/triplesync/reactor"
)

// liveStorages are BenchmarkLiveQueryUpdate's storages on the host; the
// browser adds IndexedDB (bench_js_test.go).
func liveStorages(b *testing.B) map[string]func() reactor.Storage {
	return map[string]func() reactor.Storage{"mem": func() reactor.Storage { return reactor.NewMemStorage() }}
}
