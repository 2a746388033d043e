//go:build !unix

package store_test

// cpuTime is unknown here; see cpu_unix_test.go.
func cpuTime() int64 { return 0 }
