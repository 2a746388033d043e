package query_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/triplesync/triplesync/internal/jsonlite"
	"github.com/triplesync/triplesync/query"
	"github.com/triplesync/triplesync/query/querytest"
	"github.com/triplesync/triplesync/store"
)

// The query text was decoded with encoding/json's Decoder (UseNumber) and
// made canonical from that; it now goes through internal/jsonlite. Query
// ids are hashes of the canonical text, and clients see the parse errors,
// so both must stay exactly as they were. oldDecodeJSON and oldAppendCanon
// are the encoding/json implementation, kept as the oracle.

func oldDecodeJSON(data []byte) (any, string) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var x any
	if err := dec.Decode(&x); err != nil {
		return nil, "query: malformed query: " + err.Error()
	}
	for _, c := range data[dec.InputOffset():] {
		if c != ' ' && c != '\t' && c != '\n' && c != '\r' {
			return nil, "query: malformed query: trailing data after the query"
		}
	}
	return x, ""
}

func oldAppendCanon(dst []byte, x any) ([]byte, bool) {
	switch t := x.(type) {
	case nil:
		return append(dst, "null"...), true
	case bool:
		if t {
			return append(dst, "true"...), true
		}
		return append(dst, "false"...), true
	case json.Number:
		f, err := strconv.ParseFloat(string(t), 64)
		if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
			return dst, false
		}
		return store.Number(f).AppendJSON(dst), true
	case string:
		return store.String(t).AppendJSON(dst), true
	case []any:
		dst = append(dst, '[')
		for i, e := range t {
			if i > 0 {
				dst = append(dst, ',')
			}
			var ok bool
			if dst, ok = oldAppendCanon(dst, e); !ok {
				return dst, false
			}
		}
		return append(dst, ']'), true
	case map[string]any:
		keys := make([]string, 0, len(t))
		for k := range t {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		dst = append(dst, '{')
		for i, k := range keys {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = store.String(k).AppendJSON(dst)
			dst = append(dst, ':')
			var ok bool
			if dst, ok = oldAppendCanon(dst, t[k]); !ok {
				return dst, false
			}
		}
		return append(dst, '}'), true
	}
	return dst, false
}

// liteNumbers rewrites an encoding/json tree's json.Numbers as
// jsonlite.Nums, the form the new decoder gives.
func liteNumbers(x any) any {
	switch t := x.(type) {
	case json.Number:
		return jsonlite.Num(t)
	case []any:
		for i, e := range t {
			t[i] = liteNumbers(e)
		}
	case map[string]any:
		for k, e := range t {
			t[k] = liteNumbers(e)
		}
	}
	return x
}

// checkCanon holds the decoder and the canonical text to the oracle on
// data: the same error message, else the same tree and the same text.
func checkCanon(t *testing.T, data []byte) {
	t.Helper()
	oldX, oldErr := oldDecodeJSON(data)
	newX, err := query.DecodeJSON(data)
	newErr := ""
	if err != nil {
		newErr = err.Error()
		var qe *query.Error
		require.ErrorAs(t, err, &qe, "%q", data)
		require.Empty(t, qe.Path, "%q", data)
		require.ErrorIs(t, err, query.ErrMalformed, "%q", data)
	}
	require.Equal(t, oldErr, newErr, "decoding %q", data)
	if oldErr != "" {
		return
	}
	oldText, oldOK := oldAppendCanon(nil, oldX)
	newText, newOK := query.AppendCanon(nil, newX)
	require.Equal(t, liteNumbers(oldX), newX, "decoding %q", data)
	require.Equal(t, oldOK, newOK, "canonical text of %q", data)
	require.Equal(t, string(oldText), string(newText), "canonical text of %q", data)
}

// queryFixtures returns the queries written in this package's tests (the
// backquoted strings that open a JSON object) and the fuzz corpus.
func queryFixtures(t testing.TB) [][]byte {
	files, err := filepath.Glob("*_test.go")
	require.NoError(t, err)
	lit := regexp.MustCompile("`\\s*\\{[^`]*`")
	var out [][]byte
	for _, f := range files {
		src, err := os.ReadFile(f)
		require.NoError(t, err)
		for _, m := range lit.FindAll(src, -1) {
			out = append(out, m[1:len(m)-1])
		}
	}
	require.Greater(t, len(out), 100, "the tests' queries")
	corpus, _ := filepath.Glob("testdata/fuzz/FuzzParse/*")
	for _, f := range corpus {
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		out = append(out, b)
	}
	return out
}

// randomJSON writes a random JSON-ish text: valid mostly, with numbers,
// escapes and strings of every sort encoding/json treats specially.
func randomJSON(r *rand.Rand, buf []byte, depth int) []byte {
	ws := func() {
		for r.IntN(4) == 0 {
			buf = append(buf, " \t\n\r"[r.IntN(4)])
		}
	}
	ws()
	switch k := r.IntN(10); {
	case depth > 0 && k < 2:
		buf = append(buf, '{')
		for i := range r.IntN(4) {
			if i > 0 {
				buf = append(buf, ',')
			}
			ws()
			buf = randomString(r, buf)
			ws()
			buf = append(buf, ':')
			buf = randomJSON(r, buf, depth-1)
		}
		ws()
		buf = append(buf, '}')
	case depth > 0 && k < 4:
		buf = append(buf, '[')
		for i := range r.IntN(4) {
			if i > 0 {
				buf = append(buf, ',')
			}
			buf = randomJSON(r, buf, depth-1)
		}
		buf = append(buf, ']')
	case k < 6:
		nums := []string{"0", "-0", "1", "-1", "1.5", "10.0", "1e0", "1E+2", "1e-2", "0.1", "123456789012345678901234567890",
			"1e308", "1e309", "-1e400", "1e-400", "5e-324", "2.5e-324", "0.30000000000000004", "9007199254740993", "1.0e21", "1e20", "-0.0"}
		buf = append(buf, nums[r.IntN(len(nums))]...)
	case k < 9:
		buf = randomString(r, buf)
	default:
		buf = append(buf, []string{"null", "true", "false"}[r.IntN(3)]...)
	}
	ws()
	return buf
}

func randomString(r *rand.Rand, buf []byte) []byte {
	parts := []string{"a", "todos", "$", "é", "\\u0041", "\\n", "\\\"", "\\\\", "\\/", "\\ud83d\\ude00", "\\ud800", "\\udc00x", "\\u2028",
		"<>&", "\u2029", "\xff", "\xe2\x82", "\U0001F600", " ", "\\t", "\\b\\f\\r", "\x7f", "\\u0000"}
	buf = append(buf, '"')
	for range r.IntN(5) {
		buf = append(buf, parts[r.IntN(len(parts))]...)
	}
	return append(buf, '"')
}

// damage damages b a little: bytes dropped, inserted, replaced, or the
// text cut short.
func damage(r *rand.Rand, b []byte) []byte {
	b = slices.Clone(b)
	const alphabet = "{}[]\":,$. 0123456789-+eE.abnrtu\\\x00\xff\t\n"
	for range 1 + r.IntN(3) {
		if len(b) == 0 {
			b = append(b, alphabet[r.IntN(len(alphabet))])
			continue
		}
		i := r.IntN(len(b))
		switch r.IntN(4) {
		case 0:
			b = slices.Delete(b, i, i+1)
		case 1:
			b = slices.Insert(b, i, alphabet[r.IntN(len(alphabet))])
		case 2:
			b[i] = alphabet[r.IntN(len(alphabet))]
		case 3:
			b = b[:i]
		}
	}
	return b
}

// TestCanonOracle: the fixtures, random queries, random JSON, and
// mutations of all of them decode and canonicalise as with encoding/json.
func TestCanonOracle(t *testing.T) {
	inputs := queryFixtures(t)
	g := querytest.NewGen(baseSeed(t))
	for range 200 {
		d := g.Data(g.Schema(), 6)
		inputs = append(inputs, g.Query(d, 3))
	}
	r := rand.New(rand.NewPCG(baseSeed(t), 1))
	for range 2000 {
		inputs = append(inputs, randomJSON(r, nil, 4))
	}
	inputs = append(inputs, []byte(""), []byte(" \n"), []byte("{"), []byte(`{"a":1}x`), []byte("1x"), []byte("01"),
		[]byte(`{"a":1,"a":2}`), []byte("[1,]"), []byte("\ufeff{}"), bytes.Repeat([]byte("["), 10001), bytes.Repeat([]byte("["), 10000))
	n := len(inputs)
	rounds := 20
	if testing.Short() {
		rounds = 3
	}
	for range rounds {
		for _, in := range inputs[:n] {
			inputs = append(inputs, damage(r, in))
		}
	}
	for _, in := range inputs {
		checkCanon(t, in)
	}
	t.Logf("%d inputs", len(inputs))
}

// FuzzCanon compares the decoder and the canonical text with the
// encoding/json originals on any input.
func FuzzCanon(f *testing.F) {
	for _, q := range queryFixtures(f) {
		f.Add(q)
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 50 {
		f.Add(randomJSON(r, nil, 3))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		checkCanon(t, data)
	})
}

// oldParseCursor is ParseCursor's outcome with the encoding/json decoder:
// the cursor, or the error message.
func oldParseCursor(s string) (query.Cursor, string) {
	prefix := "query: invalid cursor: "
	if len(s) > 1<<16 {
		return query.Cursor{}, prefix + "too long"
	}
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return query.Cursor{}, prefix + "not base64url"
	}
	x, msg := oldDecodeJSON(raw)
	if msg != "" {
		return query.Cursor{}, prefix + "not JSON"
	}
	arr, ok := x.([]any)
	if !ok || len(arr) < 1 || len(arr) > 2 {
		return query.Cursor{}, prefix + "not an array of one or two elements"
	}
	es, ok := arr[0].(string)
	if !ok {
		return query.Cursor{}, prefix + "entity is not a string"
	}
	e, err := store.ParseEntityID(es)
	if err != nil {
		return query.Cursor{}, prefix + "entity is not a uuid"
	}
	if len(arr) == 1 {
		return query.Cursor{Missing: true, E: e}, ""
	}
	v, err := store.FromAny(arr[1])
	if err != nil {
		return query.Cursor{}, prefix + "value is not a JSON value"
	}
	if v.IsNull() {
		return query.Cursor{}, prefix + "null value: a missing value has no value element"
	}
	return query.Cursor{V: v, E: e}, ""
}

// FuzzCursorOracle compares ParseCursor with its encoding/json original
// on the JSON inside the cursor.
func FuzzCursorOracle(f *testing.F) {
	for _, s := range []string{`["02000000-0000-0000-0000-000000000000",5]`, `["02000000-0000-0000-0000-000000000000"]`,
		`["02000000-0000-0000-0000-000000000000",{"b":[1e400],"a":"x"}]`, `["02000000-0000-0000-0000-000000000000",1e-400]`,
		`["02000000-0000-0000-0000-000000000000",null]`, `["02000000-0000-0000-0000-000000000000","\ud800"]`, `[`, `1`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, js []byte) {
		s := base64.RawURLEncoding.EncodeToString(js)
		want, wantErr := oldParseCursor(s)
		got, err := query.ParseCursor(s)
		gotErr := ""
		if err != nil {
			gotErr = err.Error()
			require.ErrorIs(t, err, query.ErrBadCursor)
		}
		require.Equal(t, wantErr, gotErr, "%q", js)
		require.Equal(t, want, got, "%q", js)
	})
}
