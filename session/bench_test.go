package session

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/triplesync/triplesync/internal/wire"
	"github.com/triplesync/triplesync/store"
)

// results1000 returns two versions of a 1,000-row, 3,000-triple result
// that differ in one attribute of one row.
func results1000() (v1, v2 *version) {
	var a, b []store.Triple
	for i := 1; i <= 1000; i++ {
		e := tid(i)
		row := []store.Triple{
			{E: e, A: tid(9001), V: store.Ref(e), CreatedAt: 1},
			{E: e, A: tid(9002), V: store.String(fmt.Sprintf("todo %04d", i)), CreatedAt: 1},
			{E: e, A: tid(9003), V: store.Bool(false), CreatedAt: 1},
		}
		a = append(a, row...)
		if i == 500 {
			row = append([]store.Triple(nil), row...)
			row[1] = store.Triple{E: e, A: tid(9002), V: store.String("renamed"), CreatedAt: 2}
		}
		b = append(b, row...)
	}
	return &version{triples: sortEAV(a)}, &version{triples: sortEAV(b)}
}

func BenchmarkDiff(b *testing.B) {
	v1, v2 := results1000()
	b.ReportAllocs()
	for b.Loop() {
		added, removed := diffTriples(v1.triples, v2.triples)
		if len(added) != 1 || len(removed) != 1 {
			b.Fatal(len(added), len(removed))
		}
	}
}

// BenchmarkFanout is the per-session cost of pushing one refresh of a
// shared 1,000-row query to many sessions: the delta is computed and
// encoded once, each session splices its own frame.
func BenchmarkFanout(b *testing.B) {
	for _, n := range []int{1, 100, 10000} {
		b.Run(fmt.Sprintf("sessions=%d", n), func(b *testing.B) {
			v1, v2 := results1000()
			// A fresh version per iteration, so each computes its delta
			// once, as a new run's version does.
			fresh := make([]*version, b.N)
			for i := range fresh {
				fresh[i] = &version{triples: v2.triples}
			}
			b.ReportAllocs()
			b.ResetTimer()
			var size int
			for i := 0; i < b.N; i++ {
				v := fresh[i]
				for s := range n {
					body, changed := v.deltaFrom(v1)
					if !changed {
						b.Fatal("no change")
					}
					size = len(appendRefreshOK(nil, store.TxID(s), []computation{{queryID: "q", body: body}}, nil))
				}
			}
			b.ReportMetric(float64(size), "frame-bytes")
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/session")
		})
	}
}

// BenchmarkAddQueryOK compares the spliced add-query-ok of a 1,000-row
// result (its triples encoded once per version) with wire.Encode.
func BenchmarkAddQueryOK(b *testing.B) {
	v1, _ := results1000()
	q := json.RawMessage(`{"todos":{}}`)
	b.Run("spliced", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_ = appendAddQueryOK(nil, "1", "q", q, v1.fullJSON(), 7)
		}
	})
	b.Run("wire.Encode", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := wire.Encode(nil, &wire.AddQueryOK{ClientEventID: "1", QueryID: "q", Q: q, Result: v1.triples, ProcessedTxID: 7}); err != nil {
				b.Fatal(err)
			}
		}
	})
}
