package store

import "strconv"

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
	broken := func(msg string) error { return wrapErr(ErrBrokenInvariant, msg) }
	ix := &s.ix
	if ix.eav.Len() != ix.aev.Len() {
		return broken("eav has " + strconv.Itoa(ix.eav.Len()) + " triples, aev " + strconv.Itoa(ix.aev.Len()))
	}
	var err error
	nAVE, nVAE := 0, 0
	var prev Triple
	first := true
	scan(ix.eav, func(t Triple) bool {
		a, ok := s.attrs.ByID(t.A)
		if !ok {
			err = broken(t.String() + ": unknown attribute")
			return false
		}
		if v, cerr := a.Check(t.V); cerr != nil || v != t.V {
			err = broken(t.String() + ": value not as " + a.Namespace + "." + a.Label + " holds it (" + errText(cerr) + ")")
			return false
		}
		if a.Label == IDLabel && t.V != Ref(t.E) {
			err = broken(t.String() + ": id triple of another entity")
			return false
		}
		if !first && prev.E == t.E && prev.A == t.A && a.Cardinality == CardinalityOne {
			err = broken(prev.String() + " and " + t.String() + ": two values of cardinality-one " + a.Namespace + "." + a.Label)
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
				err = broken(t.String() + ": in " + x.name + " is " + strconv.FormatBool(ok) + ", want " + strconv.FormatBool(x.member))
			case ok && got.CreatedAt != t.CreatedAt:
				err = broken(t.String() + ": created at " + strconv.FormatInt(t.CreatedAt, 10) + " in eav, " + strconv.FormatInt(got.CreatedAt, 10) + " in " + x.name)
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
		return broken("ave has " + strconv.Itoa(ix.ave.Len()) + " triples, want " + strconv.Itoa(nAVE) + "; vae has " + strconv.Itoa(ix.vae.Len()) + ", want " + strconv.Itoa(nVAE))
	}
	first = true
	scan(ix.ave, func(t Triple) bool {
		if !first && prev.A == t.A && prev.V == t.V {
			if a, _ := s.attrs.ByID(t.A); a != nil && a.Unique {
				err = broken(prev.String() + " and " + t.String() + ": two entities hold unique " + a.Namespace + "." + a.Label)
				return false
			}
		}
		first, prev = false, t
		return true
	})
	return err
}
