package store_test

import (
	"encoding/json"
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/triplesync/triplesync/store"
)

func mustValue(tb testing.TB, s string) store.Value {
	tb.Helper()
	v, err := store.ParseValue([]byte(s))
	require.NoError(tb, err, "ParseValue(%q)", s)
	return v
}

func TestCompareOrder(t *testing.T) {
	negZero := math.Copysign(0, -1)
	tests := []struct {
		name string
		a, b store.Value
		want int
	}{
		{"null = null", store.Null(), store.Null(), 0},
		{"null < false", store.Null(), store.Bool(false), -1},
		{"false < true", store.Bool(false), store.Bool(true), -1},
		{"true < any number", store.Bool(true), store.Number(-1e300), -1},
		{"numbers numerically", store.Number(2), store.Number(10), -1},
		{"negative before positive", store.Number(-0.5), store.Number(0.25), -1},
		{"-0 equals 0", store.Number(negZero), store.Number(0), 0},
		{"number < string", store.Number(1e300), store.String(""), -1},
		{"strings bytewise", store.String("B"), store.String("a"), -1},
		{"prefix first", store.String("ab"), store.String("abc"), -1},
		{"utf-8 code point order", store.String("z"), store.String("é"), -1},
		{"string < json", store.String("~~~"), mustValue(t, `[]`), -1},
		{"arrays by text", mustValue(t, `[1,2]`), mustValue(t, `[1,3]`), -1},
		{"objects by canonical text", mustValue(t, `{"b":1,"a":2}`), mustValue(t, `{"a":2,"b":1}`), 0},
		{"array before object", mustValue(t, `[{}]`), mustValue(t, `{}`), -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, store.Compare(tt.a, tt.b), "Compare(%v, %v)", tt.a, tt.b)
			assert.Equal(t, -tt.want, store.Compare(tt.b, tt.a), "Compare(%v, %v)", tt.b, tt.a)
			assert.Equal(t, tt.want == 0, tt.a == tt.b, "%v == %v", tt.a, tt.b)
			assert.Equal(t, tt.want < 0, store.Less(tt.a, tt.b))
		})
	}
}

// TestCompareTotal sorts a mixed list and checks the order is total and
// agrees with ==.
func TestCompareTotal(t *testing.T) {
	var vs []store.Value
	for _, s := range []string{`null`, `true`, `false`, `0`, `-0`, `-1.5`, `1e21`, `1e-7`, `""`, `"a"`, `"A"`,
		`"\u00e9"`, `[]`, `{}`, `[1]`, `{"a":null}`, `{"a":[1,{"b":2}]}`, `"11111111-1111-4111-8111-111111111111"`} {
		vs = append(vs, mustValue(t, s))
	}
	slices.SortFunc(vs, store.Compare)
	for i := range vs {
		for j := range vs {
			c := store.Compare(vs[i], vs[j])
			switch {
			case i < j:
				assert.LessOrEqual(t, c, 0, "%v vs %v", vs[i], vs[j])
			case i > j:
				assert.GreaterOrEqual(t, c, 0, "%v vs %v", vs[i], vs[j])
			}
			assert.Equal(t, c == 0, vs[i] == vs[j], "%v == %v agrees with Compare", vs[i], vs[j])
		}
	}
}

func TestNumberZeroAndNonFinite(t *testing.T) {
	negZero := math.Copysign(0, -1)
	v := store.Number(negZero)
	assert.Equal(t, store.Number(0), v, "-0 folds into 0")
	assert.Equal(t, "0", v.String())
	for _, f := range []float64{math.NaN(), math.Inf(1), math.Inf(-1)} {
		_, err := store.NumberOK(f)
		assert.ErrorIs(t, err, store.ErrInvalidValue, "NumberOK(%v)", f)
		assert.Panics(t, func() { store.Number(f) }, "Number(%v)", f)
	}
}

func TestCanonicalJSON(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{`null`, `null`},
		{` true `, `true`},
		{`-0`, `0`},
		{`-0.0`, `0`},
		{`1.50`, `1.5`},
		{`1E3`, `1000`},
		{`1e21`, `1e+21`},
		{`0.0000001`, `1e-7`},
		{`123456789012345678901234`, `1.2345678901234569e+23`},
		{`"a\u0041"`, `"aA"`},
		{`{"b": 1, "a": [1, 2.0, -0], "c": {"z": null, "y": "<&>"}}`, `{"a":[1,2,0],"b":1,"c":{"y":"<&>","z":null}}`},
		{`[ ]`, `[]`},
		{`{"a":0.0000001}`, `{"a":1e-7}`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			v := mustValue(t, tt.in)
			assert.Equal(t, tt.want, v.String(), "ParseValue(%q)", tt.in)
			again := mustValue(t, v.String())
			assert.Equal(t, v, again, "the canonical text parses to the same value")
		})
	}
}

// TestNumberTextMatchesEncodingJSON: a number reads the same alone and
// inside an object, where encoding/json formats it.
func TestNumberTextMatchesEncodingJSON(t *testing.T) {
	for _, f := range []float64{0, 1, -1, 0.1, 1e-6, 1e-7, 1.5e-7, 1e20, 1e21, 1.7976931348623157e308, 5e-324, 123456.789} {
		want, err := json.Marshal(f)
		require.NoError(t, err)
		assert.Equal(t, string(want), store.Number(f).String(), "Number(%v)", f)
	}
}

func TestParseValueErrors(t *testing.T) {
	for _, in := range []string{``, ` `, `1 2`, `1 ]`, `{} x`, `[1,]`, `1e400`, `-1e400`, `{"a":1e999}`, `nul`, `"\x`, `{"a"}`} {
		_, err := store.ParseValue([]byte(in))
		assert.ErrorIs(t, err, store.ErrInvalidValue, "ParseValue(%q)", in)
	}
}

// jsonPoint encodes itself, with keys out of order.
type jsonPoint struct{ X, Y float64 }

func (p jsonPoint) MarshalJSON() ([]byte, error) {
	if math.IsNaN(p.X) {
		return nil, errors.New("NaN")
	}
	return []byte(`{"y":` + strconv.FormatFloat(p.Y, 'g', -1, 64) + `, "x":` + strconv.FormatFloat(p.X, 'g', -1, 64) + `}`), nil
}

func TestFromAny(t *testing.T) {
	type point struct {
		Y int `json:"y"`
		X int `json:"x"`
	}
	id := store.MustParseEntityID("11111111-1111-4111-8111-111111111111")
	tests := []struct {
		name string
		in   any
		want string
	}{
		{"nil", nil, `null`},
		{"bool", true, `true`},
		{"int", 42, `42`},
		{"int8", int8(-3), `-3`},
		{"uint64", uint64(7), `7`},
		{"float32", float32(0.5), `0.5`},
		{"json.Number", json.Number("2.50"), `2.5`},
		{"string", "hi", `"hi"`},
		{"Value", store.String("v"), `"v"`},
		{"map", map[string]any{"b": 1, "a": int64(2)}, `{"a":2,"b":1}`},
		{"big int in map equals its parse", map[string]any{"n": int64(math.MaxInt64)}, `{"n":9223372036854775807}`},
		{"nested Value", []any{store.Number(1), map[string]any{"x": store.Null()}}, `[1,{"x":null}]`},
		{"marshaler's keys sorted", jsonPoint{Y: 1, X: 2}, `{"x":2,"y":1}`},
		{"json.RawMessage", json.RawMessage(` [1, {"b":2,"a":1}] `), `[1,{"a":1,"b":2}]`},
		{"[]EntityID", []store.EntityID{id}, `["11111111-1111-4111-8111-111111111111"]`},
		{"map[string]string", map[string]string{"b": "<", "a": "x"}, `{"a":"x","b":"<"}`},
		{"[]string", []string{"a", "b"}, `["a","b"]`},
		{"entity id", id, `"11111111-1111-4111-8111-111111111111"`},
		{"marshaler in a map", map[string]any{"p": jsonPoint{Y: 1}, "id": id}, `{"id":"11111111-1111-4111-8111-111111111111","p":{"x":0,"y":1}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := store.FromAny(tt.in)
			require.NoError(t, err)
			assert.Equal(t, mustValue(t, tt.want), v, "FromAny(%#v)", tt.in)
		})
	}
	// A struct without MarshalJSON: the package has no reflection to encode it.
	for _, bad := range []any{math.NaN(), map[string]any{"a": math.Inf(1)}, make(chan int), []any{func() {}},
		point{Y: 1}, map[string]any{"p": point{}}, jsonPoint{X: math.NaN()}} {
		_, err := store.FromAny(bad)
		assert.ErrorIs(t, err, store.ErrInvalidValue, "FromAny(%T)", bad)
	}
}

func TestValueAccessors(t *testing.T) {
	id := store.MustParseEntityID("11111111-1111-4111-8111-111111111111")
	b, ok := store.Bool(true).AsBool()
	assert.True(t, b && ok)
	n, ok := store.Number(2.5).AsNumber()
	assert.True(t, ok)
	assert.Equal(t, 2.5, n)
	_, ok = store.String("2.5").AsNumber()
	assert.False(t, ok)
	s, ok := store.String("x").AsString()
	assert.True(t, ok)
	assert.Equal(t, "x", s)
	got, ok := store.Ref(id).AsEntityID()
	assert.True(t, ok)
	assert.Equal(t, id, got)
	_, ok = store.String("not a uuid").AsEntityID()
	assert.False(t, ok)
	assert.True(t, store.Null().IsNull())
	assert.Equal(t, store.KindJSON, mustValue(t, `{}`).Kind())
	assert.Equal(t, "json", store.KindJSON.String())
	assert.Equal(t, map[string]any{"a": []any{1.0, nil}}, mustValue(t, `{"a":[1,null]}`).Any())

	var v store.Value
	require.NoError(t, json.Unmarshal([]byte(`{"z":1,"a":2}`), &v))
	out, err := json.Marshal(v)
	require.NoError(t, err)
	assert.Equal(t, `{"a":2,"z":1}`, string(out))
	assert.True(t, errors.Is(json.Unmarshal([]byte(`1e999`), &v), store.ErrInvalidValue))
}

// FuzzParseValue: no panic; a parsed value's canonical text parses back to
// the same value and the same text, and == agrees with Compare.
func FuzzParseValue(f *testing.F) {
	for _, s := range []string{`null`, `true`, `-0`, `1e-7`, `1.5e300`, `"a\u00e9\ud83d\ude00"`, `"\ud800"`,
		`{"b":[1,{"c":null}],"a":"x"}`, `[[],{}]`, `123456789012345678901234567890`, `1 ]`, `"\xff"`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		v, err := store.ParseValue(data)
		if err != nil {
			require.ErrorIs(t, err, store.ErrInvalidValue)
			return
		}
		text := v.String()
		v2, err := store.ParseValue([]byte(text))
		require.NoError(t, err, "canonical text %q must parse", text)
		require.Equal(t, v, v2, "round trip of %q", text)
		require.Equal(t, text, v2.String())
		require.Equal(t, 0, store.Compare(v, v2))
		v3, err := store.FromAny(v.Any())
		require.NoError(t, err)
		require.Equal(t, v, v3, "FromAny(Any()) of %q", text)
	})
}

// TestAppendJSONStringsAsEncodingJSON checks the fast path for plain
// strings against encoding/json, on every single byte and on random
// strings mixing plain and escaped characters.
func TestAppendJSONStringsAsEncodingJSON(t *testing.T) {
	var cases []string
	for c := range 256 {
		cases = append(cases, string([]byte{byte(c)}), "ab"+string([]byte{byte(c)})+"cd")
	}
	cases = append(cases, "", "plain text 123", "e0000000-0000-4000-8000-000000000001", "é", "\u2028", "a\"b", `a\b`, "<&>", "\xff\xfe")
	r := rand.New(rand.NewPCG(1, 2))
	alphabet := []string{"a", "Z", " ", "~", "\"", "\\", "<", "\n", "é", "\u2029", "\x00", "\xff"}
	for range 500 {
		var b strings.Builder
		for range r.IntN(12) {
			b.WriteString(alphabet[r.IntN(len(alphabet))])
		}
		cases = append(cases, b.String())
	}
	for _, s := range cases {
		want, err := json.Marshal(s)
		require.NoError(t, err)
		assert.Equal(t, string(want), string(store.String(s).AppendJSON(nil)), "%q", s)
	}
}
