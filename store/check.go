package store

import "fmt"

// CheckInvariants verifies what every snapshot must satisfy and returns an
// error wrapping [ErrBrokenInvariant] for the first breach it finds:
//   - EAV and AEV hold the same triples (same CreatedAt too);
//   - AVE holds exactly the triples of unique or indexed attributes, VAE
//     exactly those of ref attributes;
//   - every triple's attribute exists and its value is as [Attr.Check]
//     leaves it; an id triple holds its own entity's id;
//   - an entity has at most one value of a cardinality-one attribute, and a
//     value of a unique attribute has at most one entity.
//
// It reads every triple several times: it is for tests (this package's and
// others', after every mutation), not for production paths.
func (s *Snapshot) CheckInvariants() error {
	broken := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", ErrBrokenInvariant, fmt.Sprintf(format, args...))
	}
	ix := &s.ix
	if ix.eav.Len() != ix.aev.Len() {
		return broken("eav has %d triples, aev %d", ix.eav.Len(), ix.aev.Len())
	}
	var err error
	nAVE, nVAE := 0, 0
	var prev Triple
	first := true
	scan(ix.eav, func(t Triple) bool {
		a, ok := s.attrs.ByID(t.A)
		if !ok {
			err = broken("%s: unknown attribute", t)
			return false
		}
		if v, cerr := a.Check(t.V); cerr != nil || v != t.V {
			err = broken("%s: value not as %s.%s holds it (%v)", t, a.Namespace, a.Label, cerr)
			return false
		}
		if a.Label == IDLabel && t.V != Ref(t.E) {
			err = broken("%s: id triple of another entity", t)
			return false
		}
		if !first && prev.E == t.E && prev.A == t.A && a.Cardinality == CardinalityOne {
			err = broken("%s and %s: two values of cardinality-one %s.%s", prev, t, a.Namespace, a.Label)
			return false
		}
		first, prev = false, t
		flags := a.Flags()
		for _, x := range []struct {
			name   string
			tr     *tree
			member bool
		}{
			{"aev", ix.aev, true},
			{"ave", ix.ave, flags&FlagAVE != 0},
			{"vae", ix.vae, flags&FlagVAE != 0},
		} {
			got, ok := get(x.tr, t)
			switch {
			case ok != x.member:
				err = broken("%s: in %s is %v, want %v", t, x.name, ok, x.member)
			case ok && got.CreatedAt != t.CreatedAt:
				err = broken("%s: created at %d in eav, %d in %s", t, t.CreatedAt, got.CreatedAt, x.name)
			}
			if err != nil {
				return false
			}
		}
		if flags&FlagAVE != 0 {
			nAVE++
		}
		if flags&FlagVAE != 0 {
			nVAE++
		}
		return true
	})
	if err != nil {
		return err
	}
	if ix.ave.Len() != nAVE || ix.vae.Len() != nVAE {
		return broken("ave has %d triples, want %d; vae has %d, want %d", ix.ave.Len(), nAVE, ix.vae.Len(), nVAE)
	}
	first = true
	scan(ix.ave, func(t Triple) bool {
		if !first && prev.A == t.A && prev.V == t.V {
			if a, _ := s.attrs.ByID(t.A); a != nil && a.Unique {
				err = broken("%s and %s: two entities hold unique %s.%s", prev, t, a.Namespace, a.Label)
				return false
			}
		}
		first, prev = false, t
		return true
	})
	return err
}
