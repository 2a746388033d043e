package query_test

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/triplesync/triplesync/query"
)

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name string
		q    string
		err  error
		path string
	}{
		{"not JSON", `{"todos":`, query.ErrMalformed, ""},
		{"trailing data", `{"todos": {}} x`, query.ErrMalformed, ""},
		{"not an object", `["todos"]`, query.ErrMalformed, ""},
		{"level not an object", `{"todos": 1}`, query.ErrMalformed, "todos"},
		{"unknown namespace", `{"nope": {}}`, query.ErrUnknownNamespace, "nope"},
		{"unknown link", `{"todos": {"nope": {}}}`, query.ErrUnknownAttr, "todos.nope"},
		{"attribute is not a link", `{"todos": {"title": {}}}`, query.ErrUnknownAttr, "todos.title"},
		{"options not an object", `{"todos": {"$": []}}`, query.ErrMalformed, "todos.$"},
		{"unknown option", `{"todos": {"$": {"wher": {}}}}`, query.ErrBadOperator, "todos.$.wher"},
		{"where not an object", `{"todos": {"$": {"where": 1}}}`, query.ErrMalformed, "todos.$.where"},
		{"unknown attribute in where", `{"todos": {"$": {"where": {"titel": "x"}}}}`, query.ErrUnknownAttr, "todos.$.where.titel"},
		{"unknown operator", `{"todos": {"$": {"where": {"title": {"$regex": "x"}}}}}`, query.ErrBadOperator, "todos.$.where.title.$regex"},
		{"operators mixed with keys", `{"todos": {"$": {"where": {"meta": {"$ne": 1, "a": 2}}}}}`, query.ErrBadOperator, "todos.$.where.meta.a"},
		{"wrong type", `{"todos": {"$": {"where": {"title": 1}}}}`, query.ErrWrongType, "todos.$.where.title"},
		{"wrong type for $gt", `{"todos": {"$": {"where": {"rank": {"$gt": "x"}}}}}`, query.ErrWrongType, "todos.$.where.rank.$gt"},
		{"null for $gt", `{"todos": {"$": {"where": {"rank": {"$gt": null}}}}}`, query.ErrWrongType, "todos.$.where.rank.$gt"},
		{"wrong type in $in", `{"todos": {"$": {"where": {"done": {"$in": [true, "x"]}}}}}`, query.ErrWrongType, "todos.$.where.done.$in.1"},
		{"$in not an array", `{"todos": {"$": {"where": {"done": {"$in": true}}}}}`, query.ErrWrongType, "todos.$.where.done.$in"},
		{"$isNull not a bool", `{"todos": {"$": {"where": {"done": {"$isNull": 1}}}}}`, query.ErrWrongType, "todos.$.where.done.$isNull"},
		{"$like on a number", `{"todos": {"$": {"where": {"rank": {"$like": "1%"}}}}}`, query.ErrWrongType, "todos.$.where.rank.$like"},
		{"$like of a number", `{"todos": {"$": {"where": {"title": {"$like": 1}}}}}`, query.ErrWrongType, "todos.$.where.title.$like"},
		{"$like ending in escape", `{"todos": {"$": {"where": {"title": {"$like": "a\\"}}}}}`, query.ErrBadOperator, "todos.$.where.title.$like"},
		{"comparison on a link", `{"todos": {"$": {"where": {"owner": {"$gt": "x"}}}}}`, query.ErrBadOperator, "todos.$.where.owner.$gt"},
		{"like on id", `{"todos": {"$": {"where": {"id": {"$like": "x"}}}}}`, query.ErrBadOperator, "todos.$.where.id.$like"},
		{"link value not a uuid", `{"todos": {"$": {"where": {"owner": "alice"}}}}`, query.ErrWrongType, "todos.$.where.owner"},
		{"id not a uuid", `{"todos": {"$": {"where": {"id": 1}}}}`, query.ErrWrongType, "todos.$.where.id"},
		{"bad date", `{"todos": {"$": {"where": {"due": "yesterday"}}}}`, query.ErrWrongType, "todos.$.where.due"},
		{"path through an attribute", `{"todos": {"$": {"where": {"title.x": "a"}}}}`, query.ErrUnknownAttr, "todos.$.where.title.x"},
		{"path to nowhere", `{"todos": {"$": {"where": {"owner.nope": "a"}}}}`, query.ErrUnknownAttr, "todos.$.where.owner.nope"},
		{"empty path step", `{"todos": {"$": {"where": {"owner.": "a"}}}}`, query.ErrUnknownAttr, "todos.$.where.owner."},
		{"or not an array", `{"todos": {"$": {"where": {"or": {}}}}}`, query.ErrMalformed, "todos.$.where.or"},
		{"or element not an object", `{"todos": {"$": {"where": {"or": [{}, 1]}}}}`, query.ErrMalformed, "todos.$.where.or.1"},
		{"nested error in and", `{"todos": {"$": {"where": {"and": [{"or": [{"nope": 1}]}]}}}}`, query.ErrUnknownAttr, "todos.$.where.and.0.or.0.nope"},
		{"negative limit", `{"todos": {"$": {"limit": -1}}}`, query.ErrBadOption, "todos.$.limit"},
		{"fractional limit", `{"todos": {"$": {"limit": 1.5}}}`, query.ErrBadOption, "todos.$.limit"},
		{"string limit", `{"todos": {"$": {"limit": "10"}}}`, query.ErrBadOption, "todos.$.limit"},
		{"huge offset", `{"todos": {"$": {"offset": 1e300}}}`, query.ErrBadOption, "todos.$.offset"},
		{"limit and first", `{"todos": {"$": {"limit": 1, "first": 1}}}`, query.ErrBadOption, "todos.$.first"},
		{"first and last", `{"todos": {"$": {"first": 1, "last": 1}}}`, query.ErrBadOption, "todos.$"},
		{"offset with last", `{"todos": {"$": {"offset": 1, "last": 1}}}`, query.ErrBadOption, "todos.$"},
		{"bad cursor", `{"todos": {"$": {"after": "nope!"}}}`, query.ErrBadCursor, "todos.$.after"},
		{"cursor not a string", `{"todos": {"$": {"before": 1}}}`, query.ErrBadCursor, "todos.$.before"},
		{"order not an object", `{"todos": {"$": {"order": "title"}}}`, query.ErrBadOption, "todos.$.order"},
		{"order two keys", `{"todos": {"$": {"order": {"title": "asc", "rank": "asc"}}}}`, query.ErrBadOption, "todos.$.order"},
		{"order direction", `{"todos": {"$": {"order": {"title": "up"}}}}`, query.ErrBadOption, "todos.$.order.title"},
		{"order unknown attribute", `{"todos": {"$": {"order": {"nope": "asc"}}}}`, query.ErrUnknownAttr, "todos.$.order.nope"},
		{"order by many values", `{"todos": {"$": {"order": {"tags": "asc"}}}}`, query.ErrBadOption, "todos.$.order.tags"},
		{"fields not an array", `{"todos": {"$": {"fields": "title"}}}`, query.ErrBadOption, "todos.$.fields"},
		{"fields unknown", `{"todos": {"$": {"fields": ["nope"]}}}`, query.ErrUnknownAttr, "todos.$.fields.0"},
		{"fields with a link", `{"todos": {"$": {"fields": ["title", "owner"]}}}`, query.ErrBadOption, "todos.$.fields.1"},
		{"unknown aggregate", `{"todos": {"$": {"aggregate": "sum"}}}`, query.ErrBadOption, "todos.$.aggregate"},
		{"aggregate with limit", `{"todos": {"$": {"aggregate": "count", "limit": 1}}}`, query.ErrBadOption, "todos.$"},
		{"aggregate with links", `{"todos": {"$": {"aggregate": "count"}, "owner": {}}}`, query.ErrBadOption, "todos.owner"},
		{"deep error", `{"users": {"todos": {"project": {"$": {"where": {"name": 1}}}}}}`, query.ErrWrongType, "users.todos.project.$.where.name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := query.Parse([]byte(tt.q), testAttrs)
			require.Error(t, err, "Parse(%s)", tt.q)
			assert.ErrorIs(t, err, tt.err, "Parse(%s)", tt.q)
			var qe *query.Error
			require.True(t, errors.As(err, &qe), "Parse(%s) = %T, want *query.Error", tt.q, err)
			assert.Equal(t, tt.path, qe.Path, "Parse(%s)", tt.q)
			assert.Contains(t, err.Error(), "query: ")
		})
	}
}

func TestParseCanonical(t *testing.T) {
	a, err := query.Parse([]byte(` { "todos" : {"$": {"limit": 10.0, "where": {"b": 1e0, "a": "x\u0041"}}, "owner": {}} } `), testAttrsLoose)
	require.NoError(t, err)
	b, err := query.Parse([]byte(`{"todos":{"owner":{},"$":{"where":{"a":"xA","b":1},"limit":10}}}`), testAttrsLoose)
	require.NoError(t, err)
	assert.Equal(t, a.Text(), b.Text())
	assert.Equal(t, `{"todos":{"$":{"limit":10,"where":{"a":"xA","b":1}},"owner":{}}}`, a.Text())
	c, err := query.Parse([]byte(a.Text()), testAttrsLoose)
	require.NoError(t, err)
	assert.Equal(t, a.Text(), c.Text(), "the canonical text is a fixed point")
}

func TestParseStructure(t *testing.T) {
	q, err := query.Parse([]byte(`{"users": {"$": {"where": {"or": [{"name": "a"}, {"todos.title": {"$like": "x%", "$ne": "xy"}}]}},
		"todos": {"$": {"order": {"rank": "desc"}, "last": 3}, "project": {}}}, "projects": {}}`), testAttrs)
	require.NoError(t, err)
	var paths []string
	for _, l := range q.Levels() {
		paths = append(paths, l.Path)
	}
	assert.Equal(t, []string{"projects", "users", "users.todos", "users.todos.project"}, paths)
	users, todos := q.Levels()[1], q.Levels()[2]
	assert.Equal(t, "?users.todos", todos.Var())
	assert.Same(t, users, todos.Parent)
	assert.Equal(t, attr("todos", "owner"), todos.Link)
	assert.True(t, todos.Reverse)
	assert.Equal(t, attr("todos", "rank"), todos.Order.Attr)
	assert.True(t, todos.Order.Desc)
	assert.True(t, todos.Page.HasLast)
	assert.Equal(t, 3, todos.Page.Last)
	assert.True(t, todos.Paginated())
	assert.False(t, q.Levels()[3].Paginated(), "a nested level without options")
	assert.True(t, q.Levels()[0].Paginated(), "top levels always report page info")

	w := users.Where
	require.Equal(t, query.CondOr, w.Kind)
	require.Len(t, w.Subs, 2)
	assert.Equal(t, query.CondLeaf, w.Subs[0].Kind)
	and := w.Subs[1]
	require.Equal(t, query.CondAnd, and.Kind, "several operators on one key are an and")
	require.Len(t, and.Subs, 2)
	lf := and.Subs[0].Leaf
	assert.Equal(t, "todos.title", lf.Key)
	assert.Equal(t, []query.Hop{{Attr: attr("todos", "owner"), Reverse: true}}, lf.Hops)
	assert.Equal(t, attr("todos", "title"), lf.Attr)
	assert.Equal(t, query.OpLike, lf.Pred.Op)
	assert.Equal(t, query.OpNotIn, and.Subs[1].Leaf.Pred.Op)
}

// testAttrsLoose is a schema whose todos.a and todos.b take any value.
var testAttrsLoose = func() *queryAttrs {
	return mustAttrs(
		attrSpec{"todos", "id"}, attrSpec{"todos", "a"}, attrSpec{"todos", "b"},
		attrSpec{"users", "id"},
	)
}()
