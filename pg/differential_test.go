package pg_test

import (
	"flag"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/triplesync/triplesync/pg"
	"github.com/triplesync/triplesync/query"
	"github.com/triplesync/triplesync/query/querytest"
	"github.com/triplesync/triplesync/store"
)

var diffRuns = flag.Int("diff.runs", 8, "data sets the differential source test generates")

// TestSource_Differential is the oracle test of the Postgres source
// (ARCHITECTURE: one query engine, two sources, the same answers): random
// schemas, data, scans and queries, answered by Postgres and by
// query.SnapshotSource over the same triples, must agree exactly — every
// scan's triples and order, and every query's tree, page info and
// justifying triples. Every other data set is salted with the values
// whose Postgres sort key is only approximate (strings of 1024 bytes or
// more sharing their first 1024, and objects and arrays whose jsonb text
// orders differently from their canonical text), so the exactness of
// the Go finishing is tested where it matters. Seed: -seed or
// TRIPLESYNC_SEED.
func TestSource_Differential(t *testing.T) {
	base := baseSeed(t)
	runs := *diffRuns
	if testing.Short() {
		runs /= 4
	}
	db := mustOpenDB(t)
	ctx := t.Context()
	scans, queries, trips, stages := 0, 0, 0, 0
	for i := range runs {
		seed := base + uint64(i)
		g := querytest.NewGen(seed)
		d := g.Data(g.Schema(), 14)
		if i%2 == 1 {
			d = fuzzyData(g, 40)
		}
		snap, err := store.Load(d.Attrs, d.Triples)
		require.NoError(t, err, "seed %d", seed)
		all := snap.Triples()
		_, err = db.Pool().Exec(ctx, "truncate attrs, triples")
		require.NoError(t, err)
		require.NoError(t, pg.Import(ctx, db.Pool(), d.Attrs, all))
		mem := query.SnapshotSource(snap)

		ok := true
		_, err = db.ReadTrips(ctx, func(src query.Source) error {
			for range 40 {
				batch := make([]query.Scan, 1+g.R.IntN(6))
				for j := range batch {
					batch[j] = g.Scan(d, all)
				}
				want, err := mem.Scan(batch)
				require.NoError(t, err)
				got, err := src.Scan(batch)
				require.NoError(t, err, "seed %d", seed)
				scans += len(batch)
				for j := range batch {
					if !assert.Equal(t, nonNil(want[j]), nonNil(got[j]), "seed %d scan %+v", seed, batch[j]) {
						ok = false
						return nil
					}
				}
			}
			return nil
		})
		require.NoError(t, err)
		if !ok {
			return
		}
		for range 12 {
			text := g.Query(d, 2)
			q, err := query.Parse(text, d.Attrs)
			require.NoError(t, err, "%s", text)
			want, err := query.Eval(mem, q)
			require.NoError(t, err, "%s", text)
			var got *query.Result
			n, err := db.ReadTrips(ctx, func(src query.Source) error {
				got, err = query.Eval(src, q)
				return err
			})
			require.NoError(t, err, "seed %d query %s", seed, text)
			queries++
			trips += n
			stages += got.Stages
			if i%2 == 0 {
				// Without fuzzy values no scan comes back short.
				assert.LessOrEqual(t, n, got.Stages, "one round trip per stage at most: seed %d query %s", seed, text)
			}
			if !assert.True(t, want.Equal(got), "seed %d query %s\nwant %s\ngot  %s", seed, text, want.AppendJSON(nil), got.AppendJSON(nil)) ||
				!assert.Equal(t, want.Triples, got.Triples, "seed %d query %s", seed, text) {
				return
			}
		}
	}
	t.Logf("%d scans, %d queries (%d stages, %d round trips) agree", scans, queries, stages, trips)
}

func nonNil(ts []store.Triple) []store.Triple {
	if ts == nil {
		return []store.Triple{}
	}
	return ts
}

// fuzzyValues are values whose sort key does not place them exactly: long
// strings sharing 1024 bytes (and their neighbours), and JSON whose jsonb
// text (keys by length, spaces) orders differently from canonical JSON.
func fuzzyValues() []store.Value {
	p := strings.Repeat("p", 1020)
	strs := []string{p, p + "abc", p + "abcd", p + "abcd" + "a", p + "abcd" + "b", p + "abcd" + strings.Repeat("z", 50),
		p + "abcc", p + "abce", p[:1000] + "q", "short", ""}
	var vs []store.Value
	for _, s := range strs {
		vs = append(vs, store.String(s))
	}
	long := `{"k": "` + strings.Repeat("j", 1100) + `"}`
	for _, j := range []string{`{"b":1,"aa":2}`, `{"aa":1,"b":2}`, `{"a":{"ccc":1,"d":2}}`, `{"a":{"d":1}}`, `[1,"x"]`,
		`[10]`, `[9]`, `[]`, `{}`, `{"z":[{"y":1,"xx":2}]}`, `[{"b":1,"aa":0}]`, `{"é":1,"e":2}`, long,
		`{"k": "` + strings.Repeat("j", 1100) + `x"}`} {
		v, err := store.ParseValue([]byte(j))
		if err != nil {
			panic(err)
		}
		vs = append(vs, v)
	}
	return append(vs, store.Number(1), store.Number(-2.5), store.Bool(true), store.Null())
}

// fuzzyData is a data set over a fixed schema whose attributes take
// fuzzyValues: indexed, unique, plain and cardinality many, with ties.
func fuzzyData(g *querytest.Gen, n int) *querytest.Data {
	id := func(b ...byte) store.EntityID {
		var x store.EntityID
		copy(x[:], b)
		return x
	}
	attrs := store.MustNewAttrs(
		store.Attr{ID: id(0xf, 1), Namespace: "docs", Label: "id", Unique: true, Indexed: true},
		store.Attr{ID: id(0xf, 2), Namespace: "docs", Label: "body", Indexed: true},
		store.Attr{ID: id(0xf, 3), Namespace: "docs", Label: "meta", Type: store.TypeJSON},
		store.Attr{ID: id(0xf, 4), Namespace: "docs", Label: "key", Unique: true},
		store.Attr{ID: id(0xf, 5), Namespace: "docs", Label: "tags", Cardinality: store.CardinalityMany, Indexed: true},
		store.Attr{ID: id(0xf, 6), Namespace: "docs", Label: "parent", Type: store.TypeRef, RefNamespace: "docs", ReverseLabel: "children", Indexed: true},
	)
	vals := fuzzyValues()
	pick := func() store.Value { return vals[g.R.IntN(len(vals))] }
	d := &querytest.Data{Attrs: attrs, Entities: map[string][]store.EntityID{}}
	add := func(e store.EntityID, a byte, v store.Value) {
		d.Triples = append(d.Triples, store.Triple{E: e, A: id(0xf, a), V: v, CreatedAt: 1700000000000 + int64(g.R.IntN(1000))})
	}
	var es []store.EntityID
	for i := range n {
		e := id(0xe, byte(i), byte(g.R.IntN(256)))
		es = append(es, e)
		d.Entities["docs"] = append(d.Entities["docs"], e)
		add(e, 1, store.Ref(e))
	}
	taken := map[store.Value]bool{}
	for _, e := range es {
		if g.R.IntN(5) > 0 {
			add(e, 2, pick())
		}
		if g.R.IntN(3) > 0 {
			add(e, 3, pick())
		}
		if v := pick(); !taken[v] {
			taken[v] = true
			add(e, 4, v)
		}
		seen := map[store.Value]bool{}
		for range g.R.IntN(3) {
			if v := pick(); !seen[v] {
				seen[v] = true
				add(e, 5, v)
			}
		}
		if g.R.IntN(2) == 0 {
			add(e, 6, store.Ref(es[g.R.IntN(len(es))]))
		}
	}
	return d
}

// TestSortKey_Go checks the Go twin of triples_sort_key against the SQL
// function on values of every kind, fuzzy ones included (for those only
// the group the key names).
func TestSortKey_Go(t *testing.T) {
	db := mustOpenDB(t)
	vals := fuzzyValues()
	for _, s := range []string{"a", "a\\b", "é", "😀", "\u007f", strings.Repeat("x", 1023), strings.Repeat("x", 1024)} {
		vals = append(vals, store.String(s))
	}
	for _, f := range []float64{0, 1, -1, 0.1, 1e-300, -1e-300, 5e-324, 1.7976931348623157e308, -1.7976931348623157e308, 1e21, 9007199254740993} {
		vals = append(vals, store.Number(f))
	}
	vals = append(vals, store.Bool(false))
	for _, v := range vals {
		var key []byte
		require.NoError(t, db.Pool().QueryRow(t.Context(), "select triples_sort_key($1::text::jsonb)", v.String()).Scan(&key))
		got, fuzzy := pg.SortKey(v)
		switch {
		case v.Kind() == store.KindJSON:
			assert.True(t, fuzzy, "%s is fuzzy", v)
			assert.Equal(t, got, key[:1], "kind byte of %s", v)
		default:
			assert.Equal(t, key, got, "key of %s", v)
			s, _ := v.AsString()
			assert.Equal(t, len(s) >= 1024, fuzzy, "fuzzy(%s)", v)
		}
	}
}

// TestSource_FuzzyGroups pins the cases where Postgres's order is not the
// store's and Go must finish it: the limited head ends inside a group of
// objects (jsonb text orders {"aa": 1} before {"b": 1, "aa": 0}, the
// canonical texts the other way round) or of long strings sharing their
// first 1024 bytes (Postgres ties them and orders by entity), and an
// After inside such a group that leaves the head short, which costs a
// second round trip.
func TestSource_FuzzyGroups(t *testing.T) {
	id := func(b byte) store.EntityID { return store.EntityID{0xe, b} }
	a := store.Attr{ID: store.EntityID{0xa, 1}, Namespace: "docs", Label: "v", Indexed: true}
	attrs := store.MustNewAttrs(a)
	json := func(s string) store.Value {
		v, err := store.ParseValue([]byte(s))
		require.NoError(t, err)
		return v
	}
	p := strings.Repeat("p", 1024)
	tests := []struct {
		name  string
		vals  []store.Value // of entities 1, 2, ...
		scan  query.Scan
		first store.Value // of the answer
		trips int
	}{
		{"json asc", []store.Value{json(`{"aa":1}`), json(`{"b":1,"aa":0}`)},
			query.Scan{Index: query.AVE, A: a.ID, Limit: 1}, json(`{"aa":0,"b":1}`), 1},
		{"json desc", []store.Value{json(`{"b":1,"aa":0}`), json(`{"aa":1}`)},
			query.Scan{Index: query.AVE, A: a.ID, Limit: 1, Desc: true}, json(`{"aa":1}`), 1},
		{"long strings asc", []store.Value{store.String(p + "b"), store.String(p + "a")},
			query.Scan{Index: query.AVE, A: a.ID, Limit: 1}, store.String(p + "a"), 1},
		{"long strings desc", []store.Value{store.String(p + "b"), store.String(p + "a")},
			query.Scan{Index: query.AVE, A: a.ID, Limit: 1, Desc: true}, store.String(p + "b"), 1},
		{"after inside a long group", []store.Value{store.String(p + "e"), store.String(p + "d"), store.String(p + "c"),
			store.String(p + "b"), store.String(p + "a"), store.String("zzz"), json(`[1]`)},
			query.Scan{Index: query.AVE, A: a.ID, Limit: 2, After: &store.TripleKey{E: id(2), A: a.ID, V: store.String(p + "d")}},
			store.String(p + "e"), 2},
	}
	db := mustOpenDB(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var ts []store.Triple
			for i, v := range tt.vals {
				ts = append(ts, store.Triple{E: id(byte(i + 1)), A: a.ID, V: v, CreatedAt: int64(i)})
			}
			snap, err := store.Load(attrs, ts)
			require.NoError(t, err)
			want, err := query.SnapshotSource(snap).Scan([]query.Scan{tt.scan})
			require.NoError(t, err)
			require.NotEmpty(t, want[0])
			require.Equal(t, tt.first, want[0][0].V, "the store's answer")

			_, err = db.Pool().Exec(t.Context(), "truncate attrs, triples")
			require.NoError(t, err)
			require.NoError(t, pg.Import(t.Context(), db.Pool(), attrs, ts))
			var got [][]store.Triple
			trips, err := db.ReadTrips(t.Context(), func(src query.Source) error {
				got, err = src.Scan([]query.Scan{tt.scan})
				return err
			})
			require.NoError(t, err)
			assert.Equal(t, want, got)
			assert.Equal(t, tt.trips, trips, "round trips")
		})
	}
}
