package store

import (
	"slices"
	"strconv"

	"github.com/triplesync/triplesync/internal/errs"
)

// TxOp is one InstaML-style operation, the form clients and the admin API
// write in: an action on one entity of a namespace. [Transform] turns a list
// of them into tx-steps.
//
//	create  Args: label → value. Sets the values; the entity must be new.
//	update  Args: label → value. Sets the values (an upsert unless Mode is
//	        ModeUpdate).
//	merge   Args: label → value. Deep-merges objects into the current
//	        values (null deletes a key); other values replace.
//	delete  Deletes the entity (see delete-entity in [Snapshot.Apply]).
//	link    Args: label → target(s). Adds links; the label may be a link's
//	        forward label on Namespace or its reverse label (the link is
//	        then written on the target, pointing back).
//	unlink  Args as link. Removes those links.
//
// A target is an [EntityID], its string form, a [Lookup] or *Lookup, or a
// slice ([]any, []EntityID, []string, []Lookup) of those.
type TxOp struct {
	Action    string
	Namespace string
	ID        EntityID       // the entity; zero when Lookup is set, or for create to draw a new id
	Lookup    *Lookup        // addresses the entity by a unique attribute's value instead of ID
	Args      map[string]any // see the actions above; the label "id" is ignored
	Mode      Mode           // update and merge only: ModeUpsert (the zero value) or ModeUpdate
}

// Lookup addresses an entity by the value of one of its namespace's unique
// attributes, by label: the entity whose Label holds Value. Transform turns
// it into a [LookupRef] that Apply resolves, on the client and again on the
// server, so a client never needs to know the id.
type Lookup struct {
	Label string
	Value any
}

// TransformOptions tune [Transform].
type TransformOptions struct {
	// CreateMissingAttrs makes an unknown label define its attribute: an
	// add-attr step (type any, cardinality one; unique and indexed for a
	// lookup label; a namespace's missing id attribute too) ahead of the
	// steps that use it. A link label gets a ref attribute (cardinality
	// many) to the namespace named like the label, which must exist;
	// otherwise the target cannot be inferred and Transform fails. The
	// admin API sets it; clients, bound to a schema, do not, and an unknown
	// label is then an error wrapping [ErrUnknownAttr] naming
	// namespace.label.
	CreateMissingAttrs bool
}

// OpError names the operation of a [Transform] input that failed.
type OpError struct {
	Index  int    // position in the input
	Action string // the op's action
	Err    error
}

// Error names the op and its position.
func (e *OpError) Error() string {
	return "op " + strconv.Itoa(e.Index) + " (" + e.Action + "): " + errText(e.Err)
}

// Unwrap returns the cause.
func (e *OpError) Unwrap() error { return e.Err }

// Transform turns ops into tx-steps against the registry attrs: add-attr
// steps for attributes it had to define (with CreateMissingAttrs) first,
// then each op's steps in order. create, update and merge start with the
// entity's id triple (so an entity with no other values still exists), as
// InstaML does; values follow in label order, so the output is
// deterministic for a deterministic newID.
//
// newID draws fresh ids, for create without an ID and for new attributes;
// it may be nil if neither happens.
//
// Lookups are never resolved here, even when attrs' store could: they
// travel in the steps ([Step.Lookup], [Step.ValueLookup]) and Apply resolves
// them, optimistically on the client and authoritatively on the server,
// against what each one holds when it applies them. A client's store is
// partial and may be stale; resolving early could address a different
// entity than the server would.
func Transform(attrs *Attrs, ops []TxOp, newID func() EntityID, opts TransformOptions) ([]Step, error) {
	t := &transformer{attrs: attrs, newID: newID, opts: opts}
	if t.attrs == nil {
		t.attrs = MustNewAttrs()
	}
	for i := range ops {
		if err := t.op(&ops[i]); err != nil {
			return nil, &OpError{Index: i, Action: ops[i].Action, Err: err}
		}
	}
	return append(t.attrSteps, t.steps...), nil
}

type transformer struct {
	attrs     *Attrs
	newID     func() EntityID
	opts      TransformOptions
	attrSteps []Step
	steps     []Step
}

func (t *transformer) op(op *TxOp) error {
	if !validName(op.Namespace) {
		return wrapErr(ErrMalformedStep, "namespace "+strconv.Quote(op.Namespace))
	}
	mode, id := op.Mode, op.ID
	switch op.Action {
	case "create":
		mode = ModeCreate
		if id.IsZero() && op.Lookup == nil {
			if t.newID == nil {
				return wrapErr(ErrMalformedStep, "create without an id needs newID")
			}
			id = t.newID()
		}
	case "update", "merge":
		if mode == ModeCreate {
			return wrapErr(ErrMalformedStep, op.Action+" with mode create")
		}
	case "delete", "link", "unlink":
	default:
		return wrapErr(ErrMalformedStep, "unknown action "+strconv.Quote(op.Action))
	}
	if mode > ModeUpdate {
		return wrapErr(ErrMalformedStep, "mode "+mode.String())
	}
	e, l, err := t.entity(op.Namespace, id, op.Lookup)
	if err != nil {
		return err
	}
	switch op.Action {
	case "delete":
		t.steps = append(t.steps, Step{Op: OpDeleteEntity, E: e, Lookup: l, Namespace: op.Namespace})
		return nil
	case "link":
		return t.links(op, e, l, OpAddTriple)
	case "unlink":
		return t.links(op, e, l, OpRetractTriple)
	}
	idAttr, err := t.attr(op.Namespace, IDLabel, false)
	if err != nil {
		return err
	}
	idStep := Step{Op: OpAddTriple, E: e, Lookup: l, A: idAttr.ID, Mode: mode}
	if l != nil {
		idStep.ValueLookup = &LookupRef{A: l.A, V: l.V}
	} else {
		idStep.V = Ref(e)
	}
	t.steps = append(t.steps, idStep)
	for _, label := range sortedKeys(op.Args) {
		if label == IDLabel {
			continue
		}
		a, err := t.attr(op.Namespace, label, false)
		if err != nil {
			return err
		}
		v, err := FromAny(op.Args[label])
		if err != nil {
			return errs.Wrap(op.Namespace+"."+label, err)
		}
		st := Step{Op: OpAddTriple, E: e, Lookup: copyLookup(l), A: a.ID, V: v, Mode: mode}
		if op.Action == "merge" && isObject(v) {
			st.Op = OpDeepMergeTriple
		}
		t.steps = append(t.steps, st)
	}
	return nil
}

// entity returns the id or the lookup an op addresses.
func (t *transformer) entity(ns string, id EntityID, l *Lookup) (EntityID, *LookupRef, error) {
	switch {
	case l != nil && !id.IsZero():
		return EntityID{}, nil, wrapErr(ErrMalformedStep, "both an id and a lookup")
	case l == nil && id.IsZero():
		return EntityID{}, nil, wrapErr(ErrMalformedStep, "missing id")
	case l == nil:
		return id, nil, nil
	}
	a, err := t.attr(ns, l.Label, true)
	if err != nil {
		return EntityID{}, nil, err
	}
	if !a.Unique {
		return EntityID{}, nil, wrapErr(ErrInvalidLookup, ns+"."+l.Label+" is not unique")
	}
	v, err := FromAny(l.Value)
	if err != nil {
		return EntityID{}, nil, errs.Wrap("lookup "+ns+"."+l.Label, err)
	}
	return EntityID{}, &LookupRef{A: a.ID, V: v}, nil
}

// attr returns the value attribute ns.label, defining it if allowed.
// unique asks for a lookup attribute.
func (t *transformer) attr(ns, label string, unique bool) (*Attr, error) {
	if a, ok := t.attrs.ByName(ns, label); ok {
		if a.IsRef() {
			return nil, wrapErr(ErrWrongType, ns+"."+label+" is a link: use link and unlink")
		}
		return a, nil
	}
	if _, ok := t.attrs.Reverse(ns, label); ok {
		return nil, wrapErr(ErrWrongType, ns+"."+label+" is a link: use link and unlink")
	}
	if !t.opts.CreateMissingAttrs {
		return nil, wrapErr(ErrUnknownAttr, ns+"."+label)
	}
	return t.define(Attr{Namespace: ns, Label: label, Type: TypeAny, Unique: unique, Indexed: unique})
}

// define adds a (its id derived from its name: [AttrIDFor]) to the
// registry and emits its add-attr.
func (t *transformer) define(a Attr) (*Attr, error) {
	a.ID = AttrIDFor(a.Namespace, a.Label)
	next, err := t.attrs.with(a)
	if err != nil {
		return nil, err
	}
	t.attrs = next
	t.attrSteps = append(t.attrSteps, Step{Op: OpAddAttr, A: a.ID, Attr: a})
	p, _ := next.ByID(a.ID)
	return p, nil
}

// links emits one add-triple (link) or retract-triple (unlink) per target.
func (t *transformer) links(op *TxOp, e EntityID, l *LookupRef, stepOp StepOp) error {
	ns := op.Namespace
	for _, label := range sortedKeys(op.Args) {
		fwd, isFwd := t.attrs.ByName(ns, label)
		rev, isRev := t.attrs.Reverse(ns, label)
		switch {
		case isFwd && !fwd.IsRef():
			return wrapErr(ErrWrongType, ns+"."+label+" is not a link")
		case !isFwd && !isRev:
			if !t.opts.CreateMissingAttrs {
				return wrapErr(ErrUnknownAttr, ns+"."+label)
			}
			if len(t.attrs.Namespace(label)) == 0 {
				return wrapErr(ErrUnknownAttr, ns+"."+label+": cannot infer the link's target namespace")
			}
			var err error
			fwd, err = t.define(Attr{Namespace: ns, Label: label, Type: TypeRef, Cardinality: CardinalityMany,
				RefNamespace: label, ReverseLabel: ns})
			if err != nil {
				return err
			}
			isFwd = true
		}
		targets, err := targetList(op.Args[label])
		if err != nil {
			return errs.Wrap(ns+"."+label, err)
		}
		for _, x := range targets {
			st := Step{Op: stepOp}
			if isFwd {
				te, tl, err := t.target(fwd.RefNamespace, x)
				if err != nil {
					return errs.Wrap(ns+"."+label, err)
				}
				st.E, st.Lookup, st.A = e, copyLookup(l), fwd.ID
				st.V, st.ValueLookup = refOrLookup(te, tl)
			} else {
				te, tl, err := t.target(rev.Namespace, x)
				if err != nil {
					return errs.Wrap(ns+"."+label, err)
				}
				st.E, st.Lookup, st.A = te, tl, rev.ID
				st.V, st.ValueLookup = refOrLookup(e, copyLookup(l))
			}
			t.steps = append(t.steps, st)
		}
	}
	return nil
}

// target converts one link target of namespace ns.
func (t *transformer) target(ns string, x any) (EntityID, *LookupRef, error) {
	switch v := x.(type) {
	case EntityID:
		return t.entity(ns, v, nil)
	case string:
		id, err := ParseEntityID(v)
		if err != nil {
			return EntityID{}, nil, err
		}
		return t.entity(ns, id, nil)
	case Lookup:
		return t.entity(ns, EntityID{}, &v)
	case *Lookup:
		return t.entity(ns, EntityID{}, v)
	}
	return EntityID{}, nil, wrapErr(ErrMalformedStep, "link target "+typeName(x))
}

// targetList flattens a link argument into its targets.
func targetList(x any) ([]any, error) {
	switch v := x.(type) {
	case []any:
		return v, nil
	case []EntityID:
		return toAny(v), nil
	case []string:
		return toAny(v), nil
	case []Lookup:
		return toAny(v), nil
	case nil:
		return nil, wrapErr(ErrMalformedStep, "missing link target")
	}
	return []any{x}, nil
}

func toAny[T any](xs []T) []any {
	out := make([]any, len(xs))
	for i, x := range xs {
		out[i] = x
	}
	return out
}

func refOrLookup(e EntityID, l *LookupRef) (Value, *LookupRef) {
	if l != nil {
		return Value{}, l
	}
	return Ref(e), nil
}

func copyLookup(l *LookupRef) *LookupRef {
	if l == nil {
		return nil
	}
	c := *l
	return &c
}

func isObject(v Value) bool { return v.Kind() == KindJSON && v.str[0] == '{' }

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
