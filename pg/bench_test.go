package pg_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/triplesync/triplesync/pg"
	"github.com/triplesync/triplesync/query"
	"github.com/triplesync/triplesync/store"
)

// Benchmark schema: users with todos, as in query's benchmarks.
var (
	bUserID  = store.AttrID{0xb1, 1}
	bName    = store.AttrID{0xb1, 2}
	bTodoID  = store.AttrID{0xb1, 3}
	bTitle   = store.AttrID{0xb1, 4}
	bDone    = store.AttrID{0xb1, 5}
	bRank    = store.AttrID{0xb1, 6}
	bOwner   = store.AttrID{0xb1, 7}
	benchSch = store.MustNewAttrs(
		store.Attr{ID: bUserID, Namespace: "users", Label: "id", Unique: true, Indexed: true},
		store.Attr{ID: bName, Namespace: "users", Label: "name", Type: store.TypeString, Indexed: true},
		store.Attr{ID: bTodoID, Namespace: "todos", Label: "id", Unique: true, Indexed: true},
		store.Attr{ID: bTitle, Namespace: "todos", Label: "title", Type: store.TypeString},
		store.Attr{ID: bDone, Namespace: "todos", Label: "done", Type: store.TypeBoolean},
		store.Attr{ID: bRank, Namespace: "todos", Label: "rank", Type: store.TypeNumber, Indexed: true},
		store.Attr{ID: bOwner, Namespace: "todos", Label: "owner", Type: store.TypeRef, RefNamespace: "users", ReverseLabel: "todos"},
	)
)

func benchID(kind byte, i int) store.EntityID {
	return store.EntityID{kind, byte(i >> 16), byte(i >> 8), byte(i), 0, 0, 0x40, 0, 0x80}
}

// benchDB returns a database with nUsers users owning perUser todos each,
// and the same triples.
func benchDB(b *testing.B, nUsers, perUser int) (*pg.DB, []store.Triple) {
	b.Helper()
	var ts []store.Triple
	add := func(e store.EntityID, a store.AttrID, v store.Value) {
		ts = append(ts, store.Triple{E: e, A: a, V: v, CreatedAt: 1})
	}
	n := 0
	for u := range nUsers {
		ue := benchID(1, u)
		add(ue, bUserID, store.Ref(ue))
		add(ue, bName, store.String(fmt.Sprint("user", u)))
		for range perUser {
			te := benchID(2, n)
			add(te, bTodoID, store.Ref(te))
			add(te, bTitle, store.String(fmt.Sprint("todo ", n)))
			add(te, bDone, store.Bool(n%2 == 0))
			add(te, bRank, store.Number(float64((n*7919)%(nUsers*perUser))))
			add(te, bOwner, store.Ref(ue))
			n++
		}
	}
	db := mustOpenDB(b)
	require.NoError(b, pg.Import(b.Context(), db.Pool(), benchSch, ts))
	// Settle the bulk load (hint bits, visibility map, statistics), so
	// autovacuum does not run under the measurements.
	_, err := db.Pool().Exec(b.Context(), "vacuum (analyze) triples, attrs")
	require.NoError(b, err)
	return db, ts
}

// BenchmarkRead measures whole evaluations against Postgres (a Read's
// transaction included) and reports the stages and round trips each made.
func BenchmarkRead(b *testing.B) {
	db, _ := benchDB(b, 1000, 100) // 100k todos
	run := func(b *testing.B, text string) {
		q, err := query.Parse([]byte(text), benchSch)
		require.NoError(b, err)
		var res *query.Result
		trips := 0
		b.ReportAllocs()
		for b.Loop() {
			trips, err = db.ReadTrips(b.Context(), func(src query.Source) error {
				res, err = query.Eval(src, q)
				return err
			})
			if err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(res.Stages), "stages")
		b.ReportMetric(float64(trips), "trips")
		b.ReportMetric(float64(len(res.Triples)), "triples")
	}
	b.Run("where-order-limit50/100k", func(b *testing.B) {
		run(b, `{"todos": {"$": {"where": {"done": false}, "order": {"rank": "desc"}, "limit": 50}}}`)
	})
	b.Run("by-id/100k", func(b *testing.B) {
		// The shape of a live query on one entity, as the bench command's.
		run(b, fmt.Sprintf(`{"todos": {"$": {"where": {"id": %q}}}}`, benchID(2, 4242)))
	})
	b.Run("nested/50users-x100", func(b *testing.B) {
		run(b, `{"users": {"$": {"order": {"name": "asc"}, "limit": 50}, "todos": {}}}`)
	})
}

// BenchmarkScan measures one stage: a Scan call of the kinds a nested
// level sends (fields of 50 entities, their reverse links), inside an
// open Read.
func BenchmarkScan(b *testing.B) {
	db, _ := benchDB(b, 100, 20)
	var users []store.EntityID
	for u := range 50 {
		users = append(users, benchID(1, u))
	}
	var refs []store.Value
	for _, u := range users {
		refs = append(refs, store.Ref(u))
	}
	slices.SortFunc(refs, store.Compare)
	scans := []query.Scan{
		{Index: query.EAV, E: users},
		{Index: query.VAE, A: bOwner, V: refs},
		{Index: query.AVE, A: bRank, Range: store.ValueRange{Lo: store.Null(), HasLo: true, LoExclusive: true}, Desc: true, Limit: 64},
	}
	src := readSource(b, db)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := src.Scan(scans); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkTransact measures a one-step mutation (a cardinality-one value
// of an existing entity) end to end, and reports its median latency.
func BenchmarkTransact(b *testing.B) {
	db, _ := benchDB(b, 100, 20)
	var lat []time.Duration
	i := 0
	b.ReportAllocs()
	for b.Loop() {
		i++
		start := time.Now()
		_, err := db.Transact(b.Context(), pg.TransactRequest{MutationID: fmt.Sprint("m", i),
			Steps: []store.Step{add(benchID(2, i%2000), bTitle, fmt.Sprint("t", i))}})
		if err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(start))
	}
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
}
