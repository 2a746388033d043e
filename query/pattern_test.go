package query_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/triplesync/triplesync/query"
	"github.com/triplesync/triplesync/store"
)

func TestPatterns(t *testing.T) {
	q, err := query.Parse([]byte(`{"users": {"$": {"where": {"name": {"$in": ["a", "b"]}, "todos.done": true}},
		"todos": {"$": {"where": {"or": [{"rank": {"$gt": 3}}, {"tags": {"$isNull": true}}]}, "order": {"rank": "asc"}, "fields": ["title"]}}}}`), testAttrs)
	require.NoError(t, err)
	var got []string
	for _, p := range q.Patterns() {
		got = append(got, p.Level.Path+" "+p.Role.String()+" "+render(p))
	}
	assert.Equal(t, []string{
		"users namespace [?users users.id ?users]",
		"users where [?users users.name {\"a\" \"b\"}]",
		"users where [?users.$w1.0 todos.owner ?users]",
		"users where [?users.$w1.0 todos.done {true}]",
		"users field [?users ?users.$a ?users.$v]",
		"users.todos link [?users.todos todos.owner ?users]",
		"users.todos namespace [?users.todos todos.id ?users.todos]",
		"users.todos where [?users.todos todos.rank ?users.todos.$w0($gt [3])]",
		"users.todos where [?users.todos todos.tags ?users.todos.$w1($isNull true)]",
		"users.todos order [?users.todos todos.rank ?users.todos.$order]",
		"users.todos field [?users.todos todos.title ?users.todos.title]",
	}, got)
}

func TestPatternsLinks(t *testing.T) {
	q, err := query.Parse([]byte(`{"todos": {"$": {"where": {"owner": {"$ne": "`+uid(1).String()+`"}}}, "owner": {"reports": {"$": {"aggregate": "count"}}}},
		"users": {"$": {"where": {"reports": "`+uid(3).String()+`"}}}}`), testAttrs)
	require.NoError(t, err)
	var got []string
	for _, p := range q.Patterns() {
		got = append(got, p.Role.String()+" "+render(p))
	}
	assert.Equal(t, []string{
		"namespace [?todos todos.id ?todos]",
		"where [?todos todos.owner ?todos.$w0($not [\"" + uid(1).String() + "\"])]",
		"field [?todos ?todos.$a ?todos.$v]",
		"link [?todos todos.owner ?todos.owner]",
		"namespace [?todos.owner users.id ?todos.owner]",
		"field [?todos.owner ?todos.owner.$a ?todos.owner.$v]",
		"link [?todos.owner.reports users.manager ?todos.owner]",
		"namespace [?todos.owner.reports users.id ?todos.owner.reports]",
		"namespace [?users users.id ?users]",
		"where [{" + uid(3).String() + "} users.manager ?users]",
		"field [?users ?users.$a ?users.$v]",
	}, got)
}

// render prints a pattern with attribute names instead of ids.
func render(p query.Pattern) string {
	term := func(t query.Term) string {
		if t.Kind == query.TermConst && len(t.IDs) == 1 {
			if a, ok := testAttrs.ByID(t.IDs[0]); ok {
				return a.Namespace + "." + a.Label
			}
		}
		return t.String()
	}
	return "[" + term(p.E) + " " + term(p.A) + " " + term(p.V) + "]"
}

func TestPredAffects(t *testing.T) {
	in := query.Pred{Op: query.OpIn, Values: []store.Value{store.Number(1)}}
	inNull := query.Pred{Op: query.OpIn, Values: []store.Value{store.Number(1)}, Null: true}
	gt, _ := mustLeafPred(t, `{"rank": {"$gt": 3}}`)
	tests := []struct {
		name string
		p    query.Pred
		v    store.Value
		want bool
	}{
		{"in: named value", in, store.Number(1), true},
		{"in: other value", in, store.Number(2), false},
		{"in with null: any value", inNull, store.Number(2), true},
		{"not in: named value", query.Pred{Op: query.OpNotIn, Values: in.Values}, store.Number(1), true},
		{"not in: other value", query.Pred{Op: query.OpNotIn, Values: in.Values}, store.Number(2), false},
		{"isNull: any value", query.Pred{Op: query.OpIsNull, Null: true}, store.String("x"), true},
		{"gt: matching", gt, store.Number(4), true},
		{"gt: not matching", gt, store.Number(3), false},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, tt.p.Affects(tt.v), "%s: Affects(%v)", tt.name, tt.v)
	}
}

// mustLeafPred parses a todos where clause with one leaf.
func mustLeafPred(t *testing.T, w string) (query.Pred, *query.Level) {
	t.Helper()
	q, err := query.Parse([]byte(where("todos", w)), testAttrs)
	require.NoError(t, err)
	l := q.Levels()[0]
	require.Equal(t, query.CondLeaf, l.Where.Kind)
	return l.Where.Leaf.Pred, l
}
