package query_test

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/triplesync/triplesync/query"
	"github.com/triplesync/triplesync/store"
)

func TestLevelMatch(t *testing.T) {
	// One todo's own values.
	vals := map[store.AttrID][]store.Value{
		attr("todos", "title").ID: {store.String("Buy milk")},
		attr("todos", "done").ID:  {store.Bool(false)},
		attr("todos", "rank").ID:  {store.Number(5)},
		attr("todos", "tags").ID:  {store.String("home"), store.String("work")},
		attr("todos", "owner").ID: {store.Ref(uid(0))},
	}
	get := func(a store.AttrID) []store.Value { return vals[a] }
	tests := []struct {
		name               string
		where              string
		matched, decidable bool
	}{
		{"no where", ``, true, true},
		{"equal", `{"title": "Buy milk"}`, true, true},
		{"not equal", `{"title": "Cook"}`, false, true},
		{"many values", `{"tags": "work"}`, true, true},
		{"missing value is null", `{"due": null}`, true, true},
		{"missing value for $ne", `{"due": {"$ne": 5}}`, true, true},
		{"range", `{"rank": {"$gte": 5, "$lt": 6}}`, true, true},
		{"like", `{"title": {"$ilike": "buy%"}}`, true, true},
		{"forward link is local", `{"owner": "` + uid(0).String() + `"}`, true, true},
		{"path is not decidable", `{"owner.name": "alice"}`, false, false},
		{"reverse link is not decidable", `{"owner.todos": {"$isNull": true}}`, false, false},
		{"and with a false local part", `{"done": true, "owner.name": "alice"}`, false, true},
		{"and with a true local part", `{"done": false, "owner.name": "alice"}`, false, false},
		{"or with a true local part", `{"or": [{"done": false}, {"owner.name": "alice"}]}`, true, true},
		{"or with a false local part", `{"or": [{"done": true}, {"owner.name": "alice"}]}`, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			text := `{"todos": {}}`
			if tt.where != "" {
				text = where("todos", tt.where)
			}
			q, err := query.Parse([]byte(text), testAttrs)
			require.NoError(t, err)
			matched, decidable := q.Levels()[0].Match(get)
			assert.Equal(t, tt.matched, matched, "Match(%s) matched", tt.where)
			assert.Equal(t, tt.decidable, decidable, "Match(%s) decidable", tt.where)
		})
	}
}

func TestLike(t *testing.T) {
	tests := []struct {
		pattern string
		fold    bool
		s       string
		want    bool
	}{
		{"abc", false, "abc", true},
		{"abc", false, "abcd", false},
		{"abc", false, "ABC", false},
		{"abc", true, "ABC", true},
		{"a%", false, "a", true},
		{"a%", false, "ab", true},
		{"a%", false, "ba", false},
		{"%a", false, "ba", true},
		{"%", false, "", true},
		{"", false, "", true},
		{"", false, "a", false},
		{"_", false, "é", true},
		{"_", false, "ab", false},
		{"a_c", false, "abc", true},
		{"a%c%e", false, "abcde", true},
		{"a%c%e", false, "abcdf", false},
		{"%%x", false, "yyx", true},
		{`a\%`, false, "a%", true},
		{`a\%`, false, "ab", false},
		{`a\_`, false, "a_", true},
		{`a\\`, false, `a\`, true},
		{"é%", true, "ÉCOLE", true},
		{"straße", true, "STRASSE", false}, // simple folding maps one rune to one rune
		{"k", true, "\u212a", true},        // Kelvin sign folds to k
		{"%b%b%b", false, "abababab", true},
		{"%b%b%b%c", false, "abababab", false},
	}
	for _, tt := range tests {
		l, err := query.NewLike(tt.pattern, tt.fold)
		require.NoError(t, err)
		assert.Equal(t, tt.want, l.Match(tt.s), "Like(%q, fold=%v).Match(%q)", tt.pattern, tt.fold, tt.s)
	}
	_, err := query.NewLike(`ab\`, false)
	assert.ErrorIs(t, err, query.ErrBadOperator)

	l, _ := query.NewLike("ab%", false)
	r, ok := l.PrefixRange()
	require.True(t, ok)
	assert.True(t, r.Contains(store.String("ab")))
	assert.True(t, r.Contains(store.String("abzzz")))
	assert.False(t, r.Contains(store.String("ac")))
	assert.False(t, r.Contains(store.String("aa")))
	l, _ = query.NewLike("%ab", false)
	_, ok = l.PrefixRange()
	assert.False(t, ok)
}

func TestCursor(t *testing.T) {
	e := uid(7)
	for _, c := range []query.Cursor{
		{V: store.Number(1.5), E: e},
		{V: store.String("a\"b"), E: e},
		{V: store.Bool(false), E: e},
		{V: mustValue(t, `{"x":[1,2]}`), E: e},
		{Missing: true, E: e},
	} {
		s := c.String()
		got, err := query.ParseCursor(s)
		require.NoError(t, err, "ParseCursor(%q)", s)
		assert.Equal(t, c, got)
	}
	for _, bad := range []string{"", "!!", "bnVsbA", "W10", `WyJ4Il0`, "WzEsMl0", "WyIwMTA3MDAwMC0wMDAwLTAwMDAtMDAwMC0wMDAwMDAwMDAwMDAiLG51bGxd"} {
		_, err := query.ParseCursor(bad)
		assert.True(t, errors.Is(err, query.ErrBadCursor), "ParseCursor(%q) = %v", bad, err)
	}
}

func mustValue(t *testing.T, s string) store.Value {
	t.Helper()
	v, err := store.ParseValue([]byte(s))
	require.NoError(t, err)
	return v
}

func TestResultEqual(t *testing.T) {
	snap := mustSnapshot(t)
	text := q("todos", `{"where": {"done": true}, "limit": 2}`)
	a, b := run(t, snap, text), run(t, snap, text)
	assert.True(t, a.Equal(b))
	next, err := snap.Apply([]store.Step{{Op: store.OpAddTriple, E: tid(1), A: attr("todos", "title").ID, V: store.String("Call Bob")}}, 1)
	require.NoError(t, err)
	c := run(t, next, text)
	assert.False(t, a.Equal(c), "a changed title changes the result")
	d := run(t, snap, q("todos", `{"where": {"done": true}, "limit": 3}`))
	assert.False(t, a.Equal(d))
}
