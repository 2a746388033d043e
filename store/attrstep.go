package store

import "github.com/triplesync/triplesync/internal/errs"

// addAttr applies add-attr.
func (b *batch) addAttr(a Attr) error {
	if err := a.Validate(); err != nil {
		return err
	}
	if old, ok := b.attrs.ByID(a.ID); ok {
		if *old == a {
			return nil // a replayed add-attr
		}
		return wrapErr(ErrInvalidAttr, "attribute "+a.ID.String()+" exists as "+old.Namespace+"."+old.Label)
	}
	next, err := b.attrs.with(a)
	if err != nil {
		return err
	}
	b.attrs = next
	return nil
}

// updateAttr applies update-attr: the definition a replaces the one with
// its id, and the attribute's triples are re-checked and re-indexed when the
// change affects their values or indexes.
func (b *batch) updateAttr(a Attr) error {
	if err := a.Validate(); err != nil {
		return err
	}
	old, ok := b.attrs.ByID(a.ID)
	if !ok {
		return wrapErr(ErrUnknownAttr, a.ID.String())
	}
	next, err := b.attrs.with(a)
	if err != nil {
		return err
	}
	if old.Type != a.Type || old.Cardinality != a.Cardinality || old.Unique != a.Unique || old.Indexed != a.Indexed ||
		(old.Label == IDLabel) != (a.Label == IDLabel) {
		if err := b.reindex(old, &a); err != nil {
			return err
		}
	}
	b.attrs = next
	return nil
}

// reindex re-checks the triples of old against the new definition and moves
// them to the indexes its flags name.
func (b *batch) reindex(old, a *Attr) error {
	var ts []Triple
	ascend(b.ix.aev, Triple{A: old.ID}, func(t Triple) bool {
		if t.A != old.ID {
			return false
		}
		ts = append(ts, t)
		return true
	})
	next := make([]Triple, 0, len(ts))
	seen := make(map[TripleKey]bool, len(ts))
	perEntity := map[EntityID]int{}
	holder := map[Value]EntityID{}
	for _, t := range ts {
		v, err := a.Check(t.V)
		if err != nil {
			return errs.Wrap("update-attr "+a.Namespace+"."+a.Label, err)
		}
		if a.Label == IDLabel && v != Ref(t.E) {
			return wrapErr(ErrWrongType, "update-attr "+a.Namespace+".id: "+t.E.String()+" holds "+v.String())
		}
		n := Triple{E: t.E, A: t.A, V: v, CreatedAt: t.CreatedAt}
		if seen[n.Key()] {
			continue // two values the new type normalises to one
		}
		seen[n.Key()] = true
		if perEntity[t.E]++; a.Cardinality == CardinalityOne && perEntity[t.E] > 1 {
			return wrapErr(ErrCardinality, "update-attr "+a.Namespace+"."+a.Label+": "+t.E.String()+" has several values")
		}
		if h, dup := holder[v]; a.Unique && dup && h != t.E {
			return wrapErr(ErrUniqueViolation, "update-attr "+a.Namespace+"."+a.Label+": "+h.String()+" and "+t.E.String()+" both hold "+v.String())
		}
		holder[v] = t.E
		next = append(next, n)
	}
	oldFlags, newFlags := old.Flags(), a.Flags()
	for _, t := range ts {
		b.ix.remove(t, oldFlags)
	}
	for _, t := range next {
		b.ix.insert(t, newFlags)
	}
	return nil
}

// deleteAttr applies delete-attr.
func (b *batch) deleteAttr(id AttrID) error {
	a, ok := b.attrs.ByID(id)
	if !ok {
		return nil // already gone: a replayed delete
	}
	var ts []Triple
	ascend(b.ix.aev, Triple{A: id}, func(t Triple) bool {
		if t.A != id {
			return false
		}
		ts = append(ts, t)
		return true
	})
	flags := a.Flags()
	for _, t := range ts {
		b.ix.remove(t, flags)
	}
	b.attrs = b.attrs.without(id)
	return nil
}
