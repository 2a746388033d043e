package store

import "sync"

// Snapshot is an immutable triple store: the triples, the attribute registry
// they are typed by, and four indexes over them (see the package comment).
// [Snapshot.Apply] returns a new snapshot that shares every untouched B-tree
// node with its receiver, so the receiver stays valid and unchanged and a
// reader can keep using it for as long as it likes.
//
// A Snapshot is safe for concurrent use: reads never write, and Apply takes
// a short lock only around copying the trees (btree's Copy re-stamps the
// tree it copies).
type Snapshot struct {
	attrs *Attrs
	ix    indexes
	mu    sync.Mutex // held while cloning ix
}

// NewSnapshot returns an empty store typed by attrs (nil for none).
func NewSnapshot(attrs *Attrs) *Snapshot {
	if attrs == nil {
		attrs = MustNewAttrs()
	}
	return &Snapshot{attrs: attrs, ix: newIndexes()}
}

// Attrs returns the attribute registry the snapshot's triples are typed by.
func (s *Snapshot) Attrs() *Attrs { return s.attrs }

// Len returns the number of triples.
func (s *Snapshot) Len() int { return s.ix.eav.Len() }

// cloneIndexes returns copy-on-write copies of s's trees.
func (s *Snapshot) cloneIndexes() indexes {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ix.clone()
}

// ScanEntity calls fn with each triple of entity e and attribute a, or of
// every attribute of e when a is zero, ordered by attribute then value
// (EAV), until fn returns false.
func (s *Snapshot) ScanEntity(e EntityID, a AttrID, fn func(Triple) bool) {
	s.ScanEntityPtr(e, a, func(t *Triple) bool { return fn(*t) })
}

// ScanEntityPtr is [Snapshot.ScanEntity] handing out the stored triples
// themselves rather than copies. So do the other Ptr scans: the triples
// are shared by every snapshot holding them and must not be modified; a
// pointer keeps its triple alive, so a reader may keep it for as long as
// it likes. Readers that keep many triples (query's in-memory source) hold
// eight bytes each instead of a 72-byte copy.
func (s *Snapshot) ScanEntityPtr(e EntityID, a AttrID, fn func(*Triple) bool) {
	ascendPtr(s.ix.eav, Triple{E: e, A: a}, func(t *Triple) bool {
		if t.E != e || !a.IsZero() && t.A != a {
			return false
		}
		return fn(t)
	})
}

// ScanFrom calls fn with every triple from (e, a) on in EAV order, across
// entities to the end of the store, until fn returns false. A reader of
// many entities in order walks them in one pass instead of seeking each
// with [Snapshot.ScanEntity].
func (s *Snapshot) ScanFrom(e EntityID, a AttrID, fn func(Triple) bool) {
	ascend(s.ix.eav, Triple{E: e, A: a}, fn)
}

// ScanFromPtr is [Snapshot.ScanFrom] handing out the stored triples (see
// [Snapshot.ScanEntityPtr]).
func (s *Snapshot) ScanFromPtr(e EntityID, a AttrID, fn func(*Triple) bool) {
	ascendPtr(s.ix.eav, Triple{E: e, A: a}, fn)
}

// ScanAttr calls fn with each triple of attribute a ordered by entity then
// value (AEV), until fn returns false.
func (s *Snapshot) ScanAttr(a AttrID, fn func(Triple) bool) {
	s.ScanAttrPtr(a, func(t *Triple) bool { return fn(*t) })
}

// ScanAttrPtr is [Snapshot.ScanAttr] handing out the stored triples (see
// [Snapshot.ScanEntityPtr]).
func (s *Snapshot) ScanAttrPtr(a AttrID, fn func(*Triple) bool) {
	ascendPtr(s.ix.aev, Triple{A: a}, func(t *Triple) bool {
		if t.A != a {
			return false
		}
		return fn(t)
	})
}

// ScanAttrFrom calls fn with each triple of attribute a in AEV order (by
// entity, then value), ascending, or descending when desc, until fn returns
// false. A non-nil from starts the scan at that key, inclusive: ascending
// at the first triple not before it, descending at the last triple not
// after it (from need not be stored; its A is ignored). Either way the
// scan costs the triples it passes to fn, so a page read backwards from
// the end of an attribute, or from a cursor in its middle, does not read
// the rest.
func (s *Snapshot) ScanAttrFrom(a AttrID, from *TripleKey, desc bool, fn func(Triple) bool) {
	s.ScanAttrFromPtr(a, from, desc, func(t *Triple) bool { return fn(*t) })
}

// ScanAttrFromPtr is [Snapshot.ScanAttrFrom] handing out the stored
// triples (see [Snapshot.ScanEntityPtr]).
func (s *Snapshot) ScanAttrFromPtr(a AttrID, from *TripleKey, desc bool, fn func(*Triple) bool) {
	stop := func(t *Triple) bool {
		if t.A != a {
			return false
		}
		return fn(t)
	}
	if !desc {
		pivot := Triple{A: a}
		if from != nil {
			pivot.E, pivot.V = from.E, from.V
		}
		ascendPtr(s.ix.aev, pivot, stop)
		return
	}
	pivot := Triple{A: a, E: maxID, V: maxValue}
	if from != nil {
		pivot.E, pivot.V = from.E, from.V
	}
	descendPtr(s.ix.aev, pivot, stop)
}

// ValueRange bounds a scan in the value order ([Compare]). A bound applies
// only when its Has flag is set; an exclusive bound leaves out values equal
// to it. The zero ValueRange holds every value.
type ValueRange struct {
	Lo, Hi                   Value
	HasLo, HasHi             bool
	LoExclusive, HiExclusive bool
}

// Exactly returns the range holding v alone.
func Exactly(v Value) ValueRange {
	return ValueRange{Lo: v, Hi: v, HasLo: true, HasHi: true}
}

// Contains reports whether v lies within r.
func (r ValueRange) Contains(v Value) bool { return !r.belowLo(v) && !r.aboveHi(v) }

func (r ValueRange) belowLo(v Value) bool {
	if !r.HasLo {
		return false
	}
	c := Compare(v, r.Lo)
	return c < 0 || c == 0 && r.LoExclusive
}

func (r ValueRange) aboveHi(v Value) bool {
	if !r.HasHi {
		return false
	}
	c := Compare(v, r.Hi)
	return c > 0 || c == 0 && r.HiExclusive
}

// ScanAttrValues calls fn with each triple of attribute a whose value lies
// in r, in value order (ties by entity), ascending or descending when desc,
// until fn returns false. It reads the AVE index, which holds only unique
// and indexed attributes: for any other attribute (or an unknown one) it
// calls fn never and returns false, and the caller falls back to
// [Snapshot.ScanAttr].
func (s *Snapshot) ScanAttrValues(a AttrID, r ValueRange, desc bool, fn func(Triple) bool) bool {
	return s.ScanAttrValuesPtr(a, r, desc, func(t *Triple) bool { return fn(*t) })
}

// ScanAttrValuesPtr is [Snapshot.ScanAttrValues] handing out the stored
// triples (see [Snapshot.ScanEntityPtr]).
func (s *Snapshot) ScanAttrValuesPtr(a AttrID, r ValueRange, desc bool, fn func(*Triple) bool) bool {
	attr, ok := s.attrs.ByID(a)
	if !ok || attr.Flags()&FlagAVE == 0 {
		return false
	}
	if !desc {
		pivot := Triple{A: a}
		if r.HasLo {
			pivot.V = r.Lo
			if r.LoExclusive {
				pivot.E = maxID // start after every (a, Lo, e)
			}
		}
		ascendPtr(s.ix.ave, pivot, func(t *Triple) bool {
			if t.A != a || r.aboveHi(t.V) {
				return false
			}
			if r.belowLo(t.V) {
				return true
			}
			return fn(t)
		})
		return true
	}
	pivot := Triple{A: a, V: maxValue, E: maxID}
	if r.HasHi {
		pivot.V = r.Hi
		if r.HiExclusive {
			pivot.E = EntityID{} // start before every (a, Hi, e)
		}
	}
	descendPtr(s.ix.ave, pivot, func(t *Triple) bool {
		if t.A != a || r.belowLo(t.V) {
			return false
		}
		if r.aboveHi(t.V) {
			return true
		}
		return fn(t)
	})
	return true
}

// ScanRefs calls fn with each ref triple whose value links to target, of
// attribute a or of any ref attribute when a is zero, ordered by attribute
// then source entity (VAE), until fn returns false.
func (s *Snapshot) ScanRefs(target EntityID, a AttrID, fn func(Triple) bool) {
	s.ScanRefsPtr(target, a, func(t *Triple) bool { return fn(*t) })
}

// ScanRefsPtr is [Snapshot.ScanRefs] handing out the stored triples (see
// [Snapshot.ScanEntityPtr]).
func (s *Snapshot) ScanRefsPtr(target EntityID, a AttrID, fn func(*Triple) bool) {
	v := Ref(target)
	ascendPtr(s.ix.vae, Triple{V: v, A: a}, func(t *Triple) bool {
		if t.V != v || !a.IsZero() && t.A != a {
			return false
		}
		return fn(t)
	})
}

// Has reports whether the triple k is in the store.
func (s *Snapshot) Has(k TripleKey) bool {
	_, ok := s.ix.get(k)
	return ok
}

// Get returns the stored triple with key k (and so its CreatedAt).
func (s *Snapshot) Get(k TripleKey) (Triple, bool) { return s.ix.get(k) }

// Triples returns every triple in EAV order. The caller owns the slice.
func (s *Snapshot) Triples() []Triple {
	out := make([]Triple, 0, s.Len())
	scan(s.ix.eav, func(t Triple) bool {
		out = append(out, t)
		return true
	})
	return out
}

// EntityExists reports whether e holds any triple, in any namespace.
func (s *Snapshot) EntityExists(e EntityID) bool {
	found := false
	s.ScanEntity(e, AttrID{}, func(Triple) bool {
		found = true
		return false
	})
	return found
}

// InNamespace reports whether e exists in namespace ns: whether it holds any
// triple of an attribute of ns (its ns.id triple or any other).
func (s *Snapshot) InNamespace(e EntityID, ns string) bool {
	return inNamespace(&s.ix, s.attrs, e, ns)
}

func inNamespace(ix *indexes, attrs *Attrs, e EntityID, ns string) bool {
	if id, ok := attrs.IDAttr(ns); ok && ix.holds(e, id.ID) {
		return true // its id triple (which can hold only Ref(e))
	}
	found := false
	ascend(ix.eav, Triple{E: e}, func(t Triple) bool {
		if t.E != e {
			return false
		}
		if a, ok := attrs.ByID(t.A); ok && a.Namespace == ns {
			found = true
			return false
		}
		return true
	})
	return found
}
