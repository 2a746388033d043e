package pg

import (
	"github.com/triplesync/triplesync/store"
)

// closure returns what the steps read or wrote without it being loaded,
// given the snapshot loaded (before) and how many steps applied (all of
// them, or those ahead of the failing one): empty when Apply's result on
// the partial snapshot is exactly what it would be on the whole database.
//
// The steps are replayed one by one, since a batch can read and write
// rows that its end result no longer shows (a value taken and let go, an
// entity cascaded away and written again). After each step, on the
// entities it touched (see touched):
//
//   - every triple added or removed belongs to an entity loaded whole,
//     and every link added or removed points at a locked entity;
//   - every value of a unique attribute added has its holder looked up
//     and settled (see pairState);
//   - every entity left with no triples in a namespace it had triples in
//     (deleted, perhaps by a cascade) has the links into it loaded.
//
// And for every step, the failing one included: each lookup's value has
// its holder settled and its candidate (the entity it creates when nobody
// holds the value) loaded whole; the failing step's value of a unique
// attribute has its holder settled.
//
// The replay applies each step alone with mode create read as upsert
// (create allows writing to an entity the batch created earlier, which a
// lone step cannot know); that changes which step fails, never what a
// step that succeeds in the batch does.
func (w *work) closure(before *store.Snapshot, applied int) *needs {
	n := newNeeds()
	settle := func(a store.AttrID, v store.Value) {
		p := pairKey{a, v.String()}
		st, ok := w.pairs[p]
		switch {
		case !ok:
			n.pairs[p] = true
		case !st.confirmed:
			n.pairs[p] = true
			n.full[st.holder] = true
		}
	}
	loadWhole := func(e store.EntityID) {
		if _, ok := w.full[e]; !ok {
			n.full[e] = true
		}
	}
	lookups := func(cur *store.Snapshot, st *store.Step) {
		for _, l := range []*store.LookupRef{st.Lookup, st.ValueLookup} {
			if la, v, ok := lookupValue(cur, l); ok {
				settle(la.ID, v)
				loadWhole(candidate(la, v))
			}
		}
	}

	cur := before
	for i := 0; i < applied; i++ {
		st := w.req.Steps[i]
		if st.Mode == store.ModeCreate {
			st.Mode = store.ModeUpsert
		}
		lookups(cur, &st)
		es := touched(cur, &st)
		next, err := cur.Apply([]store.Step{st}, w.req.Now)
		if err != nil {
			break // cannot happen to a step the batch applied
		}
		ca, na := cur.Attrs(), next.Attrs()
		for _, e := range es {
			removed, added := entityDiff(cur, next, e)
			for _, t := range removed {
				loadWhole(t.E)
				a, _ := ca.ByID(t.A)
				w.lockTarget(n, t, a)
				if cur.InNamespace(t.E, a.Namespace) && !next.InNamespace(t.E, a.Namespace) && !w.targets[t.E] {
					n.targets[t.E] = true
				}
			}
			for _, t := range added {
				loadWhole(t.E)
				a, _ := na.ByID(t.A)
				w.lockTarget(n, t, a)
				if a.Unique {
					settle(t.A, t.V)
				}
			}
		}
		cur = next
	}
	if applied < len(w.req.Steps) {
		st := &w.req.Steps[applied]
		lookups(cur, st)
		if a, v, ok := writtenValue(cur, st); ok && a.Unique {
			settle(a.ID, v)
		}
	}
	return n
}

// lockTarget asks for the lock of the entity a link points at.
func (w *work) lockTarget(n *needs, t store.Triple, a *store.Attr) {
	if a == nil || !a.IsRef() {
		return
	}
	if x, ok := t.V.AsEntityID(); ok && !w.locked[x] {
		n.lock[x] = true
	}
}

// lookupValue returns l's attribute in s and l's value as the attribute
// holds it; ok is false when Apply refuses the lookup before reading.
func lookupValue(s *store.Snapshot, l *store.LookupRef) (*store.Attr, store.Value, bool) {
	if l == nil {
		return nil, store.Value{}, false
	}
	la, ok := s.Attrs().ByID(l.A)
	if !ok || !la.Unique {
		return nil, store.Value{}, false
	}
	v, err := la.Check(l.V)
	return la, v, err == nil
}

// candidate is the entity a lookup creates when nobody holds v.
func candidate(la *store.Attr, v store.Value) store.EntityID {
	if la.Label == store.IDLabel {
		id, _ := v.AsEntityID()
		return id
	}
	return store.LookupEntityID(la.ID, v)
}

// resolve returns the entity l addresses in s: its holder, or else the
// entity a lookup that creates would make.
func resolve(s *store.Snapshot, l *store.LookupRef) (store.EntityID, bool) {
	la, v, ok := lookupValue(s, l)
	if !ok {
		return store.EntityID{}, false
	}
	if h, ok := holder(s, la.ID, v); ok {
		return h, true
	}
	return candidate(la, v), true
}

func holder(s *store.Snapshot, a store.AttrID, v store.Value) (e store.EntityID, found bool) {
	s.ScanAttrValues(a, store.Exactly(v), false, func(t store.Triple) bool {
		e, found = t.E, true
		return false
	})
	return e, found
}

// touched returns the entities whose triples st can change on s: the
// entity it addresses and the one its value lookup addresses (either may
// be created); for delete-entity, every entity the cascade reaches and
// every entity holding a link into one of them; for update-attr and
// delete-attr, every entity holding the attribute.
func touched(s *store.Snapshot, st *store.Step) []store.EntityID {
	var out []store.EntityID
	entity := func() (store.EntityID, bool) {
		if st.Lookup != nil {
			return resolve(s, st.Lookup)
		}
		return st.E, !st.E.IsZero()
	}
	switch st.Op {
	case store.OpAddTriple, store.OpDeepMergeTriple, store.OpRetractTriple:
		if e, ok := entity(); ok {
			out = append(out, e)
		}
		if st.ValueLookup != nil {
			if e, ok := resolve(s, st.ValueLookup); ok {
				out = append(out, e)
			}
		}
	case store.OpDeleteEntity:
		e, ok := entity()
		if !ok {
			return nil
		}
		// Store.Apply's traversal: the entity's triples of the namespace,
		// the links into the namespace pointing at it, and the sources of
		// cascading links, each (namespace, entity) once.
		attrs := s.Attrs()
		queue := []nsEntity{{st.Namespace, e}}
		seen := map[nsEntity]bool{}
		for len(queue) > 0 {
			cur := queue[len(queue)-1]
			queue = queue[:len(queue)-1]
			if seen[cur] {
				continue
			}
			seen[cur] = true
			out = append(out, cur.e)
			s.ScanRefs(cur.e, store.AttrID{}, func(t store.Triple) bool {
				if a, ok := attrs.ByID(t.A); ok && a.RefNamespace == cur.ns {
					out = append(out, t.E)
					if a.OnDeleteCascade {
						queue = append(queue, nsEntity{a.Namespace, t.E})
					}
				}
				return true
			})
		}
	case store.OpUpdateAttr, store.OpDeleteAttr:
		a := st.A
		if st.Op == store.OpUpdateAttr {
			a = st.Attr.ID
		}
		s.ScanAttr(a, func(t store.Triple) bool {
			out = append(out, t.E)
			return true
		})
	}
	return out
}

// writtenValue returns the attribute and value st writes on s, when it is
// a write: what a failing step wrote or tried to.
func writtenValue(s *store.Snapshot, st *store.Step) (*store.Attr, store.Value, bool) {
	if st.Op != store.OpAddTriple && st.Op != store.OpDeepMergeTriple {
		return nil, store.Value{}, false
	}
	a, ok := s.Attrs().ByID(st.A)
	if !ok {
		return nil, store.Value{}, false
	}
	v := st.V
	if st.ValueLookup != nil {
		e, ok := resolve(s, st.ValueLookup)
		if !ok {
			return nil, store.Value{}, false
		}
		v = store.Ref(e)
	}
	if st.Op == store.OpDeepMergeTriple {
		e, ok := st.E, !st.E.IsZero()
		if st.Lookup != nil {
			e, ok = resolve(s, st.Lookup)
		}
		if !ok {
			return nil, store.Value{}, false
		}
		var cur store.Value
		s.ScanEntity(e, a.ID, func(t store.Triple) bool {
			cur = t.V
			return false
		})
		var err error
		if v, err = store.MergeValues(cur, v); err != nil {
			return nil, store.Value{}, false
		}
	}
	v, err := a.Check(v)
	return a, v, err == nil
}

// entityDiff returns e's triples in before and not after, and the reverse.
func entityDiff(before, after *store.Snapshot, e store.EntityID) (removed, added []store.Triple) {
	old := map[store.TripleKey]bool{}
	before.ScanEntity(e, store.AttrID{}, func(t store.Triple) bool {
		old[t.Key()] = true
		return true
	})
	after.ScanEntity(e, store.AttrID{}, func(t store.Triple) bool {
		if old[t.Key()] {
			delete(old, t.Key())
		} else {
			added = append(added, t)
		}
		return true
	})
	before.ScanEntity(e, store.AttrID{}, func(t store.Triple) bool {
		if old[t.Key()] {
			removed = append(removed, t)
		}
		return true
	})
	return removed, added
}
