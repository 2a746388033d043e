package query_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/triplesync/triplesync/query"
	"github.com/triplesync/triplesync/query/querytest"
	"github.com/triplesync/triplesync/store"
)

// FuzzParse feeds the parser real queries and mutations of them (T7): it
// never panics; a query that parses re-parses from its canonical text to
// the same text, and evaluates without error.
func FuzzParse(f *testing.F) {
	seeds := []string{
		`{"todos": {}}`,
		`{"todos": {"$": {"where": {"title": "x", "rank": {"$gt": 1, "$lte": 9}}, "order": {"rank": "desc"}, "limit": 10, "offset": 2}}}`,
		`{"users": {"$": {"where": {"or": [{"name": {"$ilike": "b%"}}, {"todos.tags": {"$in": ["a", null]}}]}}, "todos": {"$": {"first": 2, "fields": ["title"]}, "project": {}}}}`,
		`{"todos": {"$": {"where": {"owner.manager.name": {"$not": "x"}, "due": {"$isNull": false}}, "last": 3, "before": "WyIwMjAwMDAwMC0wMDAwLTAwMDAtMDAwMC0wMDAwMDAwMDAwMDAiLDVd"}}}`,
		`{"users": {"$": {"aggregate": "count", "where": {"reports": {"$isNull": true}}}}, "projects": {"todos": {"owner": {}}}}`,
		`{"todos": {"$": {"where": {"and": [{"meta": {"p": 1}}, {"title": {"$like": "a\\%_"}}]}}}}`,
	}
	g := querytest.NewGen(1)
	for range 10 {
		d := g.Data(testAttrs, 5)
		seeds = append(seeds, string(g.Query(d, 2)))
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	snap, err := store.Load(testAttrs, testTriples())
	require.NoError(f, err)
	src := query.SnapshotSource(snap)
	f.Fuzz(func(t *testing.T, data []byte) {
		q, err := query.Parse(data, testAttrs)
		if err != nil {
			return
		}
		again, err := query.Parse([]byte(q.Text()), testAttrs)
		if err != nil {
			t.Fatalf("canonical text %s of %q does not parse: %v", q.Text(), data, err)
		}
		if again.Text() != q.Text() {
			t.Fatalf("canonical text is not a fixed point: %s then %s", q.Text(), again.Text())
		}
		if len(q.Levels()) > 20 {
			return // keep each input cheap
		}
		if _, err := query.Eval(src, q); err != nil {
			t.Fatalf("Eval(%s): %v", q.Text(), err)
		}
		_ = q.Patterns()
	})
}

// FuzzCursor checks that any string decodes without panicking, and that a
// decoded cursor encodes to a string that decodes to it again.
func FuzzCursor(f *testing.F) {
	for _, c := range []query.Cursor{
		{V: store.Number(5), E: tid(0)},
		{V: store.String("x"), E: uid(1)},
		{Missing: true, E: pid(1)},
		{V: store.Ref(tid(3)), E: tid(3)},
	} {
		f.Add(c.String())
	}
	f.Add("")
	f.Add("W10")
	f.Fuzz(func(t *testing.T, s string) {
		c, err := query.ParseCursor(s)
		if err != nil {
			return
		}
		back, err := query.ParseCursor(c.String())
		if err != nil {
			t.Fatalf("ParseCursor(%q) = %+v, whose String %q does not parse: %v", s, c, c.String(), err)
		}
		if back != c {
			t.Fatalf("round trip of %q: %+v then %+v", s, c, back)
		}
	})
}
