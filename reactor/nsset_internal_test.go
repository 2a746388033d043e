package reactor

import (
	"math/rand/v2"
	"testing"
)

// TestNSSetIntersects checks intersects (with its one-namespace shortcut)
// against comparing the sets' members.
func TestNSSetIntersects(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 1))
	names := []string{"a", "b", "c", "d"}
	set := func() (nsSet, map[string]bool) {
		var s nsSet
		m := map[string]bool{}
		for range r.IntN(4) {
			n := names[r.IntN(len(names))]
			s.add(n)
			m[n] = true
		}
		return s, m
	}
	for range 2000 {
		s, ms := set()
		o, mo := set()
		want := false
		for n := range ms {
			want = want || mo[n]
		}
		if got := s.intersects(&o); got != want {
			t.Fatalf("%v ∩ %v: got %v", ms, mo, got)
		}
	}
}
