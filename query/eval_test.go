package query_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/triplesync/triplesync/query"
	"github.com/triplesync/triplesync/query/querytest"
	"github.com/triplesync/triplesync/store"
)

// q builds a one-namespace query with options.
func q(ns, opts string) string { return fmt.Sprintf(`{%q: {"$": %s}}`, ns, opts) }

// where builds a query of ns with a where clause.
func where(ns, w string) string { return q(ns, `{"where": `+w+`}`) }

func TestEvalWhere(t *testing.T) {
	snap := mustSnapshot(t)
	u, td := uid, tid
	tests := []struct {
		name string
		q    string
		want []string
	}{
		{"equality", where("todos", `{"title": "Cook"}`), []string{"t2"}},
		{"equality bool", where("todos", `{"done": true}`), []string{"t1", "t4", "t5", "t7", "t9"}},
		{"equality no match", where("todos", `{"title": "nope"}`), []string{}},
		{"$in", where("todos", `{"title": {"$in": ["Cook", "call Mom", "nope"]}}`), []string{"t2", "t3"}},
		{"$in empty", where("todos", `{"title": {"$in": []}}`), []string{}},
		{"$in with null matches null and missing", where("todos", `{"rank": {"$in": [null, 1]}}`), []string{"t2", "t3"}},
		{"$not", where("todos", `{"done": {"$not": true}}`), []string{"t0", "t2", "t3", "t6", "t8"}},
		{"$ne includes missing", where("todos", fmt.Sprintf(`{"owner": {"$ne": %q}}`, u(0))), []string{"t1", "t3", "t4", "t5", "t6", "t7", "t8", "t9"}},
		{"$isNull true on a link", where("todos", `{"owner": {"$isNull": true}}`), []string{"t4"}},
		{"$isNull true on an explicit null", where("todos", `{"rank": {"$isNull": true}}`), []string{"t2"}},
		{"$isNull false", where("todos", `{"due": {"$isNull": false}}`), []string{"t0", "t2", "t4"}},
		{"equality with null is $isNull", where("todos", `{"due": null}`), []string{"t1", "t3", "t5", "t6", "t7", "t8", "t9"}},
		{"$ne null is $isNull false", where("todos", `{"due": {"$ne": null}}`), []string{"t0", "t2", "t4"}},
		{"$gt", where("todos", `{"rank": {"$gt": 8}}`), []string{"t5", "t6", "t7", "t8", "t9"}},
		{"$gte", where("todos", `{"rank": {"$gte": 8}}`), []string{"t4", "t5", "t6", "t7", "t8", "t9"}},
		{"$lt", where("todos", `{"rank": {"$lt": 3}}`), []string{"t3"}},
		{"$lte", where("todos", `{"rank": {"$lte": 3}}`), []string{"t1", "t3"}},
		{"$gt and $lt", where("todos", `{"rank": {"$gt": 3, "$lt": 16}}`), []string{"t0", "t4", "t5"}},
		{"$gt on strings", where("users", `{"name": {"$gt": "bob"}}`), []string{"u3"}},
		{"date compared with a date string", where("todos", `{"due": {"$gte": "1970-01-01T00:00:01.5Z"}}`), []string{"t2"}},
		{"$like", where("todos", `{"title": {"$like": "C%"}}`), []string{"t1", "t2"}},
		{"$like one character", where("todos", `{"title": {"$like": "Coo_"}}`), []string{"t2"}},
		{"$like escaped percent", where("todos", `{"title": {"$like": "%50\\%"}}`), []string{"t4"}},
		{"$like whole string", where("todos", `{"title": {"$like": "Coo"}}`), []string{}},
		{"$ilike", where("todos", `{"title": {"$ilike": "c%"}}`), []string{"t1", "t2", "t3"}},
		{"$ilike exact", where("users", `{"name": {"$ilike": "BOB"}}`), []string{"u1", "u2"}},
		{"cardinality many equality", where("todos", `{"tags": "home"}`), []string{"t0", "t2", "t4"}},
		{"cardinality many like", where("todos", `{"tags": {"$like": "w%"}}`), []string{"t1", "t4"}},
		{"cardinality many $not", where("todos", `{"tags": {"$not": "home"}}`), []string{"t1", "t3", "t5", "t6", "t7", "t8", "t9"}},
		{"json equality object", where("todos", `{"meta": {"p": 1}}`), []string{"t0"}},
		{"json equality array", where("todos", `{"meta": [1, 2]}`), []string{"t1"}},
		{"several keys are and", where("todos", `{"done": false, "tags": "home"}`), []string{"t0", "t2"}},
		{"or", where("todos", `{"or": [{"done": true}, {"rank": 1}]}`), []string{"t1", "t3", "t4", "t5", "t7", "t9"}},
		{"and of or", where("todos", `{"and": [{"done": false}, {"or": [{"rank": {"$lt": 2}}, {"title": "Cook"}]}]}`), []string{"t2", "t3"}},
		{"empty or matches nothing", where("todos", `{"or": []}`), []string{}},
		{"empty and matches all", where("todos", `{"and": []}`), []string{"t0", "t1", "t2", "t3", "t4", "t5", "t6", "t7", "t8", "t9"}},
		{"dotted path", where("todos", `{"owner.name": "alice"}`), []string{"t0", "t2"}},
		{"dotted path two hops", where("todos", `{"owner.manager.name": "alice"}`), []string{"t1", "t3"}},
		{"dotted path to id", where("todos", fmt.Sprintf(`{"owner.id": %q}`, u(2))), []string{"t3"}},
		{"dotted path $isNull", where("todos", `{"owner.age": {"$isNull": true}}`), []string{"t3", "t4"}},
		{"reverse path", where("users", `{"todos.title": "Cook"}`), []string{"u0"}},
		{"reverse then forward", where("projects", `{"todos.owner.name": "bob"}`), []string{"p0"}},
		{"reverse link $isNull", where("users", `{"reports": {"$isNull": true}}`), []string{"u2", "u3"}},
		{"reverse link equality", where("users", fmt.Sprintf(`{"reports": %q}`, u(3))), []string{"u1"}},
		{"link equality", where("todos", fmt.Sprintf(`{"owner": %q}`, u(1))), []string{"t1"}},
		{"link $in", where("todos", fmt.Sprintf(`{"owner": {"$in": [%q, %q]}}`, u(1), u(2))), []string{"t1", "t3"}},
		{"link upper-case id", where("todos", fmt.Sprintf(`{"owner": %q}`, strings.ToUpper(u(1).String()))), []string{"t1"}},
		{"id", where("todos", fmt.Sprintf(`{"id": %q}`, td(3))), []string{"t3"}},
		{"id $in skips non-members", where("todos", fmt.Sprintf(`{"id": {"$in": [%q, %q, %q]}}`, td(3), td(10), td(1))), []string{"t1", "t3"}},
		{"entity without id triple is not listed", where("todos", `{"title": "Ghost"}`), []string{}},
		{"unique attribute", where("users", `{"email": "bob2@x.com"}`), []string{"u2"}},
		{"self link", where("users", fmt.Sprintf(`{"manager": %q}`, u(0))), []string{"u1", "u2"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := run(t, snap, tt.q)
			assert.Equal(t, tt.want, ids(res.Tops[0]), "%s", tt.q)
		})
	}
}

func TestEvalOrderAndPages(t *testing.T) {
	snap := mustSnapshot(t)
	cur := func(e store.EntityID, v any) string {
		if v == nil {
			return query.Cursor{Missing: true, E: e}.String()
		}
		val, err := store.FromAny(v)
		require.NoError(t, err)
		return query.Cursor{V: val, E: e}.String()
	}
	byRank := `"order": {"rank": "asc"}`
	tests := []struct {
		name       string
		opts       string
		want       []string
		next, prev bool
	}{
		{"default order is id", `{}`, []string{"t0", "t1", "t2", "t3", "t4", "t5", "t6", "t7", "t8", "t9"}, false, false},
		{"id desc", `{"order": {"id": "desc"}}`, []string{"t9", "t8", "t7", "t6", "t5", "t4", "t3", "t2", "t1", "t0"}, false, false},
		{"number asc, nulls last", `{` + byRank + `}`, []string{"t3", "t1", "t0", "t4", "t5", "t6", "t7", "t8", "t9", "t2"}, false, false},
		{"number desc, nulls still last", `{"order": {"rank": "desc"}}`, []string{"t9", "t8", "t7", "t6", "t5", "t4", "t0", "t1", "t3", "t2"}, false, false},
		{"strings bytewise", `{"order": {"title": "asc"}}`, []string{"t4", "t0", "t1", "t2", "t5", "t6", "t7", "t8", "t9", "t3"}, false, false},
		{"ties by id in the order's direction", `{"order": {"done": "desc"}}`, []string{"t9", "t7", "t5", "t4", "t1", "t8", "t6", "t3", "t2", "t0"}, false, false},
		{"missing values last by id", `{"order": {"due": "desc"}}`, []string{"t2", "t4", "t0", "t9", "t8", "t7", "t6", "t5", "t3", "t1"}, false, false},
		{"limit", `{` + byRank + `, "limit": 3}`, []string{"t3", "t1", "t0"}, true, false},
		{"limit and offset", `{` + byRank + `, "limit": 3, "offset": 2}`, []string{"t0", "t4", "t5"}, true, true},
		{"offset alone", `{` + byRank + `, "offset": 8}`, []string{"t9", "t2"}, false, true},
		{"offset past the end", `{` + byRank + `, "offset": 20}`, []string{}, false, true},
		{"limit 0", `{` + byRank + `, "limit": 0}`, []string{}, true, false},
		{"first after", `{` + byRank + `, "first": 2, "after": "` + cur(tid(0), 5) + `"}`, []string{"t4", "t5"}, true, true},
		{"after into the missing values", `{` + byRank + `, "first": 10, "after": "` + cur(tid(9), 19) + `"}`, []string{"t2"}, false, true},
		{"after a position no entity holds", `{` + byRank + `, "first": 1, "after": "` + cur(store.EntityID{}, 4) + `"}`, []string{"t0"}, true, true},
		{"after a missing value", `{` + byRank + `, "after": "` + cur(tid(0), nil) + `"}`, []string{"t2"}, false, true},
		{"last", `{` + byRank + `, "last": 2}`, []string{"t9", "t2"}, false, true},
		{"last before", `{` + byRank + `, "last": 2, "before": "` + cur(tid(4), 8) + `"}`, []string{"t1", "t0"}, true, true},
		{"after and before", `{` + byRank + `, "after": "` + cur(tid(1), 3) + `", "before": "` + cur(tid(5), 15) + `"}`, []string{"t0", "t4"}, true, true},
		{"first after with offset", `{` + byRank + `, "first": 1, "offset": 1, "after": "` + cur(tid(1), 3) + `"}`, []string{"t4"}, true, true},
		{"where, order desc, offset, limit", `{"where": {"done": false}, "order": {"rank": "desc"}, "offset": 1, "limit": 2}`, []string{"t6", "t0"}, true, true},
		{"order by id with a cursor", `{"first": 2, "after": "` + cur(tid(3), tid(3).String()) + `"}`, []string{"t4", "t5"}, true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			text := q("todos", tt.opts)
			res := run(t, snap, text)
			p := res.Tops[0]
			assert.Equal(t, tt.want, ids(p), "%s", text)
			assert.Equal(t, tt.next, p.Info.HasNextPage, "hasNextPage of %s", text)
			assert.Equal(t, tt.prev, p.Info.HasPreviousPage, "hasPreviousPage of %s", text)
			if len(p.Entities) > 0 {
				require.NotNil(t, p.Info.StartCursor)
				assert.Equal(t, p.Entities[0].ID, p.Info.StartCursor.E)
				assert.Equal(t, p.Entities[len(p.Entities)-1].ID, p.Info.EndCursor.E)
			} else {
				assert.Nil(t, p.Info.StartCursor)
			}
		})
	}
}

// TestEvalCursorsWalk pages through a level with each page's end cursor and
// back with start cursors, and gets every entity once, in order.
func TestEvalCursorsWalk(t *testing.T) {
	snap := mustSnapshot(t)
	for _, order := range []string{`{"rank": "asc"}`, `{"rank": "desc"}`, `{"title": "asc"}`, `{"id": "desc"}`, `{"due": "asc"}`} {
		full := ids(run(t, snap, q("todos", `{"order": `+order+`}`)).Tops[0])
		var fwd []string
		after := ""
		for {
			opts := `{"order": ` + order + `, "first": 3` + after + `}`
			p := run(t, snap, q("todos", opts)).Tops[0]
			fwd = append(fwd, ids(p)...)
			if !p.Info.HasNextPage {
				break
			}
			after = `, "after": "` + p.Info.EndCursor.String() + `"`
		}
		assert.Equal(t, full, fwd, "forward by %s", order)
		var back []string
		before := ""
		for {
			opts := `{"order": ` + order + `, "last": 4` + before + `}`
			p := run(t, snap, q("todos", opts)).Tops[0]
			back = append(ids(p), back...)
			if !p.Info.HasPreviousPage {
				break
			}
			before = `, "before": "` + p.Info.StartCursor.String() + `"`
		}
		assert.Equal(t, full, back, "backward by %s", order)
	}
}

func TestEvalNested(t *testing.T) {
	snap := mustSnapshot(t)
	text := `{"users": {"$": {"where": {"name": {"$in": ["alice", "carol"]}}},
	  "todos": {"$": {"order": {"rank": "desc"}, "limit": 2, "fields": ["title"]}, "project": {}},
	  "reports": {"$": {"fields": []}}}}`
	res := run(t, snap, text)
	want := `{"$pageInfo":{"users":{"endCursor":"%s","hasNextPage":false,"hasPreviousPage":false,"startCursor":"%s"}},` +
		`"users":[` +
		`{"$pageInfo":{"todos":{"endCursor":"%s","hasNextPage":false,"hasPreviousPage":false,"startCursor":"%s"}},` +
		`"age":30,"email":"alice@x.com","id":"%s","name":"alice",` +
		`"reports":[{"id":"%s"},{"id":"%s"}],` +
		`"todos":[{"id":"%s","project":[{"id":"%s","name":"project0"}],"title":"Buy milk"},{"id":"%s","project":[{"id":"%s","name":"project1"}],"title":"Cook"}]},` +
		`{"$pageInfo":{"todos":{"endCursor":"%s","hasNextPage":true,"hasPreviousPage":false,"startCursor":"%s"}},` +
		`"age":40,"id":"%s","name":"carol","reports":[],` +
		`"todos":[{"id":"%s","project":[],"title":"Task 9"},{"id":"%s","project":[],"title":"Task 8"}]}]}`
	c := func(e store.EntityID, v store.Value) string { return query.Cursor{V: v, E: e}.String() }
	m := func(e store.EntityID) string { return query.Cursor{Missing: true, E: e}.String() }
	want = fmt.Sprintf(want,
		c(uid(3), store.Ref(uid(3))), c(uid(0), store.Ref(uid(0))),
		m(tid(2)), c(tid(0), store.Number(5)),
		uid(0), uid(1), uid(2),
		tid(0), pid(0), tid(2), pid(1),
		c(tid(8), store.Number(18)), c(tid(9), store.Number(19)),
		uid(3), tid(9), tid(8))
	assert.JSONEq(t, want, string(res.AppendJSON(nil)))
	assert.Equal(t, want, string(res.AppendJSON(nil)), "keys are sorted, no space")
	b, err := json.Marshal(res)
	require.NoError(t, err)
	assert.Equal(t, want, string(b))
}

func TestEvalAggregate(t *testing.T) {
	snap := mustSnapshot(t)
	res := run(t, snap, `{"todos": {"$": {"aggregate": "count", "where": {"done": true}}}, "users": {"$": {"aggregate": "count"}}}`)
	assert.Equal(t, `{"$aggregate":{"todos":{"count":5},"users":{"count":4}}}`, string(res.AppendJSON(nil)))

	res = run(t, snap, `{"users": {"$": {"fields": ["name"]}, "todos": {"$": {"aggregate": "count"}}}}`)
	counts := map[string]float64{}
	for _, u := range res.Tree()["users"].([]any) {
		o := u.(map[string]any)
		counts[o["name"].(string)] = o["$aggregate"].(map[string]any)["todos"].(map[string]any)["count"].(float64)
	}
	assert.Equal(t, map[string]float64{"alice": 2, "bob": 1, "Bob": 1, "carol": 5}, counts)
}

func TestEvalFields(t *testing.T) {
	snap := mustSnapshot(t)
	res := run(t, snap, where("todos", fmt.Sprintf(`{"id": %q}`, tid(1)))+``)
	assert.Equal(t, map[string]any{"id": tid(1).String(), "title": "Call bob", "done": true, "rank": 3.0,
		"tags": []any{"phone", "work"}, "meta": []any{1.0, 2.0}}, res.Tree()["todos"].([]any)[0])

	res = run(t, snap, q("todos", fmt.Sprintf(`{"where": {"id": %q}, "fields": ["tags", "id", "title"]}`, tid(0))))
	assert.Equal(t, map[string]any{"id": tid(0).String(), "title": "Buy milk", "tags": []any{"home"}}, res.Tree()["todos"].([]any)[0])
	for _, tr := range res.Triples {
		assert.NotEqual(t, attr("todos", "rank").ID, tr.A, "a field not asked for is not justified")
	}
}

func TestEvalSeveralNamespaces(t *testing.T) {
	snap := mustSnapshot(t)
	res := run(t, snap, `{"users": {"$": {"where": {"name": "bob"}}}, "projects": {}}`)
	require.Len(t, res.Tops, 2)
	assert.Equal(t, "projects", res.Tops[0].Level.Label)
	assert.Equal(t, []string{"p0", "p1"}, ids(res.Tops[0]))
	assert.Equal(t, []string{"u1"}, ids(res.Tops[1]))
}

// TestEvalJustification checks a result's triples on a known case: the
// page, the entity just past it (hasNextPage), the where and order values,
// and the link reads of dotted paths.
func TestEvalJustification(t *testing.T) {
	snap := mustSnapshot(t)
	res := run(t, snap, q("todos", `{"where": {"owner.name": {"$like": "%o%"}}, "order": {"rank": "asc"}, "limit": 1, "fields": ["title"]}`))
	// owner name contains "o": bob (u1: t1), Bob (u2: t3), carol (u3: t5..t9); by rank: t3, t1, t5...
	assert.Equal(t, []string{"t3"}, ids(res.Tops[0]))
	has := map[string]bool{}
	for _, tr := range res.Triples {
		a, _ := testAttrs.ByID(tr.A)
		has[name(tr.E)+"."+a.Label] = true
	}
	for _, k := range []string{"t3.id", "t3.rank", "t3.owner", "t3.title", "u2.name", "t1.id", "t1.rank", "t1.owner", "u1.name"} {
		assert.True(t, has[k], "%s justified", k)
	}
	assert.False(t, has["t1.title"], "the entity past the page needs no fields")
	assert.False(t, has["t5.id"], "entities beyond the next one are not needed")
}

// TestEvalStages checks that the evaluator batches: a two-level query takes
// a fixed number of stages, whatever the number of entities.
func TestEvalStages(t *testing.T) {
	snap := mustSnapshot(t)
	res := run(t, snap, `{"users": {"todos": {"project": {}}}}`)
	t.Logf("nested: %d stages, %d scans", res.Stages, res.Scans)
	assert.LessOrEqual(t, res.Stages, 9, "stages")
	res = run(t, snap, q("todos", `{"where": {"done": false}, "order": {"rank": "desc"}, "limit": 2}`))
	t.Logf("ordered: %d stages, %d scans", res.Stages, res.Scans)
	assert.LessOrEqual(t, res.Stages, 5, "stages")
}

func TestEvalSourceError(t *testing.T) {
	q, err := query.Parse([]byte(`{"todos": {}}`), testAttrs)
	require.NoError(t, err)
	boom := fmt.Errorf("boom")
	_, err = query.Eval(failingSource{boom}, q)
	assert.ErrorIs(t, err, boom)
}

type failingSource struct{ err error }

func (f failingSource) Scan([]query.Scan) ([][]store.Triple, error) { return nil, f.err }

func TestResultEntities(t *testing.T) {
	snap := mustSnapshot(t)
	res := run(t, snap, `{"users": {"$": {"where": {"name": {"$in": ["alice", "bob"]}}}, "todos": {"project": {}}}}`)
	q := res.Tops[0].Level
	todos, projects := q.Children[0], q.Children[0].Children[0]
	var names []string
	for _, e := range res.Entities(todos) {
		names = append(names, name(e))
	}
	assert.Equal(t, []string{"t0", "t1", "t2"}, names)
	names = nil
	for _, e := range res.Entities(projects) {
		names = append(names, name(e))
	}
	assert.Equal(t, []string{"p0", "p1"}, names)
}

// readCounter is a Source that counts the triples its scans return.
type readCounter struct {
	src  query.Source
	read int
}

func (rc *readCounter) Scan(scans []query.Scan) ([][]store.Triple, error) {
	out, err := rc.src.Scan(scans)
	for _, ts := range out {
		rc.read += len(ts)
	}
	return out, err
}

// TestEvalOrderByIDWithoutIndex checks pages ordered by id over an id
// attribute without AVE, both ways and from cursors: the ordered plan
// reads the AEV index from the cursor, so a page costs about the page, not
// the namespace, and the answer is the naive evaluator's.
func TestEvalOrderByIDWithoutIndex(t *testing.T) {
	attrs := store.MustNewAttrs(
		store.Attr{ID: aid(1), Namespace: "things", Label: "id"},
		store.Attr{ID: aid(2), Namespace: "things", Label: "n", Type: store.TypeNumber},
	)
	var ts []store.Triple
	var ids []store.EntityID
	for i := range 1000 {
		e := store.EntityID{byte(i >> 8), byte(i), 0, 0, 0, 0, 0x40, 0, 0x80}
		ids = append(ids, e)
		ts = append(ts, store.Triple{E: e, A: aid(1), V: store.Ref(e)}, store.Triple{E: e, A: aid(2), V: store.Number(float64(i % 7))})
	}
	snap, err := store.Load(attrs, ts)
	require.NoError(t, err)
	all := snap.Triples()
	cur := func(i int) string { return query.Cursor{V: store.Ref(ids[i]), E: ids[i]}.String() }
	for _, text := range []string{
		`{"things": {"$": {"order": {"id": "desc"}, "limit": 5}}}`,
		`{"things": {"$": {"order": {"id": "asc"}, "limit": 5}}}`,
		`{"things": {"$": {"order": {"id": "desc"}, "first": 5, "after": "` + cur(500) + `"}}}`,
		`{"things": {"$": {"order": {"id": "asc"}, "first": 5, "after": "` + cur(500) + `"}}}`,
		`{"things": {"$": {"where": {"n": 3}, "order": {"id": "desc"}, "limit": 5, "offset": 2}}}`,
		`{"things": {"$": {"order": {"id": "desc"}, "first": 5, "after": "` + cur(3) + `"}}}`,
	} {
		q, err := query.Parse([]byte(text), attrs)
		require.NoError(t, err, text)
		rc := &readCounter{src: query.SnapshotSource(snap)}
		res, err := query.Eval(rc, q)
		require.NoError(t, err, text)
		assert.Equal(t, querytest.Naive(q, all), res.Tree(), text)
		assert.Less(t, rc.read, 600, "%s: triples read (the namespace has 2000)", text)
	}
}
