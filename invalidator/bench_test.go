package invalidator_test

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"syscall"
	"testing"

	"github.com/triplesync/triplesync/invalidator"
	"github.com/triplesync/triplesync/store"
	"github.com/triplesync/triplesync/topics"
)

// benchWorld is a synthetic server: 10,000 sessions with 10 live queries
// each (100,000 registrations, every key distinct) over 5 namespaces of 10
// attributes (50 in all: per namespace 4 numeric, 5 string, and the id),
// 200,000 entities per namespace, values from domains of 10,000.
//
// Every query has the topics a refined InstaQL query has:
//
//   - fields: [{1-3 listed entities} {the namespace's attributes} _];
//   - the schema topic of its namespace;
//   - a where topic, by kind of query: 45% equality [_ {a} {v}] (lists by
//     owner, by status among many); 2% one-sided range [_ {a} $gt x] or
//     $lt x on a numeric attribute, with x in the top or bottom 1% of the
//     domain (alerts, "overdue"); 1% [_ {a} $like "prefix%"] on a string
//     attribute (search as you type); 52% none (a list pinned to ids, a
//     detail view);
//   - one query in 5,000 also a feed over a whole attribute: [_ {a} _].
//
// A transaction updates 10 random triples (random entity, attribute and
// values, old and new), as a busy app's writes do.
type benchWorld struct {
	r      *rand.Rand
	nss    []string
	attrs  [][]store.AttrID // by namespace; [0] is the id attribute
	numLo  int              // attrs[ns][1:numLo] are numeric
	ents   int              // entities per namespace
	domain int
}

func newBenchWorld(seed uint64) *benchWorld {
	w := &benchWorld{r: rand.New(rand.NewPCG(seed, 1)), numLo: 5, ents: 200_000, domain: 10_000}
	for i := range 5 {
		w.nss = append(w.nss, fmt.Sprintf("ns%d", i))
		var as []store.AttrID
		for j := range 10 {
			as = append(as, store.AttrID{0xa0, byte(i), byte(j), 1})
		}
		w.attrs = append(w.attrs, as)
	}
	return w
}

func (w *benchWorld) entity(ns int) store.EntityID {
	n := w.r.IntN(w.ents)
	return store.EntityID{0xe0, byte(ns), byte(n >> 16), byte(n >> 8), byte(n)}
}

// value returns a value of attribute j: a number for numeric ones, a word
// otherwise (words start with any of 26 letters).
func (w *benchWorld) value(j int) store.Value {
	n := w.r.IntN(w.domain)
	if j >= 1 && j < w.numLo {
		return store.Number(float64(n))
	}
	return store.String(fmt.Sprintf("%c%04d", 'a'+n%26, n))
}

func (w *benchWorld) plan() invalidator.Plan {
	ns := w.r.IntN(len(w.nss))
	as := w.attrs[ns]
	es := make([]store.EntityID, 1+w.r.IntN(3))
	for i := range es {
		es[i] = w.entity(ns)
	}
	ts := []topics.Topic{
		{E: topics.IDs(es...), A: topics.IDs(as...)},
		topics.SchemaTopic(w.nss[ns]),
	}
	switch k := w.r.IntN(100); {
	case k < 45:
		j := 1 + w.r.IntN(len(as)-1)
		ts = append(ts, topics.Topic{A: topics.ID(as[j]), V: topics.Values(w.value(j))})
	case k < 47:
		j := 1 + w.r.IntN(w.numLo-1)
		edge := float64(w.r.IntN(w.domain / 100))
		p := topics.MustCmp(topics.Gt, store.Number(float64(w.domain)-edge))
		if w.r.IntN(2) == 0 {
			p = topics.MustCmp(topics.Lt, store.Number(edge))
		}
		ts = append(ts, topics.Topic{A: topics.ID(as[j]), V: p})
	case k < 48:
		j := w.numLo + w.r.IntN(len(as)-w.numLo)
		s, _ := w.value(j).AsString()
		ts = append(ts, topics.Topic{A: topics.ID(as[j]), V: topics.MustCmp(topics.Like, store.String(s[:3]+"%"))})
	}
	if w.r.IntN(5000) == 0 {
		ts = append(ts, topics.Topic{A: topics.ID(as[1+w.r.IntN(len(as)-1)])})
	}
	return invalidator.Plan{Coarse: ts}
}

func (w *benchWorld) tx(id store.TxID) *store.Change {
	c := &store.Change{TxID: id}
	for range 10 {
		ns := w.r.IntN(len(w.nss))
		j := 1 + w.r.IntN(len(w.attrs[ns])-1)
		e, a := w.entity(ns), w.attrs[ns][j]
		c.Triples = append(c.Triples, store.TripleChange{Op: store.OpUpdate,
			Old: store.Triple{E: e, A: a, V: w.value(j)}, New: store.Triple{E: e, A: a, V: w.value(j)},
			OldFlags: store.FlagEA, NewFlags: store.FlagEA})
	}
	return c
}

// cpuTime returns the CPU time the process has used, in nanoseconds: on a
// shared machine wall-clock ns/op swings with other people's load, the CPU
// the benchmark itself burns much less.
func cpuTime() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}

// BenchmarkInvalidate applies one 10-triple transaction per op to 100,000
// registrations (see benchWorld), finding the woken ones through the
// index ("indexed") or by matching every registered topic ("linear"), and
// drains the woken sessions' stale sets. It reports the bytes the
// registrations take per subscription and the registrations woken per
// transaction.
//
// It also reports the process's CPU time per op (cpu-ns/op), steadier than
// wall-clock ns/op on a shared machine. The linear variant takes about a
// second per op:
//
//	go test -run '^$' -bench BenchmarkInvalidate ./invalidator/
func BenchmarkInvalidate(b *testing.B) {
	const sessions, perSession = 10_000, 10
	inv := invalidator.New()
	w := newBenchWorld(1)
	var ms0, ms1 runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms0)
	for s := range sessions {
		for q := range perSession {
			key := invalidator.QueryKey{Query: fmt.Sprintf("q%d.%d", s, q)}
			if _, err := inv.Subscribe(invalidator.SessionID(s), key, w.plan()); err != nil {
				b.Fatal(err)
			}
		}
	}
	runtime.GC()
	runtime.ReadMemStats(&ms1)
	perSub := float64(ms1.HeapAlloc-ms0.HeapAlloc) / (sessions * perSession)

	txs := make([]*store.Change, 8192)
	for i := range txs {
		txs[i] = w.tx(store.TxID(i + 1))
	}
	for _, mode := range []string{"indexed", "linear"} {
		b.Run(mode, func(b *testing.B) {
			inv.SetLinear(mode == "linear")
			b.ReportAllocs()
			woken := 0
			var buf []invalidator.StaleQuery
			cpu0 := cpuTime()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				for _, s := range inv.Apply(txs[i%len(txs)]) {
					buf, _ = inv.AppendStale(buf[:0], s)
					woken += len(buf)
				}
			}
			b.StopTimer()
			b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/op")
			b.ReportMetric(perSub, "B/sub")
			b.ReportMetric(float64(woken)/float64(b.N), "woken/tx")
		})
	}
}

// BenchmarkLookup measures the topic index alone: 100,000 registrations,
// the topics of one 10-triple transaction per op.
func BenchmarkLookup(b *testing.B) {
	w := newBenchWorld(2)
	ix := topics.NewIndex(0)
	for i := range 100_000 {
		if err := ix.Register(topics.SubID(i), w.plan().Coarse); err != nil {
			b.Fatal(err)
		}
	}
	changes := make([][]topics.Topic, 8192)
	for i := range changes {
		changes[i] = topics.OfChange(w.tx(1))
	}
	b.ReportAllocs()
	cpu0 := cpuTime()
	b.ResetTimer()
	n := 0
	for i := 0; i < b.N; i++ {
		ix.Lookup(changes[i%len(changes)], func(topics.SubID) { n++ })
	}
	b.StopTimer()
	b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/op")
	b.ReportMetric(float64(n)/float64(b.N), "matches/op")
}

// TestIndexedEqualsLinear runs the benchmark's workload, scaled down, through
// an indexed and a linear invalidator and checks they wake the same
// sessions for every transaction.
func TestIndexedEqualsLinear(t *testing.T) {
	indexed, linear := invalidator.New(), invalidator.New()
	linear.SetLinear(true)
	w := newBenchWorld(3)
	w.ents = 500 // so that entity topics match too
	for s := range 100 {
		for q := range 10 {
			key := invalidator.QueryKey{Query: fmt.Sprintf("q%d.%d", s, q)}
			plan := w.plan()
			for _, inv := range []*invalidator.Invalidator{indexed, linear} {
				if _, err := inv.Subscribe(invalidator.SessionID(s), key, plan); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	woken := 0
	for i := range 200 {
		c := w.tx(store.TxID(i + 1))
		a, b := indexed.Apply(c), linear.Apply(c)
		if fmt.Sprint(a) != fmt.Sprint(b) {
			t.Fatalf("tx %d: indexed woke %v, linear %v", i, a, b)
		}
		woken += len(a)
		for _, s := range a {
			ka, _ := indexed.TakeStale(s)
			kb, _ := linear.TakeStale(s)
			if fmt.Sprint(ka) != fmt.Sprint(kb) {
				t.Fatalf("tx %d session %d: indexed stale %v, linear %v", i, s, ka, kb)
			}
		}
	}
	if woken == 0 {
		t.Fatal("the workload woke nothing: the comparison proves nothing")
	}
}
