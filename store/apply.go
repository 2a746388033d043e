package store

import "strconv"

// Apply applies steps in order, atomically, and returns the resulting
// snapshot. If any step fails, Apply returns nil and a *[StepError] naming
// it, and nothing of the batch takes effect; the receiver is never changed
// either way. now (ms since the epoch) is the CreatedAt of every triple the
// batch adds.
//
// Triple steps (add-triple, deep-merge-triple, retract-triple):
//   - The attribute must exist ([ErrUnknownAttr]); values are checked and
//     normalised by [Attr.Check] ([ErrWrongType]).
//   - An entity exists in a namespace when it holds any triple of an
//     attribute of that namespace (its ns.id triple or any other). Mode
//     create fails with [ErrExists] if the entity existed in the attribute's
//     namespace before the batch (so one batch can create an entity with
//     several steps); mode update fails with [ErrNotFound] if it does not
//     exist; upsert, the default, does either.
//   - Cardinality one replaces the entity's value; cardinality many adds to
//     its set. Writing the value an entity already holds changes nothing,
//     so its CreatedAt is kept.
//   - A unique attribute fails with [ErrUniqueViolation] when another entity
//     holds the value.
//   - Writing any attribute of a namespace that has an id attribute also
//     writes the entity's id triple, if missing: the id triples are how a
//     namespace lists its entities.
//   - deep-merge-triple merges the JSON patch into the current value
//     ([MergeValues]; null deletes a key) and keeps the triple's CreatedAt;
//     it is for cardinality-one attributes that are not links.
//   - retract-triple removes one triple; retracting an absent one is a
//     no-op, so replays are harmless.
//
// Lookups ([LookupRef]) are resolved through the AVE index against the
// state the batch has reached. The lookup attribute must be unique and of
// the namespace the entity belongs to ([ErrInvalidLookup]). When no entity
// holds the value: add-triple and deep-merge-triple in modes upsert and
// create create it, with id [LookupEntityID] (deterministic, so a client and
// the server agree) and the lookup's own triple; mode update fails with
// [ErrNotFound]; retract-triple and delete-entity do nothing.
//
// delete-entity removes the entity's triples of the namespace, every link
// into the namespace that points at it, and cascades: for a link attribute
// with OnDeleteCascade, deleting the target (the entity the link points at)
// deletes the source entity too, in the link's own namespace, recursively
// (each entity once, so cycles end). Deleting an absent entity is a no-op.
//
// Attribute steps: add-attr defines an attribute (re-adding an identical
// definition is a no-op; a different one under an existing id is
// [ErrInvalidAttr]); update-attr replaces a definition, re-checking and
// re-indexing the attribute's triples when its type, cardinality, unique or
// indexed flag changes (failing with [ErrWrongType], [ErrCardinality] or
// [ErrUniqueViolation] if they no longer fit); delete-attr removes an
// attribute and all its triples (an unknown one is a no-op).
func (s *Snapshot) Apply(steps []Step, now int64) (*Snapshot, error) {
	if len(steps) == 0 {
		return s, nil
	}
	b := &batch{attrs: s.attrs, ix: s.cloneIndexes(), now: now, created: map[nsEntity]bool{}}
	for i := range steps {
		b.left = len(steps) - 1 - i
		if err := b.step(&steps[i]); err != nil {
			return nil, &StepError{Index: i, Op: steps[i].Op, Err: err}
		}
	}
	return &Snapshot{attrs: b.attrs, ix: b.ix}, nil
}

// batch is the state of one Apply: private copy-on-write copies of the
// indexes, which the result snapshot adopts and a failed batch drops.
type batch struct {
	attrs *Attrs
	ix    indexes
	now   int64
	// created holds the entities the batch brought into a namespace, which
	// mode create may keep writing to.
	created map[nsEntity]bool
	// wrote is the entity and namespace the last write step wrote, when
	// wroteOK: the entity exists there, with its id triple if the
	// namespace has an id attribute (set writes it), until a step that
	// removes triples. A mutation's steps mostly write one entity; the
	// steps after the first spare the lookups that tell.
	wrote   nsEntity
	wroteOK bool
	hints   hints
	// slab is where the batch's new triples come from, left the steps
	// after the current one (see triple).
	slab []Triple
	left int
}

// triple returns room for a new stored triple. The batch carves them
// from slabs sized by the steps left (a write stores one triple, or two
// with the id triple), up to maxSlab, as Load carves a store's from one
// array: an allocation per run of writes instead of one per write. A
// slab stays in memory while any snapshot holds one of its triples.
func (b *batch) triple() *Triple {
	if len(b.slab) == 0 {
		b.slab = make([]Triple, min(b.left+2, maxSlab))
	}
	p := &b.slab[0]
	b.slab = b.slab[1:]
	return p
}

// maxSlab bounds a slab of new triples (72 bytes each).
const maxSlab = 32

type nsEntity struct {
	ns string
	e  EntityID
}

func (b *batch) step(st *Step) error {
	if st.Op != OpAddTriple && st.Op != OpDeepMergeTriple {
		b.wroteOK = false
	}
	switch st.Op {
	case OpAddTriple, OpDeepMergeTriple:
		return b.write(st)
	case OpRetractTriple:
		return b.retract(st)
	case OpDeleteEntity:
		return b.deleteEntity(st)
	case OpAddAttr:
		return b.addAttr(st.Attr)
	case OpUpdateAttr:
		return b.updateAttr(st.Attr)
	case OpDeleteAttr:
		return b.deleteAttr(st.A)
	}
	return wrapErr(ErrMalformedStep, "unknown op "+strconv.Quote(string(st.Op)))
}

func (b *batch) attr(id AttrID) (*Attr, error) {
	a, ok := b.attrs.ByID(id)
	if !ok {
		return nil, wrapErr(ErrUnknownAttr, id.String())
	}
	return a, nil
}

// write applies add-triple and deep-merge-triple.
func (b *batch) write(st *Step) error {
	attr, err := b.attr(st.A)
	if err != nil {
		return err
	}
	if st.Mode > ModeUpdate {
		return wrapErr(ErrMalformedStep, "mode "+st.Mode.String())
	}
	merge := st.Op == OpDeepMergeTriple
	if merge {
		switch {
		case st.ValueLookup != nil:
			return wrapErr(ErrMalformedStep, "deep-merge-triple takes no value lookup")
		case attr.IsRef() || attr.Label == IDLabel || attr.Cardinality != CardinalityOne:
			return wrapErr(ErrWrongType, "cannot merge into "+attr.Namespace+"."+attr.Label+
				" ("+attr.Type.String()+", cardinality "+attr.Cardinality.String()+")")
		}
	}
	create := st.Mode != ModeUpdate
	e, ok, err := b.stepEntity(st, attr.Namespace, create)
	if err != nil {
		return err
	}
	if !ok {
		return wrapErr(ErrNotFound, "no "+attr.Namespace+" with "+lookupText(st.Lookup))
	}
	k := nsEntity{attr.Namespace, e}
	// hasID: attr is the namespace's id attribute and e holds its triple.
	exists, hasID := b.wroteOK && b.wrote == k, false
	if attr.Label == IDLabel {
		if id, ok := b.attrs.IDAttr(attr.Namespace); ok && id.ID == attr.ID {
			hasID = exists || b.ix.holds(e, attr.ID)
			exists = hasID
		}
	}
	if !exists {
		exists = inNamespace(&b.ix, b.attrs, e, attr.Namespace)
	}
	switch {
	case st.Mode == ModeCreate && exists && !b.created[nsEntity{attr.Namespace, e}]:
		return wrapErr(ErrExists, attr.Namespace+" "+e.String())
	case st.Mode == ModeUpdate && !exists:
		return wrapErr(ErrNotFound, attr.Namespace+" "+e.String())
	}
	v, ok, err := b.stepValue(st, attr, create)
	if err != nil {
		return err
	}
	if !ok {
		return wrapErr(ErrNotFound, "no "+attr.RefNamespace+" to link with "+lookupText(st.ValueLookup))
	}
	if merge {
		var cur Value
		var buf [1]Triple
		if old := b.ix.valuesOf(buf[:0], e, attr.ID); len(old) > 0 {
			cur = old[0].V
		}
		if v, err = MergeValues(cur, v); err != nil {
			return err
		}
	}
	if v, err = attr.Check(v); err != nil {
		return err
	}
	if hasID && st.ValueLookup == nil && e.isRef(v) {
		// Writing the id triple e holds changes nothing: no other entity
		// can hold e's id (an id triple holds its own entity's), so set
		// would find the value unique, and e's own already there.
		b.wrote, b.wroteOK = k, true
		return nil
	}
	known := nsUnknown
	if st.ValueLookup == nil { // else resolving it may have written e
		known = nsAbsent
		if exists {
			known = nsPresent
		}
	}
	if err := b.set(e, attr, v, merge, known); err != nil {
		return err
	}
	b.wrote, b.wroteOK = k, true
	return nil
}

// nsKnown is what a caller of set already knows of whether the entity
// exists in the attribute's namespace, sparing set a lookup.
type nsKnown uint8

const (
	nsUnknown nsKnown = iota
	nsAbsent
	nsPresent
)

// set gives entity e value v (already checked) of attr, replacing its
// value when attr has cardinality one, and writes e's id triple if the
// namespace has an id attribute and e lacks it. When keep is set a replaced
// value's CreatedAt carries over to v. known says whether e exists in
// attr's namespace, if the caller knows.
func (b *batch) set(e EntityID, attr *Attr, v Value, keep bool, known nsKnown) error {
	if attr.Label == IDLabel && !e.isRef(v) {
		return wrapErr(ErrWrongType, attr.Namespace+".id of "+e.String()+" must be its own id, got "+v.String())
	}
	flags := attr.Flags()
	if attr.Unique {
		var holder EntityID
		b.ix.holders(attr.ID, v, func(t Triple) bool {
			if t.E != e {
				holder = t.E
				return false
			}
			return true
		})
		if !holder.IsZero() {
			return wrapErr(ErrUniqueViolation, attr.Namespace+"."+attr.Label+" = "+v.String()+" is held by "+holder.String())
		}
	}
	if known != nsPresent {
		k := nsEntity{attr.Namespace, e}
		if !b.created[k] && (known == nsAbsent || !inNamespace(&b.ix, b.attrs, e, attr.Namespace)) {
			b.created[k] = true
		}
	}
	t := Triple{E: e, A: attr.ID, V: v, CreatedAt: b.now}
	if attr.Cardinality == CardinalityOne {
		var buf [1]Triple
		old := b.ix.valuesOfHint(buf[:0], e, attr.ID, &b.hints)
		if len(old) == 1 && old[0].V == v {
			return b.ensureID(e, attr)
		}
		if len(old) == 1 {
			if keep {
				t.CreatedAt = old[0].CreatedAt
			}
			b.ix.replaceHint(old[0], t, b.triple(), flags, &b.hints)
			return b.ensureID(e, attr)
		}
		for _, o := range old {
			if keep {
				t.CreatedAt = o.CreatedAt
			}
			b.ix.removeHint(o, flags, &b.hints)
		}
		p := b.triple()
		*p = t
		b.ix.insertHint(p, flags, &b.hints)
	} else if _, has := b.ix.get(t.Key()); !has {
		b.ix.insert(t, flags)
	}
	return b.ensureID(e, attr)
}

// ensureID writes e's id triple of attr's namespace if it has an id
// attribute and e lacks the triple.
func (b *batch) ensureID(e EntityID, attr *Attr) error {
	if attr.Label == IDLabel || b.wroteOK && b.wrote == (nsEntity{attr.Namespace, e}) {
		return nil
	}
	id, ok := b.attrs.IDAttr(attr.Namespace)
	if !ok {
		return nil
	}
	if b.ix.holds(e, id.ID) { // an id triple can hold only Ref(e)
		return nil
	}
	return b.set(e, id, Ref(e), false, nsPresent) // e holds attr's triple
}

// retract applies retract-triple.
func (b *batch) retract(st *Step) error {
	attr, err := b.attr(st.A)
	if err != nil {
		return err
	}
	if st.Mode != ModeUpsert {
		return wrapErr(ErrMalformedStep, "retract-triple takes no mode")
	}
	e, ok, err := b.stepEntity(st, attr.Namespace, false)
	if !ok || err != nil {
		return err
	}
	v, ok, err := b.stepValue(st, attr, false)
	if !ok || err != nil {
		return err
	}
	if v, err = attr.Check(v); err != nil {
		return err
	}
	if t, has := b.ix.get(TripleKey{E: e, A: attr.ID, V: v}); has {
		b.ix.remove(t, attr.Flags())
	}
	return nil
}

// deleteEntity applies delete-entity; see [Snapshot.Apply].
func (b *batch) deleteEntity(st *Step) error {
	if !validName(st.Namespace) {
		return wrapErr(ErrMalformedStep, "delete-entity namespace "+strconv.Quote(st.Namespace))
	}
	e, ok, err := b.stepEntity(st, st.Namespace, false)
	if !ok || err != nil {
		return err
	}
	queue := []nsEntity{{st.Namespace, e}}
	seen := map[nsEntity]bool{}
	var doomed []Triple
	for len(queue) > 0 {
		cur := queue[len(queue)-1]
		queue = queue[:len(queue)-1]
		if seen[cur] {
			continue
		}
		seen[cur] = true
		ascend(b.ix.eav, Triple{E: cur.e}, func(t Triple) bool {
			if t.E != cur.e {
				return false
			}
			if a, _ := b.attrs.ByID(t.A); a.Namespace == cur.ns {
				doomed = append(doomed, t)
			}
			return true
		})
		target := Ref(cur.e)
		ascend(b.ix.vae, Triple{V: target}, func(t Triple) bool {
			if t.V != target {
				return false
			}
			a, _ := b.attrs.ByID(t.A)
			if a.RefNamespace != cur.ns {
				return true
			}
			doomed = append(doomed, t)
			if a.OnDeleteCascade {
				queue = append(queue, nsEntity{a.Namespace, t.E})
			}
			return true
		})
	}
	for _, t := range doomed {
		a, _ := b.attrs.ByID(t.A)
		b.ix.remove(t, a.Flags())
	}
	return nil
}
