package pg_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/triplesync/triplesync/pg"
	"github.com/triplesync/triplesync/store"
)

// storedSeeds are values whose jsonb text the decoder must read back as
// the same value: every kind, escapes, numbers jsonb prints in full.
func storedSeeds() []store.Value {
	vals := fuzzyValues()
	for _, s := range []string{"a", `a"b`, `a\b`, "tab\there", "new\nline", "é😀", "\u007f", "<&>", "\u2028"} {
		vals = append(vals, store.String(s))
	}
	for _, f := range []float64{0, -0.5, 1e21, 1e-7, 123456789.125, 5e-324, -1.7976931348623157e308, 9007199254740993} {
		vals = append(vals, store.Number(f))
	}
	return append(vals, store.Bool(false), val(`{"a":[1,{"b":null}],"é":"x"}`))
}

// TestParseStored reads values back from jsonb's text form.
func TestParseStored(t *testing.T) {
	db := mustOpenDB(t)
	for _, v := range storedSeeds() {
		var text string
		require.NoError(t, db.Pool().QueryRow(t.Context(), "select $1::text::jsonb::text", v.String()).Scan(&text))
		got, err := pg.ParseStored([]byte(text))
		require.NoError(t, err, "%s", text)
		assert.Equal(t, v, got, "ParseStored(%s)", text)
	}
}

// FuzzParseStored: wherever store.ParseValue reads a value, the fast
// decoder reads the same one, and it never panics.
func FuzzParseStored(f *testing.F) {
	for _, v := range storedSeeds() {
		f.Add([]byte(v.String()))
	}
	for _, s := range []string{`"a"b"`, `"\u0000"`, `01`, `-Inf`, `0x10`, `"` + strings.Repeat("x", 10) + `"`, `1e400`, `"\x01"`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, text []byte) {
		got, err := pg.ParseStored(text)
		want, wantErr := store.ParseValue(text)
		if wantErr == nil {
			if err != nil || got != want {
				t.Fatalf("ParseStored(%q) = %v, %v; ParseValue gives %v", text, got, err, want)
			}
		}
	})
}
