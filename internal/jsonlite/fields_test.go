package jsonlite

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestCheckMatchesEncodingJSON: Check fails on what json.Unmarshal fails
// to parse, with its words.
func TestCheckMatchesEncodingJSON(t *testing.T) {
	for _, s := range []string{``, ` `, `1`, `{}`, `[1,]`, `{"a":1}x`, `"\x01"`, `nul`, `[` + "\n", `{"a" 1}`, ` true `} {
		var v any
		want := json.Unmarshal([]byte(s), &v)
		got := Check([]byte(s))
		if want == nil {
			require.NoError(t, got, "%q", s)
			continue
		}
		require.EqualError(t, got, want.Error(), "%q", s)
	}
}

// TestMatchMatchesEncodingJSON: Match picks the field encoding/json
// decodes a key into: the exact name first, else one equal under case
// folding, else none.
func TestMatchMatchesEncodingJSON(t *testing.T) {
	type T struct {
		A  string `json:"ab"`
		B  string `json:"AB"`
		C  string `json:"on-delete"`
		KS string `json:"ks"`
	}
	names := []string{"ab", "AB", "on-delete", "ks"}
	for _, k := range []string{"ab", "AB", "Ab", "aB", "On-Delete", "ON-DELETE", "ondelete", "x", "", "\u212as", "k\u017f", "\u0131s"} {
		var v T
		require.NoError(t, json.Unmarshal([]byte(`{"`+k+`":"x"}`), &v))
		want := ""
		for i, f := range []string{v.A, v.B, v.C, v.KS} {
			if f != "" {
				want = names[i]
			}
		}
		require.Equal(t, want, Match(k, names), "%q", k)
	}
}

// TestTypeErrorsMatchEncodingJSON: ValueName, ValueTypeError and
// FieldTypeError word a value of the wrong kind as encoding/json does.
func TestTypeErrorsMatchEncodingJSON(t *testing.T) {
	type S struct {
		F int `json:"f"`
	}
	for _, s := range []string{`true`, `"x"`, `[]`, `{}`, `1.5`} {
		var te *json.UnmarshalTypeError
		var n int
		err := json.Unmarshal([]byte(s), &n)
		require.True(t, errors.As(err, &te))
		kind := NewDecoder([]byte(s)).Peek()
		value := kind.ValueName()
		if kind == Number {
			value = "number " + s
		}
		require.EqualError(t, ValueTypeError(value, "int"), err.Error(), s)

		var v S
		err = json.Unmarshal([]byte(`{"f":`+s+`}`), &v)
		require.EqualError(t, FieldTypeError(value, "S", "f", "int"), err.Error(), s)
	}
	require.Equal(t, "null", Null.ValueName())
}
