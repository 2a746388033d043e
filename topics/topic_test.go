package topics_test

import (
	"fmt"
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/triplesync/triplesync/store"
	"github.com/triplesync/triplesync/topics"
)

// id returns a readable test id whose first byte is n.
func id(n byte) store.EntityID { return store.EntityID{n, 0, 0, 0, 0, 0, 0x40, 0, 0x80} }

var (
	e1, e2, e3 = id(1), id(2), id(3)
	a1, a2     = id(0xa1), id(0xa2)
)

func num(f float64) store.Value  { return store.Number(f) }
func str(s string) store.Value   { return store.String(s) }
func jsonv(s string) store.Value { v, _ := store.ParseValue([]byte(s)); return v }

func TestSatisfies(t *testing.T) {
	tests := []struct {
		name string
		v    store.Value
		op   topics.Op
		arg  store.Value
		want bool
	}{
		{"gt number", num(6), topics.Gt, num(5), true},
		{"gt equal", num(5), topics.Gt, num(5), false},
		{"gt smaller", num(4), topics.Gt, num(5), false},
		{"gt string over number", str("a"), topics.Gt, num(5), true}, // total order: coarse on purpose
		{"gt null", store.Null(), topics.Gt, num(5), false},
		{"gte equal", num(5), topics.Gte, num(5), true},
		{"gte smaller", num(4.9), topics.Gte, num(5), false},
		{"lt number", num(-1), topics.Lt, num(0), true},
		{"lt null", store.Null(), topics.Lt, num(0), true}, // null sorts first
		{"lt bool", store.Bool(true), topics.Lt, num(0), true},
		{"lt equal", num(0), topics.Lt, num(0), false},
		{"lte equal", str("b"), topics.Lte, str("b"), true},
		{"lte string", str("c"), topics.Lte, str("b"), false},
		{"lt string bytewise", str("B"), topics.Lt, str("a"), true},
		{"gt json over string", jsonv(`{"a":1}`), topics.Gt, str("zzz"), true},
		{"gt bool", store.Bool(true), topics.Gt, store.Bool(false), true},
		{"like exact", str("abc"), topics.Like, str("abc"), true},
		{"like percent", str("abc"), topics.Like, str("a%"), true},
		{"like percent empty", str("a"), topics.Like, str("a%"), true},
		{"like percent middle", str("axxc"), topics.Like, str("a%c"), true},
		{"like percent no", str("axxd"), topics.Like, str("a%c"), false},
		{"like underscore", str("abc"), topics.Like, str("a_c"), true},
		{"like underscore rune", str("aéc"), topics.Like, str("a_c"), true},
		{"like underscore short", str("ac"), topics.Like, str("a_c"), false},
		{"like case", str("ABC"), topics.Like, str("abc"), false},
		{"like escape percent", str("a%"), topics.Like, str(`a\%`), true},
		{"like escape percent no", str("ab"), topics.Like, str(`a\%`), false},
		{"like escape underscore", str("a_"), topics.Like, str(`a\_`), true},
		{"like backtrack", str("aXbXbc"), topics.Like, str("a%b%c"), true},
		{"like many percents", str("abcabc"), topics.Like, str("%%abc"), true},
		{"like number", num(1), topics.Like, str("%"), false},
		{"like whole string", str("xabc"), topics.Like, str("abc"), false},
		{"ilike case", str("ABC"), topics.ILike, str("abc"), true},
		{"ilike percent", str("Hello World"), topics.ILike, str("%WORLD"), true},
		{"ilike unicode", str("ÉCOLE"), topics.ILike, str("école"), true},
		{"ilike kelvin", str("\u212a"), topics.ILike, str("k"), true},
		{"ilike no", str("abd"), topics.ILike, str("ABC"), false},
		{"not differs", num(1), topics.Not, num(2), true},
		{"not equal", num(2), topics.Not, num(2), false},
		{"not kind", str("2"), topics.Not, num(2), true},
		{"not null", store.Null(), topics.Not, num(2), true},
		{"isNull true null", store.Null(), topics.IsNull, store.Bool(true), true},
		{"isNull true value", num(0), topics.IsNull, store.Bool(true), false},
		{"isNull false value", str(""), topics.IsNull, store.Bool(false), true},
		{"isNull false null", store.Null(), topics.IsNull, store.Bool(false), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := topics.Satisfies(tt.v, tt.op, tt.arg)
			assert.Equal(t, tt.want, got, "Satisfies(%v %s %v)=%v, want %v", tt.v, tt.op, tt.arg, got, tt.want)
			// The same answer through Part.Intersects with a one-value set.
			p := topics.MustCmp(tt.op, tt.arg)
			assert.Equal(t, tt.want, p.Intersects(topics.Values(tt.v)), "Intersects")
			assert.Equal(t, tt.want, topics.Values(tt.v).Intersects(p), "Intersects, swapped")
		})
	}
}

func TestCmpInvalid(t *testing.T) {
	tests := []struct {
		name string
		op   topics.Op
		arg  store.Value
	}{
		{"like number", topics.Like, num(1)},
		{"ilike null", topics.ILike, store.Null()},
		{"isNull string", topics.IsNull, str("true")},
		{"unknown op", topics.Op(99), num(1)},
		{"zero op", topics.Op(0), num(1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := topics.Cmp(tt.op, tt.arg)
			require.ErrorIs(t, err, topics.ErrInvalidComparison)
			assert.False(t, topics.Satisfies(tt.arg, tt.op, tt.arg))
		})
	}
}

func TestParseOp(t *testing.T) {
	for _, op := range []topics.Op{topics.Gt, topics.Gte, topics.Lt, topics.Lte, topics.Like, topics.ILike, topics.Not, topics.IsNull} {
		got, err := topics.ParseOp(op.String())
		require.NoError(t, err)
		assert.Equal(t, op, got)
	}
	_, err := topics.ParseOp("$in")
	assert.ErrorIs(t, err, topics.ErrInvalidComparison)
}

// TestCmpSetOrdering checks that a comparison against a sorted set looks at
// the right end for the ordering operators.
func TestCmpSetOrdering(t *testing.T) {
	set := topics.Values(num(1), num(3), num(7))
	tests := []struct {
		op   topics.Op
		arg  float64
		want bool
	}{
		{topics.Gt, 7, false}, {topics.Gt, 6, true}, {topics.Gte, 7, true},
		{topics.Lt, 1, false}, {topics.Lt, 2, true}, {topics.Lte, 1, true},
		{topics.Not, 3, true},
	}
	for _, tt := range tests {
		p := topics.MustCmp(tt.op, num(tt.arg))
		assert.Equal(t, tt.want, p.Intersects(set), "%s %v on %v", tt.op, tt.arg, set)
	}
	assert.False(t, topics.MustCmp(topics.Not, num(3)).Intersects(topics.Values(num(3))))
	assert.False(t, topics.MustCmp(topics.Gt, num(0)).Intersects(topics.Values()), "empty set")
}

func TestPartIntersects(t *testing.T) {
	gt5 := topics.MustCmp(topics.Gt, num(5))
	tests := []struct {
		name string
		p, q topics.Part
		want bool
	}{
		{"any any", topics.Any(), topics.Any(), true},
		{"any ids", topics.Any(), topics.IDs(e1), true},
		{"any empty", topics.Any(), topics.IDs(), false},
		{"any cmp", topics.Any(), gt5, true},
		{"ids share", topics.IDs(e1, e2), topics.IDs(e2, e3), true},
		{"ids disjoint", topics.IDs(e1), topics.IDs(e2, e3), false},
		{"ids empty", topics.IDs(), topics.IDs(e1), false},
		{"ids both empty", topics.IDs(), topics.IDs(), false},
		{"values share", topics.Values(num(1), str("x")), topics.Values(str("x")), true},
		{"values disjoint", topics.Values(num(1)), topics.Values(str("1")), false},
		{"values number fold", topics.Values(num(0)), topics.Values(num(math.Copysign(0, -1))), true},
		{"ids values ref", topics.IDs(e1), topics.Values(store.Ref(e1)), true},
		{"ids values no", topics.IDs(e1), topics.Values(store.Ref(e2)), false},
		{"ids cmp", topics.IDs(e1), topics.MustCmp(topics.Like, str(e1.String()[:8]+"%")), true},
		{"cmp values", gt5, topics.Values(num(1), num(6)), true},
		{"cmp values no", gt5, topics.Values(num(1), num(5)), false},
		{"cmp cmp", gt5, topics.MustCmp(topics.Lt, num(0)), true}, // assumed: coarse
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, tt.p.Intersects(tt.q), "%v ∩ %v", tt.p, tt.q)
			assert.Equal(t, tt.want, tt.q.Intersects(tt.p), "%v ∩ %v", tt.q, tt.p)
		})
	}
}

// TestIntersectsLargeSets covers both set intersection strategies (merge and
// binary search).
func TestIntersectsLargeSets(t *testing.T) {
	var evens, odds, some []store.Value
	for i := range 200 {
		if i%2 == 0 {
			evens = append(evens, num(float64(i)))
		} else {
			odds = append(odds, num(float64(i)))
		}
	}
	some = []store.Value{num(1001), num(51)}
	assert.False(t, topics.Values(evens...).Intersects(topics.Values(odds...)))
	assert.True(t, topics.Values(evens...).Intersects(topics.Values(append(odds, num(198))...)))
	assert.True(t, topics.Values(odds...).Intersects(topics.Values(some...)))
	assert.False(t, topics.Values(evens...).Intersects(topics.Values(some...)))
}

func TestTopicMatch(t *testing.T) {
	change := topics.Topic{Idx: store.FlagEA | store.FlagAVE, E: topics.IDs(e1), A: topics.IDs(a1), V: topics.Values(num(3), num(8))}
	tests := []struct {
		name  string
		topic topics.Topic
		want  bool
	}{
		{"all wildcards", topics.Topic{}, true},
		{"attr", topics.Topic{A: topics.IDs(a1)}, true},
		{"other attr", topics.Topic{A: topics.IDs(a2)}, false},
		{"entity", topics.Topic{E: topics.IDs(e1, e2), A: topics.IDs(a1)}, true},
		{"other entity", topics.Topic{E: topics.IDs(e2), A: topics.IDs(a1)}, false},
		{"value old", topics.Topic{A: topics.IDs(a1), V: topics.Values(num(3))}, true},
		{"value new", topics.Topic{A: topics.IDs(a1), V: topics.Values(num(8))}, true},
		{"value neither", topics.Topic{A: topics.IDs(a1), V: topics.Values(num(5))}, false},
		{"range new", topics.Topic{A: topics.IDs(a1), V: topics.MustCmp(topics.Gt, num(5))}, true},
		{"range neither", topics.Topic{A: topics.IDs(a1), V: topics.MustCmp(topics.Gt, num(8))}, false},
		{"index ave", topics.Topic{Idx: store.FlagAVE, A: topics.IDs(a1)}, true},
		{"index vae", topics.Topic{Idx: store.FlagVAE, A: topics.IDs(a1)}, false},
		{"index set", topics.Topic{Idx: store.FlagVAE | store.FlagEA}, true},
		{"entity and value", topics.Topic{E: topics.IDs(e1), A: topics.IDs(a1), V: topics.Values(num(8))}, true},
		{"entity and wrong value", topics.Topic{E: topics.IDs(e1), A: topics.IDs(a1), V: topics.Values(num(9))}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, tt.topic.Match(change), "Match(%v, %v)", tt.topic, change)
			assert.Equal(t, tt.want, change.Match(tt.topic), "Match(%v, %v)", change, tt.topic)
		})
	}
	noIndex := topics.Topic{E: topics.IDs(e1), A: topics.IDs(a1), V: topics.Values(num(3))}
	assert.True(t, topics.Topic{Idx: store.FlagVAE, A: topics.IDs(a1)}.Match(noIndex), "a change in no index matches every index")
}

func TestTopicValidate(t *testing.T) {
	gt := topics.MustCmp(topics.Gt, num(1))
	tests := []struct {
		name  string
		topic topics.Topic
		ok    bool
	}{
		{"wildcards", topics.Topic{}, true},
		{"ids", topics.Topic{E: topics.IDs(e1), A: topics.IDs(a1), V: topics.Values(num(1))}, true},
		{"cmp", topics.Topic{V: gt}, true},
		{"cmp in e", topics.Topic{E: gt}, false},
		{"values in a", topics.Topic{A: topics.Values(num(1))}, false},
		{"ids in v", topics.Topic{V: topics.IDs(e1)}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.topic.Validate()
			if tt.ok {
				assert.NoError(t, err)
			} else {
				assert.ErrorIs(t, err, topics.ErrInvalidPart)
			}
		})
	}
}

func TestTopicString(t *testing.T) {
	tp := topics.Topic{Idx: store.FlagEA | store.FlagAVE, E: topics.IDs(e2, e1), V: topics.MustCmp(topics.Gte, str("x"))}
	want := fmt.Sprintf("[ea|ave {%s %s} _ $gte \"x\"]", e1, e2)
	assert.Equal(t, want, tp.String())
	assert.Equal(t, `[* _ _ {null 1 "a"}]`, topics.Topic{V: topics.Values(str("a"), num(1), store.Null(), num(1))}.String())
	assert.True(t, tp.Equal(tp))
	assert.False(t, tp.Equal(topics.Topic{}))
}

func TestOfChange(t *testing.T) {
	tr := func(e store.EntityID, v store.Value) store.Triple { return store.Triple{E: e, A: a1, V: v} }
	ea := store.FlagEA
	ave := store.FlagEA | store.FlagAVE
	todos := store.Attr{ID: a1, Namespace: "todos", Label: "owner", Type: store.TypeRef, RefNamespace: "users", ReverseLabel: "todos"}
	renamed := todos
	renamed.Namespace = "tasks"
	ch := &store.Change{
		TxID: 7,
		Triples: []store.TripleChange{
			{Op: store.OpInsert, New: tr(e1, num(1)), NewFlags: ea},
			{Op: store.OpUpdate, Old: tr(e1, num(1)), New: tr(e1, num(2)), OldFlags: ea, NewFlags: ave},
			{Op: store.OpUpdate, Old: tr(e1, num(2)), New: tr(e1, num(2)), OldFlags: ea, NewFlags: ea},
			{Op: store.OpDelete, Old: tr(e2, str("x")), OldFlags: ea},
			{Op: store.OpUpdate, Old: tr(e1, num(1)), New: tr(e2, num(1)), OldFlags: ea, NewFlags: ea},
		},
		Attrs: []store.AttrChange{
			{Op: store.OpInsert, New: todos},
			{Op: store.OpUpdate, Old: todos, New: renamed},
			{Op: store.OpDelete, Old: renamed},
		},
	}
	got := topics.OfChange(ch)
	var buf topics.Buffer
	for i := range ch.Triples {
		want := topics.AppendTriple(nil, &ch.Triples[i])
		got := buf.Triple(&ch.Triples[i])
		require.Len(t, got, len(want), "Buffer.Triple(%d)", i)
		for j := range want {
			assert.True(t, want[j].Equal(got[j]), "Buffer.Triple(%d)[%d] = %v, want %v", i, j, got[j], want[j])
		}
	}
	want := []topics.Topic{
		{Idx: ea, E: topics.IDs(e1), A: topics.IDs(a1), V: topics.Values(num(1))},
		{Idx: ave, E: topics.IDs(e1), A: topics.IDs(a1), V: topics.Values(num(1), num(2))},
		{Idx: ea, E: topics.IDs(e1), A: topics.IDs(a1), V: topics.Values(num(2))},
		{Idx: ea, E: topics.IDs(e2), A: topics.IDs(a1), V: topics.Values(str("x"))},
		{Idx: ea, E: topics.IDs(e1), A: topics.IDs(a1), V: topics.Values(num(1))},
		{Idx: ea, E: topics.IDs(e2), A: topics.IDs(a1), V: topics.Values(num(1))},
		{A: topics.IDs(a1)}, topics.SchemaTopic("todos", "users"),
		{A: topics.IDs(a1)}, topics.SchemaTopic("todos", "users", "tasks"),
		{A: topics.IDs(a1)}, topics.SchemaTopic("tasks", "users"),
	}
	require.Len(t, got, len(want))
	for i := range want {
		assert.True(t, want[i].Equal(got[i]), "topic %d: got %v, want %v", i, got[i], want[i])
	}
	// A schema subscription wakes on its namespace only.
	assert.True(t, topics.MatchAny(got, []topics.Topic{topics.SchemaTopic("users")}))
	assert.False(t, topics.MatchAny(got, []topics.Topic{topics.SchemaTopic("goals")}))
}
