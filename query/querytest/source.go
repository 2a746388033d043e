package querytest

import (
	"fmt"
	"slices"

	"github.com/triplesync/triplesync/query"
	"github.com/triplesync/triplesync/store"
)

// SliceSource is the reference [query.Source]: it answers every scan by
// filtering and sorting a slice of triples, straight from the contract's
// wording. It is slow and obviously right; the contract suite compares
// other sources with it.
type SliceSource struct {
	Attrs   *store.Attrs
	Triples []store.Triple
	// Calls counts the Scan calls (stages) made.
	Calls int
}

var _ query.Source = (*SliceSource)(nil)

// Scan implements [query.Source].
func (s *SliceSource) Scan(scans []query.Scan) ([][]store.Triple, error) {
	s.Calls++
	out := make([][]store.Triple, len(scans))
	for i := range scans {
		sc := &scans[i]
		if err := sc.Validate(); err != nil {
			return nil, err
		}
		if sc.Index == query.VAE {
			if a, ok := s.Attrs.ByID(sc.A); !ok || !a.IsRef() {
				return nil, fmt.Errorf("%w: vae needs a ref attribute", query.ErrBadScan)
			}
		}
		var ts []store.Triple
		for _, t := range s.Triples {
			if !sc.Selects(t) {
				continue
			}
			if sc.After != nil && sc.Compare(t, store.Triple{E: sc.After.E, A: sc.After.A, V: sc.After.V}) <= 0 {
				continue
			}
			ts = append(ts, t)
		}
		slices.SortFunc(ts, sc.Compare)
		if sc.Limit > 0 && len(ts) > sc.Limit {
			ts = ts[:sc.Limit]
		}
		out[i] = ts
	}
	return out, nil
}
