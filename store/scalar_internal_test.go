package store

import (
	"testing"

	tassert "github.com/stretchr/testify/assert"
)

var scalarSeeds = []string{
	`null`, `true`, `false`, `0`, `-0`, `12`, `-12.5`, `1e3`, `1E+300`, `1e400`, `-1e-400`, `0.1`, `01`, `1.`, `.5`, `-`,
	`1_0`, `0x10`, `Infinity`, `NaN`, `"x"`, `""`, `"a\"b"`, `"\u00e9"`, `"é"`, "\"\xff\"", "\"a\tb\"", `"6f1c1d2a-0000-4000-8000-000000000001"`,
	`{"b": [1, 2.50], "a": null}`, `[1, "x"]`, `{}`, `[]`, ``, `"`, `1 `, ` 1`, `tru`, `nul`,
	`123456789012345678901234567890`, `1.000000000000000000000000001`,
}

// ParseValue's fast path must agree with the decoder on every input: same
// value, or both an error.
func checkScalar(t *testing.T, in string) {
	want, wantErr := parseValueDecoded([]byte(in))
	got, err := ParseValue([]byte(in))
	if wantErr != nil {
		tassert.Error(t, err, "ParseValue(%q)", in)
		return
	}
	if tassert.NoError(t, err, "ParseValue(%q)", in) {
		tassert.True(t, got == want, "ParseValue(%q)=%v, want %v", in, got, want)
	}
}

func TestParseScalar(t *testing.T) {
	for _, in := range scalarSeeds {
		checkScalar(t, in)
	}
}

func FuzzParseScalar(f *testing.F) {
	for _, in := range scalarSeeds {
		f.Add(in)
	}
	f.Fuzz(checkScalar)
}
