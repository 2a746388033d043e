package store

import (
	"cmp"
	"slices"
)

// Attrs is an immutable registry of attributes, indexed by id, by
// (namespace, label), and by the reverse name of each link. Like a
// [Snapshot] it never changes once built: applying add-attr, update-attr or
// delete-attr gives the new snapshot a new registry, so readers of the old
// one are unaffected. A nil *Attrs is an empty registry.
//
// Every *Attr and []*Attr it returns is shared with the registry and with
// every other caller: read them, never modify them.
type Attrs struct {
	byID      map[AttrID]*Attr
	byName    map[nameKey]*Attr // (Namespace, Label)
	byReverse map[nameKey]*Attr // (RefNamespace, ReverseLabel) of links
	byNS      map[string][]*Attr
	nss       []string
	all       []*Attr // by namespace, then label
}

type nameKey struct{ ns, label string }

// NewAttrs builds a registry from list, validating each attribute
// ([Attr.Validate]) and the set as a whole: ids are unique; (namespace,
// label) pairs are unique; the reverse names of links, (ref namespace,
// reverse label), are unique and do not shadow a forward label of that
// namespace, so a name in a query means exactly one thing. Errors wrap
// [ErrInvalidAttr]. NewAttrs keeps no reference to list.
func NewAttrs(list ...Attr) (*Attrs, error) {
	r := &Attrs{
		byID:      make(map[AttrID]*Attr, len(list)),
		byName:    make(map[nameKey]*Attr, len(list)),
		byReverse: make(map[nameKey]*Attr),
		byNS:      make(map[string][]*Attr),
		all:       make([]*Attr, 0, len(list)),
	}
	for i := range list {
		a := list[i] // copy: the registry owns its attrs
		if err := a.Validate(); err != nil {
			return nil, err
		}
		if _, dup := r.byID[a.ID]; dup {
			return nil, wrapErr(ErrInvalidAttr, "duplicate id "+a.ID.String())
		}
		k := nameKey{a.Namespace, a.Label}
		if _, dup := r.byName[k]; dup {
			return nil, wrapErr(ErrInvalidAttr, "duplicate attribute "+a.Namespace+"."+a.Label)
		}
		p := &a
		r.byID[a.ID] = p
		r.byName[k] = p
		r.all = append(r.all, p)
	}
	for _, a := range r.all {
		if !a.IsRef() {
			continue
		}
		k := nameKey{a.RefNamespace, a.ReverseLabel}
		if other, dup := r.byReverse[k]; dup {
			return nil, wrapErr(ErrInvalidAttr, "links "+other.Namespace+"."+other.Label+" and "+
				a.Namespace+"."+a.Label+" both read back as "+k.ns+"."+k.label)
		}
		if fwd, dup := r.byName[k]; dup {
			return nil, wrapErr(ErrInvalidAttr, "link "+a.Namespace+"."+a.Label+" reads back as "+
				k.ns+"."+k.label+", which is attribute "+fwd.ID.String())
		}
		r.byReverse[k] = a
	}
	slices.SortFunc(r.all, func(x, y *Attr) int {
		return cmp.Or(cmp.Compare(x.Namespace, y.Namespace), cmp.Compare(x.Label, y.Label))
	})
	for _, a := range r.all {
		if _, ok := r.byNS[a.Namespace]; !ok {
			r.nss = append(r.nss, a.Namespace)
		}
		r.byNS[a.Namespace] = append(r.byNS[a.Namespace], a)
	}
	for ns, list := range r.byNS {
		r.byNS[ns] = slices.Clip(list)
	}
	r.all = slices.Clip(r.all)
	return r, nil
}

// MustNewAttrs is [NewAttrs] for fixed schemas in tests and examples; it
// panics on an invalid list.
func MustNewAttrs(list ...Attr) *Attrs {
	r, err := NewAttrs(list...)
	if err != nil {
		panic(err)
	}
	return r
}

// ByID returns the attribute with id.
func (r *Attrs) ByID(id AttrID) (*Attr, bool) {
	if r == nil {
		return nil, false
	}
	a, ok := r.byID[id]
	return a, ok
}

// ByName returns the attribute namespace.label, read forward.
func (r *Attrs) ByName(namespace, label string) (*Attr, bool) {
	if r == nil {
		return nil, false
	}
	a, ok := r.byName[nameKey{namespace, label}]
	return a, ok
}

// Reverse returns the link attribute that reads backwards, from an entity of
// targetNamespace, as reverseLabel: the ref attribute whose RefNamespace and
// ReverseLabel are these. Its triples are held by the source entities.
func (r *Attrs) Reverse(targetNamespace, reverseLabel string) (*Attr, bool) {
	if r == nil {
		return nil, false
	}
	a, ok := r.byReverse[nameKey{targetNamespace, reverseLabel}]
	return a, ok
}

// IDAttr returns the namespace's id attribute, the one labelled [IDLabel].
func (r *Attrs) IDAttr(namespace string) (*Attr, bool) { return r.ByName(namespace, IDLabel) }

// Namespace returns the attributes of ns sorted by label; nil if ns has none.
// The slice is shared: do not modify it.
func (r *Attrs) Namespace(ns string) []*Attr {
	if r == nil {
		return nil
	}
	return r.byNS[ns]
}

// Namespaces returns the namespaces that have attributes, sorted. The slice
// is shared: do not modify it.
func (r *Attrs) Namespaces() []string {
	if r == nil {
		return nil
	}
	return r.nss
}

// All returns every attribute sorted by namespace, then label. The slice is
// shared: do not modify it.
func (r *Attrs) All() []*Attr {
	if r == nil {
		return nil
	}
	return r.all
}

// Len returns the number of attributes.
func (r *Attrs) Len() int {
	if r == nil {
		return 0
	}
	return len(r.all)
}

// List returns a copy of every attribute, sorted like [Attrs.All]: the form
// NewAttrs takes and init-ok carries. The caller owns the slice.
func (r *Attrs) List() []Attr {
	out := make([]Attr, 0, r.Len())
	for _, a := range r.All() {
		out = append(out, *a)
	}
	return out
}

// with returns a registry where a replaces the attribute of the same id, or
// is added.
func (r *Attrs) with(a Attr) (*Attrs, error) {
	list := make([]Attr, 0, r.Len()+1)
	for _, x := range r.All() {
		if x.ID != a.ID {
			list = append(list, *x)
		}
	}
	return NewAttrs(append(list, a)...)
}

// without returns a registry without the attribute id.
func (r *Attrs) without(id AttrID) *Attrs {
	list := make([]Attr, 0, r.Len())
	for _, x := range r.All() {
		if x.ID != id {
			list = append(list, *x)
		}
	}
	out, err := NewAttrs(list...)
	assert(err == nil, "removing an attribute cannot invalidate a registry")
	return out
}

// assert panics on a broken invariant: a bug in this package, never bad
// input.
func assert(cond bool, msg string) {
	if !cond {
		panic("store: assertion failed: " + msg)
	}
}
