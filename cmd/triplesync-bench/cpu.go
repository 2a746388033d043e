package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// cpuSample is the CPU time (user+system) used so far by this process
// (server and in-process clients together) and by Postgres (the postmaster
// and its children: backends, the walsender, background workers). CPU
// time is what a noisy, shared machine distorts least: wall-clock
// latencies stretch with other people's load, the work done per write
// does not.
type cpuSample struct {
	self, pg time.Duration
}

// sampleCPU reads the CPU times; pgPID is the postmaster's pid (0: none).
func sampleCPU(pgPID int) cpuSample {
	var s cpuSample
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
		s.self = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	if pgPID > 0 {
		s.pg = postgresCPU(pgPID)
	}
	return s
}

func (s cpuSample) sub(o cpuSample) cpuSample { return cpuSample{s.self - o.self, s.pg - o.pg} }

// clockTick is USER_HZ, the unit of /proc/<pid>/stat's times: 100 on
// every Linux architecture Go supports.
const clockTick = 100

// postgresCPU sums utime+stime of the postmaster pid and its direct
// children from /proc. Backends that exited since the last sample are
// missed; the bench's pools keep theirs open.
func postgresCPU(pid int) time.Duration {
	dirs, _ := filepath.Glob("/proc/[0-9]*/stat")
	var ticks uint64
	for _, d := range dirs {
		b, err := os.ReadFile(d)
		if err != nil {
			continue
		}
		// pid (comm) state ppid ... utime(14) stime(15): comm may hold
		// spaces, so split after its closing parenthesis.
		s := string(b)
		i := strings.LastIndexByte(s, ')')
		if i < 0 {
			continue
		}
		head := strings.Fields(s[:strings.IndexByte(s, ' ')])
		f := strings.Fields(s[i+1:])
		if len(f) < 13 || len(head) != 1 {
			continue
		}
		self, _ := strconv.Atoi(head[0])
		ppid, _ := strconv.Atoi(f[1])
		if self != pid && ppid != pid {
			continue
		}
		u, _ := strconv.ParseUint(f[11], 10, 64)
		st, _ := strconv.ParseUint(f[12], 10, 64)
		ticks += u + st
	}
	return time.Duration(ticks) * time.Second / clockTick
}

// cpuPer formats the CPU time of c per write, in ms, as "bench, pg".
func cpuPer(c cpuSample, writes int) string {
	if writes <= 0 {
		return ""
	}
	per := func(d time.Duration) float64 { return float64(d) / 1e6 / float64(writes) }
	return fmt.Sprintf("%.2f, %.2f", per(c.self), per(c.pg))
}
