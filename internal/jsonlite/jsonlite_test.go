package jsonlite

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"
)

// fromStd converts encoding/json's generic form (decoded with UseNumber)
// into ours, for comparisons.
func fromStd(v any) any {
	switch x := v.(type) {
	case json.Number:
		return Num(x)
	case []any:
		for i := range x {
			x[i] = fromStd(x[i])
		}
	case map[string]any:
		for k := range x {
			x[k] = fromStd(x[k])
		}
	}
	return v
}

func stdDecode(data []byte) (any, error) {
	if err := json.Unmarshal(data, new(json.RawMessage)); err != nil {
		return nil, err // Unmarshal checks the whole text first, trailing data included
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	return fromStd(v), nil
}

var samples = []string{
	`null`, `true`, `false`, `0`, `-0`, `1.5e-7`, `-12.25E+3`, `123456789012345678901234567890`,
	`""`, `"a\"b\\c\/d\b\f\n\r\t"`, `"\u00e9\u20ac\ud83d\ude00"`, `"\ud800"`, `"\ud800\u0041"`, `"\udc00\ud800"`,
	"\"\xff\xfe ok\"", `"é€😀"`, `[]`, `{}`, `[1,"a",null,{"b":[true,false]}]`, ` { "a" : 1 , "a" : 2 } `,
	`{"k":{"n":{"d":[[[]]]}}}`, "\t\n\r [ 1 ]\n",
}

var bad = []string{
	``, ` `, `nul`, `nulx`, `tru`, `falsey`, `01`, `-`, `1.`, `1e`, `1e+`, `.5`, `+1`, `"abc`, "\"a\nb\"",
	`"\x"`, `"\u12g4"`, `[1,]`, `[1 2]`, `{"a" 1}`, `{"a":1,}`, `{1:2}`, `{"a":1 "b":2}`, `[`, `{`, `{"a":`,
	`NaN`, `Infinity`, `[1]]`, `{} {}`, `'a'`, "\x00", `[1,2`,
}

func TestDecodeMatchesEncodingJSON(t *testing.T) {
	for _, s := range append(append([]string{}, samples...), bad...) {
		checkDecode(t, []byte(s))
	}
}

// checkDecode holds Decode, Valid and Raw to encoding/json on one input:
// the same verdict, the same value, and on malformed input the same
// message, since users see these messages and tests match them.
func checkDecode(t *testing.T, data []byte) {
	t.Helper()
	want, wantErr := stdDecode(data)
	got, err := Decode(data)
	require.Equal(t, json.Valid(data), Valid(data), "Valid(%q)", data)
	if wantErr != nil {
		require.Error(t, err, "Decode(%q) = %#v, encoding/json: %v", data, got, wantErr)
		var stdSyntax *json.SyntaxError
		if errors.As(wantErr, &stdSyntax) {
			require.Equal(t, stdSyntax.Error(), err.Error(), "message for %q", data)
		}
		return
	}
	require.NoError(t, err, "Decode(%q)", data)
	require.Equal(t, want, got, "Decode(%q)", data)

	d := NewDecoder(data)
	raw, err := d.Raw()
	require.NoError(t, err)
	require.NoError(t, d.End())
	require.Equal(t, string(bytes.TrimSpace(data)), string(raw))
}

func FuzzDecode(f *testing.F) {
	for _, s := range append(append([]string{}, samples...), bad...) {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		want, wantErr := stdDecode(data)
		got, err := Decode(data)
		if json.Valid(data) != Valid(data) {
			t.Fatalf("Valid(%q) = %v, encoding/json says %v", data, Valid(data), json.Valid(data))
		}
		if (wantErr == nil) != (err == nil) {
			t.Fatalf("Decode(%q) error %v, encoding/json: %v", data, err, wantErr)
		}
		if err == nil {
			require.Equal(t, want, got, "Decode(%q)", data)
		}
		var stdSyntax *json.SyntaxError
		if errors.As(wantErr, &stdSyntax) {
			require.Equal(t, stdSyntax.Error(), err.Error(), "message for %q", data)
		}
	})
}

func TestDepthLimit(t *testing.T) {
	deep := strings.Repeat("[", maxDepth) + strings.Repeat("]", maxDepth)
	require.True(t, Valid([]byte(deep)))
	deeper := "[" + deep + "]"
	require.False(t, Valid([]byte(deeper)))
	require.False(t, json.Valid([]byte(deeper)))
	_, err := Decode([]byte(deeper))
	require.EqualError(t, err, json.Unmarshal([]byte(deeper), new(any)).Error())
	require.EqualError(t, err, "invalid character '[' exceeded max depth")
}

func TestPullAPI(t *testing.T) {
	d := NewDecoder([]byte(` {"id":"x\u00e9","n":-3,"f":2.5,"u":7,"ok":true,"skip":{"deep":[1,{"a":null}]},"list":[1,2],"nil":null,"raw":[ 1, 2 ]} `))
	var (
		id        string
		n         int64
		f         float64
		u         uint64
		ok        bool
		list      []int64
		sawNil    bool
		raw, keys []string
	)
	err := d.Object(func(k string) error {
		keys = append(keys, k)
		var err error
		switch k {
		case "id":
			id, err = d.String()
		case "n":
			n, err = d.Int64()
		case "f":
			f, err = d.Float64()
		case "u":
			u, err = d.Uint64()
		case "ok":
			ok, err = d.Bool()
		case "list":
			err = d.Array(func(i int) error {
				v, err := d.Int64()
				list = append(list, v)
				return err
			})
		case "nil":
			sawNil = d.Null()
		case "raw":
			var b []byte
			b, err = d.Raw()
			raw = append(raw, string(b))
		default:
			err = d.Skip()
		}
		return err
	})
	require.NoError(t, err)
	require.NoError(t, d.End())
	require.Equal(t, []string{"id", "n", "f", "u", "ok", "skip", "list", "nil", "raw"}, keys)
	require.Equal(t, "xé", id)
	require.Equal(t, int64(-3), n)
	require.Equal(t, 2.5, f)
	require.Equal(t, uint64(7), u)
	require.True(t, ok)
	require.Equal(t, []int64{1, 2}, list)
	require.True(t, sawNil)
	require.Equal(t, []string{"[ 1, 2 ]"}, raw)
}

func TestTypeErrors(t *testing.T) {
	d := NewDecoder([]byte(`{"a":1}`))
	_, err := d.String()
	var te *TypeError
	require.ErrorAs(t, err, &te)
	require.Equal(t, String, te.Want)
	require.Equal(t, Object, te.Got)
	require.EqualError(t, err, "expected a string, found an object")
	require.Equal(t, 0, d.Offset(), "a type error consumes nothing")

	for _, c := range []struct {
		in  string
		get func(*Decoder) error
		msg string
	}{
		{`"1"`, func(d *Decoder) error { _, err := d.Int64(); return err }, "expected a number, found a string"},
		{`1.5`, func(d *Decoder) error { _, err := d.Int64(); return err }, "number 1.5 is not an integer within int64's range"},
		{`-1`, func(d *Decoder) error { _, err := d.Uint64(); return err }, "number -1 is not an integer within uint64's range"},
		{`1e400`, func(d *Decoder) error { _, err := d.Float64(); return err }, "number 1e400 is out of range for a float64"},
		{`null`, func(d *Decoder) error { _, err := d.Bool(); return err }, "expected a boolean, found null"},
		{`[]`, func(d *Decoder) error { return d.Object(func(string) error { return nil }) }, "expected an object, found an array"},
		{`{}`, func(d *Decoder) error { return d.Array(func(int) error { return nil }) }, "expected an array, found an object"},
		{``, func(d *Decoder) error { _, err := d.String(); return err }, "unexpected end of JSON input"},
		{`x`, func(d *Decoder) error { _, err := d.Number(); return err }, "invalid character 'x' looking for beginning of value"},
		{`{"a":1}`, func(d *Decoder) error { return d.Object(func(string) error { return nil }) }, "invalid character '1' after object key:value pair"},
	} {
		err := c.get(NewDecoder([]byte(c.in)))
		require.EqualError(t, err, c.msg, "input %q", c.in)
	}

	// an error from the callback comes back as it is
	stop := errors.New("stop")
	err = NewDecoder([]byte(`[1,2]`)).Array(func(int) error { return stop })
	require.Same(t, stop, err)
}

func TestNull(t *testing.T) {
	d := NewDecoder([]byte(` nul`))
	require.False(t, d.Null())
	require.Equal(t, Null, d.Peek())
	d = NewDecoder([]byte(`1`))
	require.False(t, d.Null())
	require.Equal(t, Number, d.Peek())
	require.Equal(t, Invalid, NewDecoder([]byte(` `)).Peek())
	require.Equal(t, "boolean", Bool.String())
	require.Equal(t, "invalid", Kind(99).String())
}

func TestNum(t *testing.T) {
	f, err := Num("2.5e3").Float64()
	require.NoError(t, err)
	require.Equal(t, 2500.0, f)
	n, err := Num("-42").Int64()
	require.NoError(t, err)
	require.Equal(t, int64(-42), n)
	_, err = Num("1.5").Int64()
	require.Error(t, err)
	require.Equal(t, "7", Num("7").String())
}

func stdMarshal(t testing.TB, v any) string {
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return string(b)
}

func FuzzAppendString(f *testing.F) {
	for _, s := range []string{"", "plain", "<a href=\"x\">&amp;</a>", "\x00\x01\x1f\x7f\b\f\n\r\t", "\u2028\u2029", "\xff\xfe", "é€😀", "\xed\xa0\x80"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := string(AppendString(nil, s))
		if want := stdMarshal(t, s); got != want {
			t.Fatalf("AppendString(%q) = %s, encoding/json: %s", s, got, want)
		}
		// and it reads back as encoding/json reads it
		back, err := NewDecoder([]byte(got)).String()
		require.NoError(t, err)
		var want string
		require.NoError(t, json.Unmarshal([]byte(got), &want))
		require.Equal(t, want, back)
		if utf8.ValidString(s) {
			require.Equal(t, s, back)
		}
	})
}

func TestAppendFloat(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	fs := []float64{0, math.Copysign(0, -1), 1, -1, 0.1, 1e-6, 9.999e-7, 1e20, 1e21, 123456789, 1e-9, 5e-324, math.MaxFloat64, -1.5e300}
	for range 20000 {
		fs = append(fs, math.Float64frombits(r.Uint64()), r.NormFloat64()*math.Pow(10, float64(r.IntN(60)-30)))
	}
	for _, f := range fs {
		if math.IsNaN(f) || math.IsInf(f, 0) {
			_, err := AppendFloat(nil, f)
			require.Error(t, err)
			continue
		}
		got, err := AppendFloat(nil, f)
		require.NoError(t, err)
		require.Equal(t, stdMarshal(t, f), string(got), "float %v", f)
		f32 := float32(f)
		if !math.IsInf(float64(f32), 0) {
			got, err := AppendAny(nil, f32)
			require.NoError(t, err)
			require.Equal(t, stdMarshal(t, f32), string(got), "float32 %v", f32)
		}
	}
}

func TestAppendAny(t *testing.T) {
	v := map[string]any{
		"z": []any{nil, true, false, "s<>&", 1.5, int8(-8), int16(16), int32(-32), int64(1 << 60), 7, uint(7), uint8(8), uint16(16), uint32(32), uint64(1 << 63)},
		"a": map[string]any{"nested": []string{"x", "y"}, "empty": map[string]any{}, "nilmap": map[string]any(nil)},
		"m": map[string]string{"b": "2", "a": "1"},
		"n": json.Number("-1.5e3"),
		"e": []any{},
		"r": json.RawMessage(`{"raw":true}`),
	}
	want := stdMarshal(t, v)
	// the same value in our types
	ours := map[string]any{
		"z": v["z"], "a": v["a"], "m": v["m"], "n": Num("-1.5e3"), "e": []any{}, "r": Raw(`{"raw":true}`),
	}
	got, err := AppendAny(nil, ours)
	require.NoError(t, err)
	require.Equal(t, want, string(got))

	// round trip through Decode
	back, err := Decode(got)
	require.NoError(t, err)
	again, err := AppendAny(nil, back)
	require.NoError(t, err)
	require.Equal(t, want, string(again))

	for _, c := range []struct {
		v   any
		out string
	}{
		{[]any(nil), "null"}, {[]string(nil), "null"}, {map[string]string(nil), "null"}, {Raw(nil), "null"},
		{Num(""), "0"}, {json.RawMessage(`1`), "1"}, // json.RawMessage through its MarshalJSON
	} {
		got, err := AppendAny(nil, c.v)
		require.NoError(t, err)
		require.Equal(t, c.out, string(got))
	}

	for _, bad := range []any{math.NaN(), math.Inf(1), Num("1.2.3"), Num("--1"), struct{}{}, []int{1}, []any{make(chan int)}, map[string]any{"k": math.Inf(-1)}} {
		_, err := AppendAny(nil, bad)
		require.Error(t, err, "%#v", bad)
	}
}

func BenchmarkDecodeAny(b *testing.B) {
	data := []byte(`{"todos":{"$":{"where":{"or":[{"done":false},{"title":{"$ilike":"%milk%"}}]},"order":{"created":"desc"},"limit":50},"owner":{"profile":{}}},"users":{"$":{"where":{"id":{"$in":["0b1f5c1e-0000-4000-8000-000000000001","0b1f5c1e-0000-4000-8000-000000000002"]}}}}}`)
	b.Run("jsonlite", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			if _, err := Decode(data); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			if _, err := stdDecode(data); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// stdMarshalNoHTML is json.Marshal of s with SetEscapeHTML(false).
func stdMarshalNoHTML(t testing.TB, s string) string {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	require.NoError(t, enc.Encode(s))
	return strings.TrimSuffix(buf.String(), "\n")
}

func TestAppendStringNoHTML(t *testing.T) {
	for i := range 0x30000 {
		s := string(rune(i)) + "a" + string([]byte{byte(i), byte(i >> 8)})
		if got, want := string(AppendStringNoHTML(nil, s)), stdMarshalNoHTML(t, s); got != want {
			t.Fatalf("AppendStringNoHTML(%q) = %s, encoding/json: %s", s, got, want)
		}
	}
}

func FuzzAppendStringNoHTML(f *testing.F) {
	for _, s := range []string{"", "plain", "<a href=\"x\">&amp;</a>", "\x00\x01\x1f\x7f\b\f\n\r\t", "\u2028\u2029", "\xff\xfe", "é€😀", "\xed\xa0\x80"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := string(AppendStringNoHTML(nil, s)), stdMarshalNoHTML(t, s); got != want {
			t.Fatalf("AppendStringNoHTML(%q) = %s, encoding/json: %s", s, got, want)
		}
	})
}

func BenchmarkAppendString(b *testing.B) {
	s := strings.Repeat("a plain ascii title with <html> & \"quotes\" é ", 4)
	b.ReportAllocs()
	b.SetBytes(int64(len(s)))
	buf := make([]byte, 0, 1024)
	for b.Loop() {
		buf = AppendString(buf[:0], s)
	}
}

type failing struct{ err error }

func (f failing) MarshalJSON() ([]byte, error)  { return nil, f.err }
func (f *failing) UnmarshalJSON(b []byte) error { return f.err }

func TestUnmarshalAndMarshalerError(t *testing.T) {
	boom := errors.New("boom")
	// well-formed: the method's own verdict
	require.Same(t, boom, Unmarshal([]byte(`{"a":1}`), (&failing{err: boom}).UnmarshalJSON))
	require.NoError(t, Unmarshal([]byte(`{"a":1}`), (&failing{}).UnmarshalJSON))
	// malformed: the syntax error, as json.Unmarshal reports it before calling the method
	err := Unmarshal([]byte(`{"a":}`), (&failing{err: boom}).UnmarshalJSON)
	require.EqualError(t, err, json.Unmarshal([]byte(`{"a":}`), &failing{err: boom}).Error())

	_, stdErr := json.Marshal(failing{err: boom})
	err = MarshalerError("jsonlite.failing", boom)
	require.EqualError(t, err, stdErr.Error())
	require.ErrorIs(t, err, boom)
}

func TestTruncated(t *testing.T) {
	for in, want := range map[string]bool{
		`[1,`: true, `nul`: true, `1e`: true, `"ab`: true, `{"a":`: true, ``: true, `"\u12`: true,
		`[1 x`: false, `1. `: false, `x`: false, `{"a" 1}`: false, `[1,]`: false,
	} {
		_, err := Decode([]byte(in))
		var se *SyntaxError
		require.ErrorAs(t, err, &se, "input %q", in)
		require.Equal(t, want, se.Truncated, "input %q: %v", in, err)
	}
}
