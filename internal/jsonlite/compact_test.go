package jsonlite

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"
)

var compactSeeds = []string{`1`, `null`, ` { "a" : [ 1 , "x y" , true ] } `, "\"<a href='x'>&amp;</a>\"", "[\"\u2028\u2029\", \"\\\"<\\\\>\"]",
	"{\"\\u003c\":\"\xe2\x80\xa8 \t\"}", "\n[\r\n\t]\n", `"\\"`}

// checkCompact holds AppendCompact and CompactTail to json.Marshal of a
// RawMessage, for valid JSON texts.
func checkCompact(t *testing.T, src []byte) {
	if !json.Valid(src) {
		return
	}
	want, err := json.Marshal(json.RawMessage(src))
	require.NoError(t, err)
	require.Equal(t, string(want), string(AppendCompact([]byte("x"), src)[1:]), "%q", src)
	dst := append([]byte("prefix"), src...)
	require.Equal(t, "prefix"+string(want), string(CompactTail(dst, len("prefix"))), "%q", src)
}

func TestAppendCompactMatchesEncodingJSON(t *testing.T) {
	for _, s := range compactSeeds {
		checkCompact(t, []byte(s))
	}
}

func FuzzAppendCompact(f *testing.F) {
	for _, s := range compactSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(checkCompact)
}
