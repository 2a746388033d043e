package jsonlite

import (
	"maps"
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"
)

func TestSortStrings(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for n := range 200 {
		for range 5 {
			a := make([]string, n)
			for i := range a {
				a[i] = strconv.Itoa(r.IntN(n + 1)) // duplicates
			}
			want := slices.Sorted(slices.Values(a))
			SortStrings(a)
			if !slices.Equal(a, want) {
				t.Fatalf("SortStrings of %d: %q, want %q", n, a, want)
			}
		}
	}
}

func TestSortedKeys(t *testing.T) {
	for _, m := range []map[string]int{nil, {}, {"b": 1, "a": 2, "c": 3}} {
		if got, want := SortedKeys(m), slices.Sorted(maps.Keys(m)); !slices.Equal(got, want) || (got == nil) != (want == nil) {
			t.Errorf("SortedKeys(%v) = %#v, want %#v", m, got, want)
		}
	}
}

func FuzzSortStrings(f *testing.F) {
	f.Add([]byte("hello, world: the quick brown fox"))
	f.Fuzz(func(t *testing.T, b []byte) {
		var a []string
		for i := 0; i+1 < len(b); i += 2 {
			a = append(a, string(b[i:i+1+int(b[i+1])%2]))
		}
		want := slices.Sorted(slices.Values(a))
		SortStrings(a)
		if !slices.Equal(a, want) {
			t.Fatalf("got %q, want %q", a, want)
		}
	})
}
