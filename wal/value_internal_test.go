package wal

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/triplesync/triplesync/store"
)

var jsonbSeeds = []string{
	`null`, `true`, `false`, `0`, `-0`, `12`, `-12.5`, `1e3`, `1E+300`, `1e400`, `-1e-400`, `0.1`, `01`, `1.`, `.5`, `-`,
	`1_0`, `0x10`, `Infinity`, `NaN`, `"x"`, `""`, `"a\"b"`, `"\u00e9"`, `"é"`, "\"\xff\"", "\"a\tb\"", `"6f1c1d2a-0000-4000-8000-000000000001"`,
	`{"b": [1, 2.50], "a": null}`, `[1, "x"]`, `{}`, `[]`, ``, `"`, `1 `, ` 1`, `tru`, `nul`,
	`123456789012345678901234567890`, `1.000000000000000000000000001`,
}

// parseJSONB must agree with store.ParseValue on every input: same value,
// or both an error.
func checkJSONB(t *testing.T, in string) {
	want, wantErr := store.ParseValue([]byte(in))
	got, err := parseJSONB([]byte(in))
	if wantErr != nil {
		assert.Error(t, err, "parseJSONB(%q)", in)
		return
	}
	if assert.NoError(t, err, "parseJSONB(%q)", in) {
		assert.True(t, got == want, "parseJSONB(%q)=%v, want %v", in, got, want)
	}
}

func TestParseJSONB(t *testing.T) {
	for _, in := range jsonbSeeds {
		checkJSONB(t, in)
	}
}

func FuzzParseJSONB(f *testing.F) {
	for _, in := range jsonbSeeds {
		f.Add(in)
	}
	f.Fuzz(checkJSONB)
}
