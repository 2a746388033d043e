package pg

import (
	"cmp"
	"slices"

	"github.com/triplesync/triplesync/store"
)

// checks returns the WriteChecks of the attempt (see [WriteCheck]), sorted
// by namespace, entity, then create/update/delete before links, links by
// label and target.
func (w *work) checks() []WriteCheck {
	type group struct {
		ns      string
		e       store.EntityID
		values  bool           // a value that is not a link changed
		links   []store.Triple // links added
		unlinks []store.Triple // links removed
	}
	groups := map[nsEntity]*group{}
	ba, aa := w.before.Attrs(), w.after.Attrs()
	touch := func(t store.Triple, a *store.Attr, added bool) {
		if _, ok := w.full[t.E]; !ok {
			return // a bulk attribute's triple: a schema change
		}
		k := nsEntity{a.Namespace, t.E}
		g := groups[k]
		if g == nil {
			g = &group{ns: a.Namespace, e: t.E}
			groups[k] = g
		}
		switch {
		case !a.IsRef():
			g.values = true
		case added:
			g.links = append(g.links, t)
		default:
			g.unlinks = append(g.unlinks, t)
		}
	}
	d := diffOf(w.before, w.after)
	for _, t := range d.removed {
		a, _ := ba.ByID(t.A)
		touch(t, a, false)
	}
	for _, t := range d.added {
		a, _ := aa.ByID(t.A)
		touch(t, a, true)
	}

	var out []WriteCheck
	for _, g := range groups {
		before := entityMap(w.before, g.e, g.ns)
		after := entityMap(w.after, g.e, g.ns)
		base := WriteCheck{Namespace: g.ns, Entity: g.e, Before: before, After: after}
		switch {
		case before == nil:
			base.Action = ActionCreate
			out = append(out, base)
			continue
		case after == nil:
			base.Action = ActionDelete
			out = append(out, base)
			continue
		case g.values:
			base.Action = ActionUpdate
			out = append(out, base)
		}
		for _, l := range []struct {
			action string
			ts     []store.Triple
		}{{ActionLink, g.links}, {ActionUnlink, g.unlinks}} {
			for _, t := range l.ts {
				c := base
				c.Action = l.action
				a, ok := aa.ByID(t.A)
				if !ok {
					a, _ = ba.ByID(t.A)
				}
				c.Label = a.Label
				c.Target, _ = t.V.AsEntityID()
				out = append(out, c)
			}
		}
	}
	rank := map[string]int{ActionCreate: 0, ActionUpdate: 0, ActionDelete: 0, ActionLink: 1, ActionUnlink: 2}
	slices.SortFunc(out, func(x, y WriteCheck) int {
		return cmp.Or(cmp.Compare(x.Namespace, y.Namespace), x.Entity.Compare(y.Entity), cmp.Compare(rank[x.Action], rank[y.Action]),
			cmp.Compare(x.Label, y.Label), x.Target.Compare(y.Target))
	})
	return out
}

type nsEntity struct {
	ns string
	e  store.EntityID
}

// entityMap returns e's attributes of namespace ns in s as {label: value}
// with "id", or nil when e has no triple there.
func entityMap(s *store.Snapshot, e store.EntityID, ns string) map[string]any {
	attrs := s.Attrs()
	var m map[string]any
	var last *store.Attr
	var vals []any
	flush := func() {
		if last == nil {
			return
		}
		if last.Cardinality == store.CardinalityOne && len(vals) == 1 {
			m[last.Label] = vals[0]
		} else {
			m[last.Label] = vals
		}
	}
	s.ScanEntity(e, store.AttrID{}, func(t store.Triple) bool {
		a, ok := attrs.ByID(t.A)
		if !ok || a.Namespace != ns {
			return true
		}
		if m == nil {
			m = map[string]any{}
		}
		if a != last {
			flush()
			last, vals = a, nil
		}
		vals = append(vals, t.V.Any()) // in value order: EAV
		return true
	})
	if m == nil {
		return nil
	}
	flush()
	m[store.IDLabel] = e.String()
	return m
}
