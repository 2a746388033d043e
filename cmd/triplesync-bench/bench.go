package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"os/exec"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"text/tabwriter"
	"time"
)

// Main is the bench command: ParseFlags, Run, Close.
type Main struct {
	Scenarios  []string
	Quick      bool
	Clients    []int         // clients on one query, per latency row
	Distinct   int           // clients on as many different queries
	Writes     int           // sequential writes per latency row
	Idle       int           // idle sessions
	Subs       int           // subscribers under sustained writes
	Rate       int           // sustained writes per second
	Duration   time.Duration // of the sustained writes
	Interval   time.Duration // between sustained rows
	Drain      time.Duration // wait for the last deliveries after the sustained writes
	BenchTime  string        // -benchtime of the invalidator benchmark
	Verbose    bool
	CPUProfile string // write a CPU profile of the whole run (server and in-process clients) here
	MemProfile string // write a heap profile here while the idle sessions are open (server only)
	childIdle  bool
	childURL   string

	Stdout io.Writer
	log    *slog.Logger
	env    *env
	seq    atomic.Int64
	rows   []string // the summary table's rows, tab-separated
}

// NewMain returns a Main writing to stdout.
func NewMain() *Main { return &Main{Stdout: os.Stdout} }

// ParseFlags reads the command line.
func (m *Main) ParseFlags(args []string) error {
	fs := flag.NewFlagSet("triplesync-bench", flag.ContinueOnError)
	scen := fs.String("scenarios", "latency,idle,sustained,invalidate", "scenarios to run, comma-separated")
	fs.BoolVar(&m.Quick, "quick", false, "CI-sized run: every size scaled down (explicit size flags still win)")
	clients := fs.String("clients", "1,100,1000", "clients on one query, one latency row each")
	fs.IntVar(&m.Distinct, "distinct", 1000, "clients on as many different queries (0: skip)")
	fs.IntVar(&m.Writes, "writes", 100, "sequential writes per latency row")
	fs.IntVar(&m.Idle, "idle", 10000, "idle sessions, one live query each")
	fs.IntVar(&m.Subs, "subscribers", 1000, "subscribers (one query each) under sustained writes")
	fs.IntVar(&m.Rate, "rate", 1000, "sustained writes per second")
	fs.DurationVar(&m.Duration, "duration", 60*time.Second, "duration of the sustained writes")
	fs.DurationVar(&m.Interval, "interval", 10*time.Second, "a sustained row every interval")
	fs.DurationVar(&m.Drain, "drain", deliveryTimeout, "after the sustained writes, wait this long for the last deliveries")
	fs.StringVar(&m.BenchTime, "benchtime", "", "-benchtime for BenchmarkInvalidate (default go test's; 3x with -quick)")
	fs.BoolVar(&m.Verbose, "v", false, "log the server's and Postgres's events")
	fs.StringVar(&m.CPUProfile, "cpuprofile", "", "write a CPU profile of the run (server and in-process clients) to this file")
	fs.StringVar(&m.MemProfile, "memprofile", "", "write a heap profile of the server, taken while the idle sessions are open, to this file")
	fs.BoolVar(&m.childIdle, "child-idle", false, "internal: open -idle sessions on -url, print ready, hold them until stdin closes")
	fs.StringVar(&m.childURL, "url", "", "internal: the session URL for -child-idle")
	if err := fs.Parse(args); err != nil {
		return err
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if m.Quick {
		quick := map[string]func(){
			"clients":     func() { *clients = "1,10,100" },
			"distinct":    func() { m.Distinct = 100 },
			"writes":      func() { m.Writes = 20 },
			"idle":        func() { m.Idle = 500 },
			"subscribers": func() { m.Subs = 100 },
			"rate":        func() { m.Rate = 100 },
			"duration":    func() { m.Duration = 6 * time.Second },
			"interval":    func() { m.Interval = 2 * time.Second },
			"benchtime":   func() { m.BenchTime = "3x" },
		}
		for name, f := range quick {
			if !set[name] {
				f()
			}
		}
	}
	m.Clients = nil
	for _, s := range strings.Split(*clients, ",") {
		if s = strings.TrimSpace(s); s == "" {
			continue
		}
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			return fmt.Errorf("-clients: bad count %q", s)
		}
		m.Clients = append(m.Clients, n)
	}
	m.Scenarios = strings.Split(*scen, ",")
	for _, s := range m.Scenarios {
		switch s {
		case "latency", "idle", "sustained", "invalidate":
		default:
			return fmt.Errorf("-scenarios: unknown scenario %q", s)
		}
	}
	if m.Rate < 1 || m.Writes < 1 || m.Interval <= 0 {
		return errors.New("-rate, -writes and -interval must be positive")
	}
	if m.Verbose {
		m.log = slog.New(slog.NewTextHandler(os.Stderr, nil))
	} else {
		m.log = slog.New(slog.DiscardHandler)
	}
	return nil
}

// Run runs the chosen scenarios and prints the summary table.
func (m *Main) Run(ctx context.Context) error {
	if m.childIdle {
		return m.runChildIdle(ctx)
	}
	limit, err := raiseFileLimit()
	if err != nil {
		return err
	}
	m.printf("triplesync-bench %s: GOMAXPROCS=%d, nproc=%d, open-file limit %d\n",
		time.Now().UTC().Format(time.RFC3339), runtime.GOMAXPROCS(0), runtime.NumCPU(), limit)
	need := 2*max(m.Distinct, m.Subs, slicesMax(m.Clients)) + 200
	if limit < uint64(need) {
		return fmt.Errorf("open-file limit %d is below the %d the in-process clients need; raise the hard limit (ulimit -Hn)", limit, need)
	}
	if limit < uint64(m.Idle)+200 && m.has("idle") {
		return fmt.Errorf("open-file limit %d is below the %d the idle sessions need; raise the hard limit (ulimit -Hn)", limit, m.Idle+200)
	}
	for _, s := range m.Scenarios {
		if s == "invalidate" || m.env != nil {
			continue
		}
		m.printf("starting Postgres and the server...\n")
		if m.env, err = openEnv(ctx, m.log); err != nil {
			return err
		}
	}
	if m.CPUProfile != "" {
		f, err := os.Create(m.CPUProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	for _, s := range m.Scenarios {
		var err error
		switch s {
		case "latency":
			err = m.runLatency(ctx)
		case "idle":
			err = m.runIdle(ctx)
		case "sustained":
			err = m.runSustained(ctx)
		case "invalidate":
			err = m.runInvalidate(ctx)
		}
		if err != nil {
			return fmt.Errorf("%s: %w", s, err)
		}
	}
	m.printTable()
	return nil
}

// Close stops the server and Postgres and removes the temporary directory.
func (m *Main) Close(ctx context.Context) error {
	if m.env == nil {
		return nil
	}
	return m.env.Close(ctx)
}

func (m *Main) has(s string) bool {
	for _, x := range m.Scenarios {
		if x == s {
			return true
		}
	}
	return false
}

func (m *Main) printf(format string, args ...any) { fmt.Fprintf(m.Stdout, format, args...) }

func (m *Main) row(cells ...string) { m.rows = append(m.rows, strings.Join(cells, "\t")) }

func (m *Main) printTable() {
	m.printf("\nSummary (latencies in ms; targets from issue 9 beside the figures)\n\n")
	tw := tabwriter.NewWriter(m.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "scenario\tsize\tp50\tp95\tp99\tthroughput\tmemory\tcpu ms/write (bench, pg)\ttarget")
	for _, r := range m.rows {
		fmt.Fprintln(tw, r)
	}
	tw.Flush()
}

// raiseFileLimit raises the soft open-file limit to the hard limit and
// returns it: every session is a socket on each side.
func raiseFileLimit() (uint64, error) {
	var l syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l); err != nil {
		return 0, fmt.Errorf("get open-file limit: %w", err)
	}
	if l.Cur < l.Max {
		l.Cur = l.Max
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &l); err != nil {
			return 0, fmt.Errorf("raise open-file limit: %w", err)
		}
	}
	return l.Cur, nil
}

func slicesMax(xs []int) int {
	n := 0
	for _, x := range xs {
		n = max(n, x)
	}
	return n
}

// deliveryTimeout bounds the wait for one write's deliveries; a write not
// delivered by then is counted as lost and reported.
const deliveryTimeout = 10 * time.Second

// runLatency measures sequential writes' latency to 1..N clients on one
// query, then to N clients on N different queries (one receiver each).
func (m *Main) runLatency(ctx context.Context) error {
	type run struct {
		n        int
		distinct bool
	}
	var runs []run
	for _, n := range m.Clients {
		runs = append(runs, run{n, false})
	}
	if m.Distinct > 0 {
		runs = append(runs, run{m.Distinct, true})
	}
	for _, r := range runs {
		if err := m.env.seed(ctx, r.n); err != nil {
			return err
		}
		rec := newRecorder()
		query := func(int) string { return itemQuery(0) }
		if r.distinct {
			query = itemQuery
		}
		clients, err := dialMany(ctx, m.env.srv.SessionURL(), r.n, query, func(int) func(int, time.Time) { return rec.deliver })
		if err != nil {
			return err
		}
		writes := m.Writes
		lost := 0
		rng := rand.New(rand.NewPCG(uint64(r.n), 1))
		start := time.Now()
		cpu0 := m.env.cpu()
		for range writes {
			seq := int(m.seq.Add(1))
			target, want := 0, r.n
			if r.distinct {
				target, want = rng.IntN(r.n), 1
			}
			done := rec.start(seq, target, want, time.Now())
			if err := m.env.write(ctx, target, seq); err != nil {
				closeAll(clients)
				return err
			}
			select {
			case <-done:
			case <-time.After(deliveryTimeout):
			case <-ctx.Done():
				closeAll(clients)
				return ctx.Err()
			}
		}
		elapsed := time.Since(start)
		cpu := m.env.cpu().sub(cpu0)
		lost += rec.outstanding()
		var ms0 runtime.MemStats
		runtime.ReadMemStats(&ms0)
		lats := rec.take()
		p := percentiles(lats, 50, 95, 99)
		name, target := "write→client, one query", ""
		if r.distinct {
			name = "write→client, own queries"
			target = "p50≤10 p99≤50 (at 1,000)"
		} else if r.n >= 1000 {
			target = "p95≤100 (fan-out)"
		}
		size := fmt.Sprintf("%d clients, %d writes", r.n, writes)
		if lost > 0 {
			size += fmt.Sprintf(", %d LOST", lost)
		}
		m.row(name, size, ms(p[0]), ms(p[1]), ms(p[2]),
			fmt.Sprintf("%.0f deliveries/s", float64(len(lats))/elapsed.Seconds()),
			"heap "+mib(ms0.HeapInuse)+" MiB (server+clients)", cpuPer(cpu, writes), target)
		m.printf("latency: %d clients (distinct=%v): p50 %s p95 %s p99 %s ms over %d deliveries, %d lost; cpu %s ms/write (bench, pg)\n",
			r.n, r.distinct, ms(p[0]), ms(p[1]), ms(p[2]), len(lats), lost, cpuPer(cpu, writes))
		closeAll(clients)
	}
	return nil
}

// goMem returns the Go runtime's live memory after a GC: heap objects plus
// goroutine stacks.
func goMem() uint64 {
	runtime.GC()
	runtime.GC()
	var s runtime.MemStats
	runtime.ReadMemStats(&s)
	return s.HeapAlloc + s.StackInuse
}

// runIdle opens m.Idle sessions from a child process and measures the
// server's memory per session.
func (m *Main) runIdle(ctx context.Context) error {
	if err := m.env.seed(ctx, m.Idle); err != nil {
		return err
	}
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	before := m.env.srv.Sessions().Stats().Sessions
	time.Sleep(time.Second) // let closed sessions of earlier scenarios go
	mem0, rss0 := goMem(), rss()
	cmd := exec.CommandContext(ctx, exe, "-child-idle", "-idle", strconv.Itoa(m.Idle), "-url", m.env.srv.SessionURL())
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	cmd.Stderr = os.Stderr
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return err
	}
	defer cmd.Wait()
	defer stdin.Close()
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || strings.TrimSpace(line) != "ready" {
		return fmt.Errorf("child: %q %v", line, err)
	}
	opened := time.Since(start)
	time.Sleep(time.Second)
	mem1, rss1 := goMem(), rss()
	if m.MemProfile != "" {
		f, err := os.Create(m.MemProfile)
		if err != nil {
			return err
		}
		err = pprof.Lookup("heap").WriteTo(f, 0)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return err
		}
	}
	st := m.env.srv.Sessions().Stats()
	n := st.Sessions - before
	if n != m.Idle {
		return fmt.Errorf("server has %d new sessions, want %d", n, m.Idle)
	}
	perGo := float64(int64(mem1)-int64(mem0)) / float64(n)
	perRSS := float64(int64(rss1)-int64(rss0)) / float64(n)
	m.row("idle sessions (clients in a child process)", fmt.Sprintf("%d sessions, 1 query each", n), "", "", "",
		fmt.Sprintf("%.0f sessions/s opened", float64(n)/opened.Seconds()),
		fmt.Sprintf("%.1f KB heap+stack, %.1f KB RSS per session", perGo/1000, perRSS/1000), "", "≤50 KB/session")
	m.printf("idle: %d sessions in %s: %.1f KB Go heap+stacks and %.1f KB RSS per session (server total %s MiB heap+stacks)\n",
		n, opened.Round(time.Millisecond), perGo/1000, perRSS/1000, mib(mem1))
	return nil
}

// runChildIdle is the child side of runIdle.
func (m *Main) runChildIdle(ctx context.Context) error {
	if _, err := raiseFileLimit(); err != nil {
		return err
	}
	clients, err := dialMany(ctx, m.childURL, m.Idle, itemQuery, nil)
	if err != nil {
		return err
	}
	defer closeAll(clients)
	fmt.Fprintln(m.Stdout, "ready")
	_, _ = io.Copy(io.Discard, os.Stdin)
	return nil
}

// runSustained holds m.Rate writes per second for m.Duration under m.Subs
// subscribers, each on its own item, and prints a row per m.Interval.
func (m *Main) runSustained(ctx context.Context) error {
	if err := m.env.seed(ctx, m.Subs); err != nil {
		return err
	}
	rec := newRecorder()
	clients, err := dialMany(ctx, m.env.srv.SessionURL(), m.Subs, itemQuery, func(int) func(int, time.Time) { return rec.deliver })
	if err != nil {
		return err
	}
	defer closeAll(clients)
	m.printf("sustained: %d writes/s for %s under %d subscribers\n", m.Rate, m.Duration, m.Subs)
	m.printf("%8s %10s %10s %8s %8s %8s %12s %10s %9s %5s %8s %8s %10s %9s\n", "t", "writes/s", "delivered", "p50", "p99", "max", "WAL lag B", "heap MiB", "sessions", "slow", "runs/s", "reads/s", "unchanged", "frames/s")

	wctx, cancel := context.WithTimeout(ctx, m.Duration)
	defer cancel()
	const workers = 16
	var (
		wg      sync.WaitGroup
		written atomic.Int64
		werr    atomic.Pointer[error]
	)
	interval := time.Second / time.Duration(m.Rate)
	start := time.Now()
	cpu0 := m.env.cpu()
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(w), 2))
			for k := w; ; k += workers {
				at := start.Add(time.Duration(k) * interval)
				if d := time.Until(at); d > 0 {
					select {
					case <-time.After(d):
					case <-wctx.Done():
						return
					}
				}
				if wctx.Err() != nil {
					return
				}
				// Worker w writes only items w, w+workers, ...: writes to
				// one item are sequential, so they commit in the order of
				// their sequence numbers and the newest is the one a
				// client must end with (with any worker free to write any
				// item, two writes could commit out of order, and the
				// older value, which wins, left the newer undelivered).
				own := (m.Subs - w + workers - 1) / workers
				if own <= 0 {
					return
				}
				seq := int(m.seq.Add(1))
				target := w + workers*rng.IntN(own)
				rec.start(seq, target, 1, time.Now())
				if err := m.env.write(wctx, target, seq); err != nil {
					if wctx.Err() == nil {
						werr.Store(&err)
					}
					return
				}
				written.Add(1)
			}
		}()
	}
	var all []time.Duration
	var heapMin, heapMax uint64
	var serverErr error
	lastStats := m.env.srv.Sessions().Stats()
	tick := time.NewTicker(m.Interval)
	last, lastN := start, int64(0)
	report := func(now time.Time, drain bool) {
		lats := rec.take()
		all = append(all, lats...)
		p := percentiles(lats, 50, 99, 100)
		n := written.Load()
		lag, err := m.env.walLag(ctx)
		if err != nil {
			lag = -1
		}
		var s runtime.MemStats
		runtime.ReadMemStats(&s)
		if heapMin == 0 || s.HeapInuse < heapMin {
			heapMin = s.HeapInuse
		}
		heapMax = max(heapMax, s.HeapInuse)
		t := now.Sub(start).Round(time.Second).String()
		if drain {
			t = "drained"
		}
		st := m.env.srv.Sessions().Stats()
		secs := now.Sub(last).Seconds()
		m.printf("%8s %10.0f %10d %8s %8s %8s %12d %10s %9d %5d %8.0f %8.0f %10d %9.0f\n", t, float64(n-lastN)/secs, len(lats),
			ms(p[0]), ms(p[1]), ms(p[2]), lag, mib(s.HeapInuse), st.Sessions, st.SlowConsumers,
			float64(st.Runs-lastStats.Runs)/secs, float64(st.Reads-lastStats.Reads)/secs, st.Unchanged-lastStats.Unchanged, float64(st.SentFrames-lastStats.SentFrames)/secs)
		lastStats = st
		select {
		case err := <-m.env.srv.Err():
			m.printf("SERVER STOPPED: %v\n", err)
			serverErr = err
		default:
		}
		last, lastN = now, n
	}
loop:
	for {
		select {
		case now := <-tick.C:
			report(now, false)
		case <-wctx.Done():
			break loop
		}
	}
	tick.Stop()
	wg.Wait()
	if e := werr.Load(); e != nil {
		return *e
	}
	// Let the last writes arrive, then count what never did.
	deadline := time.Now().Add(m.Drain)
	for time.Now().Before(deadline) {
		rec.mu.Lock()
		left := len(rec.pending)
		rec.mu.Unlock()
		if left == 0 {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	report(time.Now(), true)
	writing := min(time.Since(start), m.Duration)
	cpu := m.env.cpu().sub(cpu0)
	lost := rec.outstanding()
	if serverErr != nil {
		return fmt.Errorf("server stopped: %w", serverErr)
	}
	p := percentiles(all, 50, 95, 99)
	size := fmt.Sprintf("%d subscribers, %d tx/s asked, %s", m.Subs, m.Rate, m.Duration)
	if lost > 0 {
		size += fmt.Sprintf(", %d UNDELIVERED", lost)
	}
	if rec.coalesced > 0 {
		size += fmt.Sprintf(", %d coalesced", rec.coalesced)
	}
	m.row("sustained writes, push latency", size, ms(p[0]), ms(p[1]), ms(p[2]),
		fmt.Sprintf("%.0f tx/s achieved", float64(written.Load())/writing.Seconds()),
		fmt.Sprintf("heap %s–%s MiB (server+clients)", mib(heapMin), mib(heapMax)), cpuPer(cpu, int(written.Load())), "p50≤10 p99≤50, memory flat")
	return nil
}

// runInvalidate runs the invalidator's benchmark with go test and keeps
// its result lines.
func (m *Main) runInvalidate(ctx context.Context) error {
	out, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	mod := strings.TrimSpace(string(out))
	if err != nil || mod == "" || mod == os.DevNull {
		m.row("invalidator (go test -bench)", "skipped: run from the module (go env GOMOD is empty)", "", "", "", "", "", "", "")
		return nil
	}
	args := []string{"test", "-run", "^$", "-bench", "BenchmarkInvalidate", "./invalidator/"}
	if m.BenchTime != "" {
		args = append(args, "-benchtime", m.BenchTime)
	}
	m.printf("invalidate: go %s\n", strings.Join(args, " "))
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = strings.TrimSuffix(mod, "go.mod")
	cmd.Stderr = os.Stderr
	res, err := cmd.Output()
	if err != nil {
		return fmt.Errorf("go test: %w\n%s", err, res)
	}
	for _, line := range strings.Split(string(res), "\n") {
		if !strings.HasPrefix(line, "BenchmarkInvalidate") {
			continue
		}
		m.printf("%s\n", line)
		f := strings.Fields(line)
		// name N ns/op ... metrics as value unit pairs.
		metrics := map[string]string{}
		for i := 2; i+1 < len(f); i += 2 {
			metrics[f[i+1]] = f[i]
		}
		nsop, _ := strconv.ParseFloat(metrics["ns/op"], 64)
		m.row("invalidator "+strings.TrimPrefix(f[0], "BenchmarkInvalidate/"),
			"100,000 subscriptions, 1 tx/op", fmt.Sprintf("%.3f/tx", nsop/1e6), "", "",
			fmt.Sprintf("%s woken/tx, %s cpu-ns/op", metrics["woken/tx"], metrics["cpu-ns/op"]),
			metrics["B/sub"]+" B/sub", "", "")
	}
	return nil
}
