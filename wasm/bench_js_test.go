//go:build js && wasm

package wasm_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/triplesync/triplesync/reactor"
	"github.com/triplesync/triplesync/wasm"
)

// BenchmarkIndexedDBMutations writes pending mutations to IndexedDB as the
// client does (strict durability), one Write per batch, and reports
// mutations per second.
func BenchmarkIndexedDBMutations(b *testing.B) {
	ctx := context.Background()
	f := mustIndexedDB(b)
	for _, batch := range []int{1, 10, 100} {
		b.Run(fmt.Sprintf("batch=%d", batch), func(b *testing.B) {
			s := MustOpenStorage(b, f, freshApp("bench"), 0)
			b.ReportAllocs()
			seq := uint64(0)
			start := time.Now()
			for b.Loop() {
				var wb reactor.Batch
				for range batch {
					seq++
					wb.PutMutations = append(wb.PutMutations, mutation(fmt.Sprintf("m%08d", seq), seq))
				}
				if err := s.Write(ctx, &wb); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(seq)/time.Since(start).Seconds(), "mutations/s")
		})
	}
}

// BenchmarkIndexedDBDurability compares one-record write transactions with
// strict durability (what pending mutations get: the transaction completes
// once flushed to disk) and relaxed (caches).
func BenchmarkIndexedDBDurability(b *testing.B) {
	ctx := context.Background()
	f := mustIndexedDB(b)
	for _, d := range []wasm.Durability{wasm.Strict, wasm.Relaxed} {
		b.Run(string(d), func(b *testing.B) {
			db, _, err := f.Open(ctx, wasm.DBName(freshApp("dur"), 1), []string{"mutations"})
			if err != nil {
				b.Fatal(err)
			}
			defer db.Close()
			val := []byte(`{"v":1,"id":"m","seq":1,"steps":[],"created":1}`)
			n := 0
			b.ReportAllocs()
			for b.Loop() {
				n++
				if err := db.Write(ctx, []wasm.Put{{Store: "mutations", Key: fmt.Sprint(n), Value: val}}, d); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// liveStorages: the browser adds IndexedDB to BenchmarkLiveQueryUpdate's
// storages.
func liveStorages(b *testing.B) map[string]func() reactor.Storage {
	return map[string]func() reactor.Storage{
		"mem": func() reactor.Storage { return reactor.NewMemStorage() },
		"indexeddb": func() reactor.Storage {
			return MustOpenStorage(b, mustIndexedDB(b), freshApp("live"), 0)
		},
	}
}
