package store_test

import (
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/triplesync/triplesync/store"
)

// The benchmark store: benchEntities todos × 5 attributes (id, title
// indexed, done, owner → one of benchUsers users, code unique) = 500k
// triples; AVE holds 200k of them, VAE 100k.
const (
	benchEntities = 100_000
	benchUsers    = 1_000
)

type benchWorld struct {
	triples []store.Triple
	todos   []store.EntityID
	users   []store.EntityID
	snap    *store.Snapshot
}

var (
	benchOnce sync.Once
	bench     benchWorld
)

func randomID(r *rand.Rand) store.EntityID {
	var id store.EntityID
	for i := range id {
		id[i] = byte(r.Uint32())
	}
	id[6] = id[6]&0x0f | 0x40
	id[8] = id[8]&0x3f | 0x80
	return id
}

func benchStore(b *testing.B) *benchWorld {
	b.Helper()
	benchOnce.Do(func() {
		r := rand.New(rand.NewPCG(1, 2))
		for range benchUsers {
			bench.users = append(bench.users, randomID(r))
		}
		for i := range benchEntities {
			e := randomID(r)
			bench.todos = append(bench.todos, e)
			bench.triples = append(bench.triples,
				store.Triple{E: e, A: aTodosID, V: store.Ref(e), CreatedAt: int64(i)},
				store.Triple{E: e, A: aTodosTitle, V: store.String(fmt.Sprintf("title %06d", r.IntN(benchEntities))), CreatedAt: int64(i)},
				store.Triple{E: e, A: aTodosDone, V: store.Bool(r.IntN(2) == 0), CreatedAt: int64(i)},
				store.Triple{E: e, A: aTodosOwner, V: store.Ref(bench.users[r.IntN(benchUsers)]), CreatedAt: int64(i)},
				store.Triple{E: e, A: aTodosCode, V: store.String(fmt.Sprintf("c%07d", i)), CreatedAt: int64(i)},
			)
		}
		s, err := store.Load(testAttrs(b), bench.triples)
		if err != nil {
			panic(err)
		}
		bench.snap = s
	})
	require.Equal(b, 5*benchEntities, bench.snap.Len())
	return &bench
}

// reportCPU reports the process CPU time per op since start (all threads,
// the garbage collector's included), where the platform tells it.
func reportCPU(b *testing.B, start int64) {
	if now := cpuTime(); now > 0 {
		b.ReportMetric(float64(now-start)/float64(b.N), "cpu-ns/op")
	}
}

// BenchmarkLoad builds the 500k-triple store from an unsorted slice.
func BenchmarkLoad(b *testing.B) {
	w := benchStore(b)
	attrs := testAttrs(b)
	b.ReportAllocs()
	cpu := cpuTime()
	for b.Loop() {
		if _, err := store.Load(attrs, w.triples); err != nil {
			b.Fatal(err)
		}
	}
	reportCPU(b, cpu)
}

// BenchmarkApplyOne applies one step to the 500k-triple store: copying the
// trees (copy-on-write) plus the step, as replaying a pending mutation does;
// one case per kind of step (update-attr and delete-attr re-index or drop a
// whole attribute, 100k triples, so they are not one-mutation shapes).
func BenchmarkApplyOne(b *testing.B) {
	w := benchStore(b)
	r := rand.New(rand.NewPCG(3, 4))
	cases := []struct {
		name string
		step func(i int) store.Step
	}{
		{"replace-indexed", func(i int) store.Step {
			return add(w.todos[r.IntN(len(w.todos))], aTodosTitle, store.String(fmt.Sprintf("new %d", i)))
		}},
		{"replace-unique", func(i int) store.Step {
			return add(w.todos[r.IntN(len(w.todos))], aTodosCode, store.String(fmt.Sprintf("n%d", i)))
		}},
		{"relink", func(int) store.Step {
			return add(w.todos[r.IntN(len(w.todos))], aTodosOwner, store.Ref(w.users[r.IntN(len(w.users))]))
		}},
		{"new-entity", func(int) store.Step { return add(randomID(r), aTodosDone, store.Bool(true)) }},
		{"retract", func(int) store.Step {
			e := w.todos[r.IntN(len(w.todos))]
			return retract(e, aTodosID, store.Ref(e))
		}},
		{"delete-entity", func(int) store.Step { return del(w.todos[r.IntN(len(w.todos))], "todos") }},
		{"deep-merge", func(i int) store.Step {
			v, _ := store.FromAny(map[string]any{"n": i})
			return merge(w.todos[r.IntN(len(w.todos))], aTodosData, v)
		}},
		{"add-attr", func(i int) store.Step {
			a := store.Attr{ID: randomID(r), Namespace: "todos", Label: fmt.Sprint("x", i), Type: store.TypeString, Indexed: true}
			return store.Step{Op: store.OpAddAttr, A: a.ID, Attr: a}
		}},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			i := 0
			cpu := cpuTime()
			for b.Loop() {
				i++
				if _, err := w.snap.Apply([]store.Step{c.step(i)}, 1); err != nil {
					b.Fatal(err)
				}
			}
			reportCPU(b, cpu)
		})
	}
}

// BenchmarkScan reads the 500k-triple store through each index.
func BenchmarkScan(b *testing.B) {
	w := benchStore(b)
	s := w.snap
	r := rand.New(rand.NewPCG(5, 6))
	count := func(n *int) func(store.Triple) bool {
		return func(store.Triple) bool { *n++; return true }
	}
	var n int
	b.Run("entity", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			s.ScanEntity(w.todos[r.IntN(len(w.todos))], store.AttrID{}, count(&n))
		}
	})
	b.Run("entity-attr", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			s.ScanEntity(w.todos[r.IntN(len(w.todos))], aTodosTitle, count(&n))
		}
	})
	b.Run("unique-value", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			v := store.String(fmt.Sprintf("c%07d", r.IntN(benchEntities)))
			s.ScanAttrValues(aTodosCode, store.Exactly(v), false, count(&n))
		}
	})
	b.Run("range-100", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			lo := r.IntN(benchEntities - 100)
			rg := store.ValueRange{Lo: store.String(fmt.Sprintf("c%07d", lo)), HasLo: true, Hi: store.String(fmt.Sprintf("c%07d", lo+100)), HasHi: true, HiExclusive: true}
			s.ScanAttrValues(aTodosCode, rg, false, count(&n))
		}
	})
	b.Run("range-100-desc", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			k := 0
			s.ScanAttrValues(aTodosTitle, store.ValueRange{}, true, func(store.Triple) bool { k++; return k < 100 })
		}
	})
	b.Run("refs", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			s.ScanRefs(w.users[r.IntN(len(w.users))], aTodosOwner, count(&n))
		}
	})
	b.Run("attr-all", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			s.ScanAttr(aTodosDone, count(&n))
		}
	})
	if n == 0 {
		b.Fatal("scans found nothing")
	}
}
