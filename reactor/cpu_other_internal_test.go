//go:build !unix

package reactor

// cpuTime is unknown here; see cpu_unix_internal_test.go.
func cpuTime() int64 { return 0 }
