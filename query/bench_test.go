package query_test

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/triplesync/triplesync/query"
	"github.com/triplesync/triplesync/store"
)

// benchStore builds users with todos: nUsers users, perUser todos each,
// todos with a title, a done flag (every other one), an indexed rank and
// an owner.
func benchStore(b *testing.B, nUsers, perUser int) *store.Snapshot {
	b.Helper()
	var ts []store.Triple
	add := func(e store.EntityID, ns, label string, v store.Value) {
		ts = append(ts, store.Triple{E: e, A: attr(ns, label).ID, V: v, CreatedAt: 1})
	}
	id := func(kind byte, i int) store.EntityID {
		return store.EntityID{kind, byte(i >> 16), byte(i >> 8), byte(i), 0, 0, 0x40, 0, 0x80}
	}
	n := 0
	for u := range nUsers {
		ue := id(1, u)
		add(ue, "users", "id", store.Ref(ue))
		add(ue, "users", "name", store.String(fmt.Sprint("user", u)))
		for range perUser {
			te := id(2, n)
			add(te, "todos", "id", store.Ref(te))
			add(te, "todos", "title", store.String(fmt.Sprint("todo ", n)))
			add(te, "todos", "done", store.Bool(n%2 == 0))
			add(te, "todos", "rank", store.Number(float64((n*7919)%(nUsers*perUser))))
			add(te, "todos", "owner", store.Ref(ue))
			n++
		}
	}
	s, err := store.Load(testAttrs, ts)
	require.NoError(b, err)
	return s
}

func benchEval(b *testing.B, s *store.Snapshot, text string) {
	q, err := query.Parse([]byte(text), testAttrs)
	require.NoError(b, err)
	src := query.SnapshotSource(s)
	res, err := query.Eval(src, q)
	require.NoError(b, err)
	b.ReportAllocs()
	cpu := cpuTime()
	for b.Loop() {
		if _, err := query.Eval(src, q); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(cpuTime()-cpu)/float64(b.N), "cpu-ns/op")
	b.ReportMetric(float64(res.Stages), "stages")
	b.ReportMetric(float64(len(res.Triples)), "triples")
}

// BenchmarkEval measures the in-memory engine: where + order + limit 50
// over 100k todos (ordered plan over the indexed rank; the same ordered by
// an attribute without an index, which sorts every match), and a two-level
// query of 50 users with 20 todos each. Besides wall time it reports the
// process's CPU time per op (cpu-ns/op, GC included), steadier on a shared
// machine, the stages (Source calls) and the justifying triples.
func BenchmarkEval(b *testing.B) {
	// Each store lives only in its group, so one group's heap does not
	// weigh on the garbage collector during the other's runs.
	b.Run("100k", func(b *testing.B) {
		big := benchStore(b, 1000, 100) // 100k todos
		b.Run("where-order-limit50", func(b *testing.B) {
			benchEval(b, big, `{"todos": {"$": {"where": {"done": false}, "order": {"rank": "desc"}, "limit": 50}}}`)
		})
		b.Run("where-order-limit50-after", func(b *testing.B) {
			c := query.Cursor{V: store.Number(50000), E: store.EntityID{}}
			benchEval(b, big, `{"todos": {"$": {"where": {"done": false}, "order": {"rank": "desc"}, "first": 50, "after": "`+c.String()+`"}}}`)
		})
		b.Run("selective-where-order-limit50", func(b *testing.B) {
			benchEval(b, big, `{"todos": {"$": {"where": {"owner": "`+store.EntityID{1, 0, 0, 7, 0, 0, 0x40, 0, 0x80}.String()+`"}, "order": {"rank": "asc"}, "limit": 50}}}`)
		})
		b.Run("where-order-unindexed-limit50", func(b *testing.B) {
			benchEval(b, big, `{"todos": {"$": {"where": {"done": false}, "order": {"title": "asc"}, "limit": 50}}}`)
		})
	})
	b.Run("50x20", func(b *testing.B) {
		nested := benchStore(b, 50, 20)
		b.Run("nested", func(b *testing.B) {
			benchEval(b, nested, `{"users": {"todos": {}}}`)
		})
		b.Run("nested-ordered", func(b *testing.B) {
			benchEval(b, nested, `{"users": {"$": {"order": {"name": "asc"}, "limit": 50}, "todos": {"$": {"order": {"rank": "desc"}}}}}`)
		})
	})
}

func BenchmarkParse(b *testing.B) {
	text := []byte(`{"users": {"$": {"where": {"or": [{"name": {"$ilike": "b%"}}, {"todos.tags": {"$in": ["a", "b"]}}]}, "order": {"name": "asc"}, "limit": 20},
		"todos": {"$": {"where": {"done": false, "rank": {"$gt": 3}}, "first": 10, "fields": ["title", "rank"]}, "project": {}}}}`)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := query.Parse(text, testAttrs); err != nil {
			b.Fatal(err)
		}
	}
}
