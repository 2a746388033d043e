//go:build unix

package reactor

import "syscall"

// cpuTime returns the CPU time, user and system, the test process has used
// in ns. Benchmarks report it next to wall time because the shared build
// machines run several test suites at once, which inflates wall time but
// not the CPU a run needs.
func cpuTime() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}
