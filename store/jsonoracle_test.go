package store

// The encoding/json implementation of JSON values that jsonlite replaced,
// kept as the oracle: canonical texts are stored and hashed into ids, so
// the new code must give the same bytes and the same errors.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"
)

func oracleParseValue(data []byte) (Value, error) {
	if v, ok := parseScalar(data); ok {
		return v, nil
	}
	return oracleParseValueDecoded(data)
}

func oracleParseValueDecoded(data []byte) (Value, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var x any
	if err := dec.Decode(&x); err != nil {
		return Value{}, fmt.Errorf("%w: %v", ErrInvalidValue, err)
	}
	// Only JSON whitespace may follow. (dec.More and dec.Token let a stray
	// closing bracket through: "1 ]" decoded as 1.)
	for _, c := range data[dec.InputOffset():] {
		if c != ' ' && c != '\t' && c != '\n' && c != '\r' {
			return Value{}, wrapErr(ErrInvalidValue, "trailing data after JSON value")
		}
	}
	return oracleFromAny(x)
}

// FromAny converts a decoded JSON value (nil, bool, float64, json.Number,
// string, map[string]any, []any, and the other Go numeric types) into a
// Value. Any other Go value (a struct, []string, an [EntityID], ...) goes
// through encoding/json first, so oracleFromAny(x) equals ParseValue of x's JSON.
func oracleFromAny(x any) (Value, error) {
	if v, ok, err := oracleFromScalar(x); ok {
		return v, err
	}
	switch t := x.(type) {
	case Value:
		return t, nil
	case map[string]any, []any:
		canon, err := oracleCanonicalJSON(t)
		if err != nil {
			return Value{}, err
		}
		return Value{kind: KindJSON, str: string(canon)}, nil
	}
	b, err := json.Marshal(x)
	if err != nil {
		return Value{}, fmt.Errorf("%w: %T: %v", ErrInvalidValue, x, err)
	}
	return oracleParseValue(b)
}

// fromScalar converts the Go types that map straight to a JSON scalar. ok is
// false for anything else.
func oracleFromScalar(x any) (v Value, ok bool, err error) {
	switch t := x.(type) {
	case nil:
		return Null(), true, nil
	case bool:
		return Bool(t), true, nil
	case string:
		return String(t), true, nil
	case json.Number:
		f, perr := strconv.ParseFloat(string(t), 64)
		if perr != nil {
			return Value{}, true, fmt.Errorf("%w: number %s", ErrInvalidValue, t)
		}
		v, err = NumberOK(f)
		return v, true, err
	}
	if f, isNum := toFloat(x); isNum {
		v, err = NumberOK(f)
		return v, true, err
	}
	return Value{}, false, nil
}

// canonicalJSON encodes an object or array with sorted keys and numbers
// normalised through float64, rejecting what JSON cannot carry.
func oracleCanonicalJSON(x any) ([]byte, error) {
	norm, err := oracleNormalise(x)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(norm); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidValue, err)
	}
	return bytes.TrimRight(buf.Bytes(), "\n"), nil
}

// normalise rewrites x into the plain JSON types (nil, bool, float64,
// string, map[string]any, []any) with -0 folded into 0, so that the encoding
// of equal JSON is byte-for-byte equal.
func oracleNormalise(x any) (any, error) {
	if f, ok := toFloat(x); ok {
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return nil, wrapErr(ErrInvalidValue, "number "+strconv.FormatFloat(f, 'g', -1, 64))
		}
		if f == 0 {
			f = 0
		}
		return f, nil
	}
	switch t := x.(type) {
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, e := range t {
			n, err := oracleNormalise(e)
			if err != nil {
				return nil, err
			}
			out[k] = n
		}
		return out, nil
	case []any:
		out := make([]any, len(t))
		for i, e := range t {
			n, err := oracleNormalise(e)
			if err != nil {
				return nil, err
			}
			out[i] = n
		}
		return out, nil
	case json.Number:
		f, err := strconv.ParseFloat(string(t), 64)
		if err != nil || math.IsInf(f, 0) {
			return nil, fmt.Errorf("%w: number %s", ErrInvalidValue, t)
		}
		if f == 0 {
			f = 0
		}
		return f, nil
	case Value:
		return t.Any(), nil
	case nil, bool, string:
		return x, nil
	}
	// Any other Go value: take its JSON and decode that, so struct field
	// order or a custom marshaler cannot leak into the canonical form.
	b, err := json.Marshal(x)
	if err != nil {
		return nil, fmt.Errorf("%w: %T: %v", ErrInvalidValue, x, err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var y any
	if err := dec.Decode(&y); err != nil {
		return nil, fmt.Errorf("%w: %T: %v", ErrInvalidValue, x, err)
	}
	return oracleNormalise(y)
}

// Any returns v as the Go value encoding/json would decode it into: nil,
// bool, float64, string, map[string]any or []any. Objects and arrays are
// decoded afresh on each call, so the caller owns the result.
func oracleAny(v Value) any {
	switch v.kind {
	case KindBool:
		return v.num == 1
	case KindNumber:
		return v.num
	case KindString:
		return v.str
	case KindJSON:
		var x any
		if err := json.Unmarshal([]byte(v.str), &x); err != nil {
			panic("store: corrupt canonical JSON in value: " + err.Error())
		}
		return x
	}
	return nil
}

// jsonSeeds are texts for the value fuzzers: every shape, escapes, HTML
// characters, numbers at the edges of float64, malformed and cut texts.
var jsonSeeds = []string{
	`{"b":[1,2.50,-0,1e400],"a":null}`, `[1,"x",true,false,null,{}]`, `{"<&>":"<&>\u2028\ud800"}`,
	`{"a":{"b":{"c":[[]]}}}`, `["\u0000\u001f\"\\/\b\f\n\r\t"]`, "[\"\xff\xfe\"]", `{"a":1,"a":2}`,
	`[1e-7,1e21,123456789012345678901234567890,0.000001,-1.5e-300,5e-324]`, `{"a":1`, `[1,`, `[tru]`,
	`{"a" 1}`, `[1]x`, `[1] `, ` {} `, `[-]`, `[01]`, `[1.]`, `["\u12"]`, `"abc`, `"\`, ``, `   `,
	`[1e400]`, `{"x":-1e-400}`, `nul`, `1x`, `"é"`, `{"é":"\u00e9"}`, "[\"\u2029\"]", `[1,]`, `{,}`,
}

// FuzzParseValueOracle: ParseValue gives what the encoding/json version
// gave, value and error text; a value's Any and canonical text agree too.
func FuzzParseValueOracle(f *testing.F) {
	for _, s := range append(jsonSeeds, scalarSeeds...) {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		got, err := ParseValue(data)
		want, werr := oracleParseValue(data)
		if werr != nil {
			require.Error(t, err, "%q", data)
			require.Equal(t, werr.Error(), err.Error(), "%q", data)
			require.ErrorIs(t, err, ErrInvalidValue)
			return
		}
		require.NoError(t, err, "%q", data)
		require.Equal(t, want, got, "%q", data)
		require.Equal(t, oracleAny(want), got.Any(), "%q", data)
	})
}

// randomJSON draws a Go value of the shapes decoded JSON and callers give
// FromAny.
func randomJSON(r *rand.Rand, depth int) any {
	n := r.IntN(12)
	if depth > 3 && n >= 9 {
		n = r.IntN(9)
	}
	switch n {
	case 0:
		return nil
	case 1:
		return r.IntN(2) == 0
	case 2:
		return []float64{0, math.Copysign(0, -1), 1, -1.5, 1e-7, 1e21, 1e20, 123456789, 0.1, 5e-324, math.MaxFloat64, r.NormFloat64() * 1e6}[r.IntN(12)]
	case 3:
		return []any{int64(r.Int64()), uint8(7), float32(0.1), int(-3)}[r.IntN(4)]
	case 4:
		return json.Number([]string{"1", "-0", "2.50", "1e3", "1E+300", "123456789012345678901234567890"}[r.IntN(6)])
	case 5, 6:
		return randomString(r)
	case 7:
		return String(randomString(r))
	case 8:
		return []string{randomString(r), "x"}
	case 9:
		a := make([]any, r.IntN(4))
		for i := range a {
			a[i] = randomJSON(r, depth+1)
		}
		return a
	default:
		m := map[string]any{}
		for range r.IntN(5) {
			m[randomString(r)] = randomJSON(r, depth+1)
		}
		return m
	}
}

func randomString(r *rand.Rand) string {
	parts := []string{"a", "b", "<", ">", "&", "\u2028", "\u2029", "\"", "\\", "\n", "\x01", "\x7f", "é", "\xff", "日本", "\U0001F600", "/", " ", "A", "\u00e9"}
	var b []byte
	for range r.IntN(6) {
		b = append(b, parts[r.IntN(len(parts))]...)
	}
	return string(b)
}

// TestCanonicalMatchesEncodingJSON: FromAny of random values equals the
// encoding/json version's: the same canonical bytes (which are stored and
// hashed into ids) and the same errors.
func TestCanonicalMatchesEncodingJSON(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for range 50000 {
		x := randomJSON(r, 0)
		got, err := FromAny(x)
		want, werr := oracleFromAny(x)
		if werr != nil {
			require.Error(t, err)
			require.Equal(t, werr.Error(), err.Error(), "%#v", x)
			continue
		}
		require.NoError(t, err, "%#v", x)
		require.Equal(t, want, got, "%#v", x)
		require.Equal(t, string(want.AppendJSON(nil)), string(got.AppendJSON(nil)))
		require.Equal(t, oracleAny(want), got.Any())
		// A string alone is escaped as json.Marshal escapes it.
		if s, ok := got.AsString(); ok {
			b, _ := json.Marshal(s)
			require.Equal(t, string(b), got.String())
		}
	}
}

var _ = strconv.Itoa
