package filestore

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// FuzzEscape: every key becomes a plain file name that names no other
// directory and no temporary file, and comes back unchanged.
func FuzzEscape(f *testing.F) {
	for _, s := range []string{"attrs", "q0123abcd", "../x", ".tmp-y", "", "%41", "é/\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, key string) {
		name := escape(key)
		require.NotEmpty(t, name)
		require.False(t, strings.ContainsAny(name, `/\.`+"\x00"), "escape(%q) = %q", key, name)
		require.False(t, strings.HasPrefix(name, tmpPrefix))
		back, err := unescape(name)
		require.NoError(t, err)
		require.Equal(t, key, back)
		_, _ = unescape(key) // never panics on names it did not make
	})
}
