package query

import (
	"bytes"
	"encoding/base64"
	"testing"
)

var base64Seeds = []string{"", "A", "AA", "AAA", "AAAA", "AB", "AB==", "AB=", "_-", "Zg", "Zh", "Zm8", "Zm9", "Zm9v", "Zm9vYg", "Zm9v\nYmFy", "Zm9v\r\nYg", "\n", "Zm9v YmFy", "Zm9v+/", "Wy", "WyIw"}

// FuzzBase64URL: the cursor's base64 is encoding/base64's RawURLEncoding,
// both ways.
func FuzzBase64URL(f *testing.F) {
	for _, s := range base64Seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if got, want := encodeBase64URL(b), base64.RawURLEncoding.EncodeToString(b); got != want {
			t.Fatalf("encode %q: %q, want %q", b, got, want)
		}
		want, err := base64.RawURLEncoding.DecodeString(string(b))
		got, ok := decodeBase64URL(string(b))
		if ok != (err == nil) || ok && !bytes.Equal(got, want) {
			t.Fatalf("decode %q: %q, %v; want %q, %v", b, got, ok, want, err)
		}
	})
}
