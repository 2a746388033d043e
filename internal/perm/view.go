package perm

import (
	"slices"

	"github.com/triplesync/triplesync/query"
	"github.com/triplesync/triplesync/store"
)

// ViewSource wraps src so that every answer holds only triples of entities
// that a may view under r: the query engine never sees a row the user may
// not read, so neither a result, nor its justifying triples, nor a delta
// computed from them can carry one, and pages are filled from visible rows
// only (the client, which holds exactly the visible triples, pages the same
// way).
//
// A triple belongs to the entity in its E position, in its attribute's
// namespace. Deciding an entity's view rule needs its attributes, so for
// every stage the wrapper makes at most one extra EAV scan for the entities
// it has not decided yet (none when the rule needs no data: an admin, or no
// rule in DefaultAllow mode). Decisions are kept for the wrapper's life,
// which is one evaluation: bind a new one per evaluation.
func ViewSource(src query.Source, attrs *store.Attrs, r *Rules, a Auth) query.Source {
	return &viewSource{src: src, attrs: attrs, rules: r, auth: a, visible: map[nsEntity]bool{}}
}

type nsEntity struct {
	ns string
	e  store.EntityID
}

type viewSource struct {
	src     query.Source
	attrs   *store.Attrs
	rules   *Rules
	auth    Auth
	visible map[nsEntity]bool
}

// needsCheck reports whether entities of ns must be looked at one by one.
func (v *viewSource) needsCheck(ns string) bool {
	if v.auth.Admin {
		return false
	}
	return v.rules.HasRule(ns, View) || !v.rules.DefaultAllow()
}

func (v *viewSource) Scan(scans []query.Scan) ([][]store.Triple, error) {
	out, err := v.src.Scan(scans)
	if err != nil {
		return nil, err
	}
	if err := v.decide(out); err != nil {
		return nil, err
	}
	for i := range out {
		raw := out[i]
		full := scans[i].Limit > 0 && len(raw) == scans[i].Limit
		var last *store.TripleKey
		if len(raw) > 0 {
			last = keyOf(raw[len(raw)-1])
		}
		out[i] = v.filter(raw)
		if full && len(out[i]) < scans[i].Limit {
			if out[i], err = v.refill(scans[i], out[i], last); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}

// refill tops up a limited scan whose answer lost rows to filtering, reading
// on from the last row the source returned (last) until the page is full or
// the source runs out.
func (v *viewSource) refill(s query.Scan, kept []store.Triple, last *store.TripleKey) ([]store.Triple, error) {
	for {
		next := s
		next.After = last
		more, err := v.src.Scan([]query.Scan{next})
		if err != nil {
			return nil, err
		}
		if err := v.decide(more); err != nil {
			return nil, err
		}
		got := more[0]
		if len(got) > 0 {
			last = keyOf(got[len(got)-1])
		}
		exhausted := len(got) < s.Limit
		kept = append(kept, v.filter(got)...)
		if len(kept) >= s.Limit {
			return kept[:s.Limit], nil
		}
		if exhausted {
			return kept, nil
		}
	}
}

func keyOf(t store.Triple) *store.TripleKey {
	k := t.Key()
	return &k
}

func (v *viewSource) filter(ts []store.Triple) []store.Triple {
	n := 0
	for _, t := range ts {
		if v.allowed(t) {
			ts[n] = t
			n++
		}
	}
	return ts[:n]
}

func (v *viewSource) allowed(t store.Triple) bool {
	at, ok := v.attrs.ByID(t.A)
	if !ok {
		return false // an attribute the registry does not know is not served
	}
	if !v.needsCheck(at.Namespace) {
		return true
	}
	return v.visible[nsEntity{at.Namespace, t.E}]
}

// decide evaluates the view rule of every entity in answers not decided yet,
// reading their attributes with one EAV scan.
func (v *viewSource) decide(answers [][]store.Triple) error {
	var pending []nsEntity
	seen := map[nsEntity]bool{}
	for _, ts := range answers {
		for _, t := range ts {
			at, ok := v.attrs.ByID(t.A)
			if !ok || !v.needsCheck(at.Namespace) {
				continue
			}
			k := nsEntity{at.Namespace, t.E}
			if _, done := v.visible[k]; done || seen[k] {
				continue
			}
			seen[k] = true
			pending = append(pending, k)
		}
	}
	if len(pending) == 0 {
		return nil
	}
	ids := make([]store.EntityID, 0, len(pending))
	for _, k := range pending {
		ids = append(ids, k.e)
	}
	slices.SortFunc(ids, store.EntityID.Compare)
	ids = slices.Compact(ids)
	res, err := v.src.Scan([]query.Scan{{Index: query.EAV, E: ids}})
	if err != nil {
		return err
	}
	data := map[nsEntity]map[string]any{}
	for _, t := range res[0] {
		at, ok := v.attrs.ByID(t.A)
		if !ok {
			continue
		}
		k := nsEntity{at.Namespace, t.E}
		m := data[k]
		if m == nil {
			m = map[string]any{}
			data[k] = m
		}
		if at.Cardinality == store.CardinalityMany {
			l, _ := m[at.Label].([]any)
			m[at.Label] = append(l, t.V.Any())
		} else {
			m[at.Label] = t.V.Any()
		}
	}
	for _, k := range pending {
		m := data[k]
		if m == nil {
			m = map[string]any{}
		}
		m["id"] = k.e.String()
		v.visible[k] = v.rules.Allow(v.auth, k.ns, View, m, nil) == nil
	}
	return nil
}
