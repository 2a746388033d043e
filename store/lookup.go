package store

import (
	"github.com/triplesync/triplesync/internal/errs"
	"github.com/triplesync/triplesync/internal/sha2"
)

// lookupNamespace seeds [LookupEntityID]'s hash, like a UUID namespace.
var lookupNamespace = MustParseEntityID("1c823f7b-73a9-49b1-9ede-e0a0b069c98e")

// LookupEntityID returns the id an entity gets when a lookup (the entity
// whose unique attribute a holds v) creates it: a name-based UUID of a and
// v's canonical JSON ([Value.AppendJSON]).
//
// The id is the first 16 bytes of SHA-256(lookupNamespace ‖ a ‖ JSON(v)),
// where lookupNamespace is the 16 bytes of the UUID
// 1c823f7b-73a9-49b1-9ede-e0a0b069c98e and a its 16 bytes, with the
// version nibble set to 8 (RFC 9562's custom, name-based layout; version 5
// means SHA-1, which this is not) and the RFC 4122 variant bits (10) in
// byte 8: the layout [AttrIDFor] uses. It was SHA-1 in UUID version 5
// layout until the client dropped crypto/sha1 (one hash in the wasm, not
// two); an entity created under the old derivation keeps its id, since a
// lookup finds the entity holding the value before it would create one.
//
// InstantDB gives such an entity a random id on the server. Deriving it
// instead lets a client apply its own write optimistically and arrive at
// the same id the server will, with no round trip: both sides resolve the
// lookup, find nothing, and hash the same (attribute, value).
func LookupEntityID(a AttrID, v Value) EntityID {
	var arr [128]byte
	buf := append(arr[:0], lookupNamespace[:]...)
	buf = append(buf, a[:]...)
	buf = v.AppendJSON(buf)
	sum := sha2.Sum256(buf)
	var id EntityID
	copy(id[:], sum[:])
	id[6] = (id[6] & 0x0f) | 0x80
	id[8] = (id[8] & 0x3f) | 0x80
	return id
}

// attrIDSpace seeds [AttrIDFor]'s hash.
var attrIDSpace = []byte("triplesync attribute\x00")

// AttrIDFor returns the id [Transform] gives the attribute ns.label when it
// defines it: a name-based UUID (SHA-256 of the namespace and label, in the
// version 8 layout), the same on every client and on the server. Two
// writers that define the same attribute at once then send identical
// add-attrs, and the server applies the second as a no-op instead of
// refusing a duplicate namespace and label; a definition that differs (a
// link against a value) still conflicts, and the error names it.
//
// The id is the first 16 bytes of SHA-256("triplesync attribute\x00" ‖ ns ‖
// "\x00" ‖ label) with version nibble 8 and variant bits 10. These ids are
// stored on every server and client: the derivation must never change.
func AttrIDFor(ns, label string) AttrID {
	h := sha2.New()
	h.Write(attrIDSpace)
	h.Write([]byte(ns))
	h.Write([]byte{0})
	h.Write([]byte(label))
	var id AttrID
	copy(id[:], h.Sum(nil))
	id[6] = (id[6] & 0x0f) | 0x80
	id[8] = (id[8] & 0x3f) | 0x80
	return id
}

// lookupAttr returns l's attribute and its value as the attribute holds it,
// checking that the attribute is unique and of namespace ns.
func (b *batch) lookupAttr(l *LookupRef, ns string) (*Attr, Value, error) {
	la, ok := b.attrs.ByID(l.A)
	if !ok {
		return nil, Value{}, wrapErr(ErrUnknownAttr, "lookup attribute "+l.A.String())
	}
	if !la.Unique {
		return nil, Value{}, wrapErr(ErrInvalidLookup, la.Namespace+"."+la.Label+" is not unique")
	}
	if la.Namespace != ns {
		return nil, Value{}, wrapErr(ErrInvalidLookup, la.Namespace+"."+la.Label+" cannot address an entity of "+ns)
	}
	v, err := la.Check(l.V)
	if err != nil {
		return nil, Value{}, err
	}
	return la, v, nil
}

// resolve returns the entity of namespace ns that l addresses. When no
// entity holds the value, create decides: if set, the entity is created
// with id [LookupEntityID] by writing the lookup's own triple (and so its
// namespace's id triple); if not, ok is false.
func (b *batch) resolve(l *LookupRef, ns string, create bool) (e EntityID, ok bool, err error) {
	la, v, err := b.lookupAttr(l, ns)
	if err != nil {
		return EntityID{}, false, err
	}
	b.ix.holders(la.ID, v, func(t Triple) bool {
		e, ok = t.E, true
		return false
	})
	if ok || !create {
		return e, ok, nil
	}
	if la.Label == IDLabel {
		// A lookup by id addresses the entity with that id.
		id, isID := v.AsEntityID()
		if !isID {
			return EntityID{}, false, wrapErr(ErrWrongType, "want a uuid, got "+v.String())
		}
		e = id
	} else {
		e = LookupEntityID(la.ID, v)
	}
	if err := b.set(e, la, v, false, nsUnknown); err != nil {
		return EntityID{}, false, errs.Wrap("create "+e.String()+" by lookup", err)
	}
	return e, true, nil
}

// stepEntity returns the entity a triple or delete step addresses: E, or
// what its Lookup resolves to in namespace ns. ok is false when a lookup
// finds nothing and create is not set.
func (b *batch) stepEntity(st *Step, ns string, create bool) (EntityID, bool, error) {
	switch {
	case st.Lookup != nil && !st.E.IsZero():
		return EntityID{}, false, wrapErr(ErrMalformedStep, "both an entity id and a lookup")
	case st.Lookup != nil:
		return b.resolve(st.Lookup, ns, create)
	case st.E.IsZero():
		return EntityID{}, false, wrapErr(ErrMalformedStep, "missing entity")
	}
	return st.E, true, nil
}

// stepValue returns the value a triple step writes or retracts: V, or a
// link to what its ValueLookup resolves to. A value lookup is allowed on a
// ref attribute (it addresses an entity of the link's target namespace) and
// on an id attribute (it addresses the entity itself).
func (b *batch) stepValue(st *Step, attr *Attr, create bool) (Value, bool, error) {
	if st.ValueLookup == nil {
		return st.V, true, nil
	}
	if !st.V.IsNull() {
		return Value{}, false, wrapErr(ErrMalformedStep, "both a value and a value lookup")
	}
	ns := attr.RefNamespace
	switch {
	case attr.Label == IDLabel:
		ns = attr.Namespace
	case !attr.IsRef():
		return Value{}, false, wrapErr(ErrInvalidLookup, "value lookup on "+attr.Namespace+"."+attr.Label+", which is not a link")
	}
	e, ok, err := b.resolve(st.ValueLookup, ns, create)
	if !ok || err != nil {
		return Value{}, false, err
	}
	return Ref(e), true, nil
}
