//go:build unix

package query_test

import "syscall"

// cpuTime returns the process's user and system CPU time in nanoseconds:
// steadier than wall time on a machine shared with other work.
func cpuTime() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}
