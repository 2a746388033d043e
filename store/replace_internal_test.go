package store

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// checkOrder reports the first place a tree of s is out of its order.
func checkOrder(t *testing.T, s *Snapshot) {
	t.Helper()
	for _, x := range []struct {
		name string
		tr   *tree
		cmp  func(a, b *Triple) int
	}{{"eav", s.ix.eav, cmpEAV}, {"aev", s.ix.aev, cmpAEV}, {"ave", s.ix.ave, cmpAVE}, {"vae", s.ix.vae, cmpVAE}} {
		var prev *Triple
		x.tr.Scan(func(p *Triple) bool {
			if prev != nil && x.cmp(prev, p) >= 0 {
				t.Fatalf("%s out of order: %v then %v", x.name, *prev, *p)
			}
			prev = p
			return true
		})
	}
}

// TestReplaceInPlace writes new values of cardinality-one attributes
// (indexed, plain, links) all over a store of many B-tree nodes, whose
// items sit in branch nodes too: replaceHint puts the new triple in the
// old one's slot of EAV and AEV, which must leave every tree in order,
// the indexes in step, and the snapshot written from untouched.
func TestReplaceInPlace(t *testing.T) {
	id := func(hi, n int) EntityID { return EntityID{byte(hi), byte(n >> 8), byte(n), 6: 0x40, 8: 0x80} }
	attrs := MustNewAttrs(
		Attr{ID: id(0xa0, 1), Namespace: "users", Label: "id", Type: TypeString, Unique: true, Indexed: true},
		Attr{ID: id(0xa0, 2), Namespace: "users", Label: "age", Type: TypeNumber, Indexed: true},
		Attr{ID: id(0xa0, 3), Namespace: "users", Label: "name", Type: TypeString},
		Attr{ID: id(0xa0, 4), Namespace: "users", Label: "best", Type: TypeRef, RefNamespace: "users", ReverseLabel: "bestOf"},
	)
	age, name, best := id(0xa0, 2), id(0xa0, 3), id(0xa0, 4)
	r := rand.New(rand.NewPCG(3, 4))
	const n = 2000
	user := func() EntityID { return id(0x10+r.IntN(4), r.IntN(n)) }
	var steps []Step
	for i := range n {
		u := id(0x10+i%4, i)
		steps = append(steps,
			Step{Op: OpAddTriple, E: u, A: age, V: Number(float64(r.IntN(50)))},
			Step{Op: OpAddTriple, E: u, A: name, V: String(string(rune('a' + r.IntN(26))))})
	}
	s, err := NewSnapshot(attrs).Apply(steps, 1)
	if err != nil {
		t.Fatal(err)
	}
	for round := range 20 {
		steps = steps[:0]
		for range 100 {
			u := user()
			switch r.IntN(4) {
			case 0:
				steps = append(steps, Step{Op: OpAddTriple, E: u, A: age, V: Number(float64(r.IntN(50)))})
			case 1:
				steps = append(steps, Step{Op: OpAddTriple, E: u, A: name, V: String(string(rune('a' + r.IntN(26))))})
			case 2:
				steps = append(steps, Step{Op: OpAddTriple, E: u, A: best, V: Ref(user())})
			default:
				steps = append(steps, Step{Op: OpDeepMergeTriple, E: u, A: name, V: String("m")})
			}
		}
		before := s.Triples()
		next, err := s.Apply(steps, int64(round+2))
		if err != nil {
			t.Fatal(err)
		}
		checkOrder(t, next)
		if err := next.CheckInvariants(); err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		if !slices.Equal(before, s.Triples()) {
			t.Fatalf("round %d: the snapshot written from changed", round)
		}
		checkOrder(t, s)
		s = next
	}
	if s.ix.eav.Height() < 2 {
		t.Fatalf("a tree of height %d has no branch nodes", s.ix.eav.Height())
	}
}
