package store

import (
	"bytes"
	"strconv"
)

// StepOp names a tx-step.
type StepOp string

const (
	OpAddTriple       StepOp = "add-triple"        // set a value (cardinality one replaces)
	OpDeepMergeTriple StepOp = "deep-merge-triple" // merge a JSON object into the current value
	OpRetractTriple   StepOp = "retract-triple"    // remove one triple
	OpDeleteEntity    StepOp = "delete-entity"     // remove an entity, the links to it, and cascades
	OpAddAttr         StepOp = "add-attr"          // define an attribute
	OpUpdateAttr      StepOp = "update-attr"       // change an attribute's definition
	OpDeleteAttr      StepOp = "delete-attr"       // remove an attribute and all its triples
)

// Mode says what add-triple and deep-merge-triple expect of the entity.
type Mode uint8

const (
	ModeUpsert Mode = iota // create or update (the default)
	ModeCreate             // the entity must not exist yet
	ModeUpdate             // the entity must exist
)

var modeNames = [...]string{"upsert", "create", "update"}

// String returns the mode's wire name.
func (m Mode) String() string {
	if int(m) < len(modeNames) {
		return modeNames[m]
	}
	return "Mode(" + strconv.Itoa(int(m)) + ")"
}

// LookupRef addresses an entity by the value V of one of its unique
// attributes A instead of by id, so a client can write to "the user whose
// email is x" without knowing the id. [Snapshot.Apply] resolves it through
// the AVE index; see there for what happens when no entity holds V.
type LookupRef struct {
	A AttrID
	V Value
}

// String shows the lookup as [attr value] in errors and test output.
func (l LookupRef) String() string { return "[" + l.A.String() + " " + l.V.String() + "]" }

// Step is one tx-step: the unit clients send and every side applies. Which
// fields are set depends on Op:
//
//	add-triple, deep-merge-triple, retract-triple: E or Lookup, A, V or ValueLookup
//	    (Mode for add-triple and deep-merge-triple)
//	delete-entity: E or Lookup, Namespace
//	add-attr, update-attr: Attr (and A = Attr.ID)
//	delete-attr: A
//
// Lookup, when set, replaces E: the step's entity is the one the lookup
// resolves to. ValueLookup, when set, replaces V on add-triple and
// retract-triple of a ref attribute (or of the id attribute): the value is a
// link to the entity it resolves to.
//
// On the wire a step is a JSON array, as InstantDB's are. The entity
// position holds either the id or a lookup pair ["<attr-id>", <value>]:
//
//	["add-triple", "<e>", "<a>", <v>]            (mode upsert)
//	["add-triple", "<e>", "<a>", <v>, {"mode": "create"}]
//	["add-triple", ["<la>", <lv>], "<a>", <v>]
//	["add-triple", "<e>", "<a>", ["<la>", <lv>], {"value-lookup": true}]
//	["deep-merge-triple", "<e>", "<a>", {...}]   (options: mode)
//	["retract-triple", "<e>", "<a>", <v>]        (options: value-lookup)
//	["delete-entity", "<e>", "<namespace>"]
//	["add-attr", {attr}]   ["update-attr", {attr}]   ["delete-attr", "<a>"]
//
// A JSON array is also a legal value, so a lookup in the value position is
// marked by the "value-lookup" option rather than guessed from its shape.
type Step struct {
	Op          StepOp
	E           EntityID
	Lookup      *LookupRef
	A           AttrID
	V           Value
	ValueLookup *LookupRef
	Mode        Mode
	Namespace   string
	Attr        Attr
}

// StepError names the step of a batch that could not be decoded or applied.
type StepError struct {
	Index int    // position in the batch
	Op    StepOp // the step's op, when known
	Err   error
}

// Error names the step, its op and the cause.
func (e *StepError) Error() string {
	if e.Op == "" {
		return "step " + strconv.Itoa(e.Index) + ": " + errText(e.Err)
	}
	return "step " + strconv.Itoa(e.Index) + " (" + string(e.Op) + "): " + errText(e.Err)
}

// Unwrap returns the cause.
func (e *StepError) Unwrap() error { return e.Err }

// stepOptions is the optional last element of a triple step.
type stepOptions struct {
	Mode        string `json:"mode,omitempty"`
	ValueLookup bool   `json:"value-lookup,omitempty"`
}

// Encode appends the step's wire array to dst.
func (s Step) Encode(dst []byte) ([]byte, error) {
	dst = append(dst, '[')
	dst = appendJSONString(dst, string(s.Op))
	switch s.Op {
	case OpAddTriple, OpDeepMergeTriple, OpRetractTriple:
		dst = append(dst, ',')
		dst = appendEntity(dst, s.E, s.Lookup)
		dst = append(dst, ',', '"')
		dst = append(dst, s.A.String()...)
		dst = append(dst, '"', ',')
		if s.ValueLookup != nil {
			if s.Op == OpDeepMergeTriple {
				return nil, wrapErr(ErrMalformedStep, "deep-merge-triple takes no value lookup")
			}
			dst = appendLookup(dst, *s.ValueLookup)
		} else {
			dst = s.V.AppendJSON(dst)
		}
		var opts stepOptions
		if s.Mode != ModeUpsert {
			if s.Op == OpRetractTriple || s.Mode > ModeUpdate {
				return nil, wrapErr(ErrMalformedStep, string(s.Op)+" with mode "+s.Mode.String())
			}
			opts.Mode = s.Mode.String()
		}
		opts.ValueLookup = s.ValueLookup != nil
		if opts != (stepOptions{}) {
			dst = append(dst, ',')
			dst = appendOptions(dst, opts)
		}
	case OpDeleteEntity:
		dst = append(dst, ',')
		dst = appendEntity(dst, s.E, s.Lookup)
		dst = append(dst, ',')
		dst = appendJSONString(dst, s.Namespace)
	case OpAddAttr, OpUpdateAttr:
		dst = append(dst, ',')
		dst = s.Attr.AppendJSON(dst)
	case OpDeleteAttr:
		dst = append(dst, ',', '"')
		dst = append(dst, s.A.String()...)
		dst = append(dst, '"')
	default:
		return nil, wrapErr(ErrMalformedStep, "unknown op "+strconv.Quote(string(s.Op)))
	}
	return append(dst, ']'), nil
}

func appendJSONString(dst []byte, s string) []byte { return String(s).AppendJSON(dst) }

func appendEntity(dst []byte, e EntityID, l *LookupRef) []byte {
	if l != nil {
		return appendLookup(dst, *l)
	}
	dst = append(dst, '"')
	dst = append(dst, e.String()...)
	return append(dst, '"')
}

func appendLookup(dst []byte, l LookupRef) []byte {
	dst = append(dst, '[', '"')
	dst = append(dst, l.A.String()...)
	dst = append(dst, '"', ',')
	dst = l.V.AppendJSON(dst)
	return append(dst, ']')
}

// MarshalJSON encodes the step as its wire array.
func (s Step) MarshalJSON() ([]byte, error) { return s.Encode(nil) }

// UnmarshalJSON decodes a wire array, checking its shape (not whether the
// entity or attribute exists: applying does that). It keeps nothing of b.
func (s *Step) UnmarshalJSON(b []byte) error {
	arr, err := rawArray(b)
	if err != nil {
		return wrapErr(ErrMalformedStep, "want a JSON array: "+err.Error())
	}
	if len(arr) == 0 {
		return wrapErr(ErrMalformedStep, "empty step")
	}
	var op StepOp
	if err := unmarshalString(arr[0], (*string)(&op)); err != nil {
		return wrapErr(ErrMalformedStep, "op must be a string")
	}
	d := stepDecoder{op: op, arr: arr}
	out := Step{Op: op}
	switch op {
	case OpAddTriple, OpDeepMergeTriple, OpRetractTriple:
		err = d.triple(&out)
	case OpDeleteEntity:
		if err = d.argc(2, 2); err != nil {
			return err
		}
		if out.E, out.Lookup, err = d.entity(1); err != nil {
			return err
		}
		if err := unmarshalString(arr[2], &out.Namespace); err != nil || !validName(out.Namespace) {
			return wrapErr(ErrMalformedStep, "delete-entity namespace must be a name")
		}
	case OpAddAttr, OpUpdateAttr:
		if err = d.argc(1, 1); err != nil {
			return err
		}
		if err := decodeAttr(arr[1], &out.Attr); err != nil {
			return wrapErr(ErrMalformedStep, string(op)+" attribute: "+err.Error())
		}
		if err := out.Attr.Validate(); err != nil {
			return wrapErr(ErrMalformedStep, string(op)+": "+err.Error())
		}
		out.A = out.Attr.ID
	case OpDeleteAttr:
		if err = d.argc(1, 1); err != nil {
			return err
		}
		out.A, err = d.id(1, "attribute")
	default:
		return wrapErr(ErrMalformedStep, "unknown op "+strconv.Quote(string(op)))
	}
	if err != nil {
		return err
	}
	*s = out
	return nil
}

// stepDecoder holds one wire array while UnmarshalJSON takes it apart.
type stepDecoder struct {
	op  StepOp
	arr [][]byte // the elements' JSON texts
}

func (d *stepDecoder) argc(lo, hi int) error {
	if n := len(d.arr) - 1; n < lo || n > hi {
		return wrapErr(ErrMalformedStep, string(d.op)+" takes "+strconv.Itoa(lo)+" to "+strconv.Itoa(hi)+" arguments, got "+strconv.Itoa(n))
	}
	return nil
}

func (d *stepDecoder) id(i int, what string) (EntityID, error) {
	var s string
	if err := unmarshalString(d.arr[i], &s); err != nil {
		return EntityID{}, wrapErr(ErrMalformedStep, string(d.op)+" "+what+" must be a uuid string")
	}
	v, err := ParseEntityID(s)
	if err != nil {
		return EntityID{}, wrapErr(ErrMalformedStep, string(d.op)+" "+what+": "+err.Error())
	}
	return v, nil
}

// entity decodes an entity position: an id string or a lookup pair.
func (d *stepDecoder) entity(i int) (EntityID, *LookupRef, error) {
	if l, ok, err := d.lookup(i, "entity"); ok {
		return EntityID{}, l, err
	}
	e, err := d.id(i, "entity")
	return e, nil, err
}

// lookup decodes ["<attr-id>", <value>] at position i. ok is false when the
// element is not a JSON array at all.
func (d *stepDecoder) lookup(i int, what string) (*LookupRef, bool, error) {
	raw := bytes.TrimLeft(d.arr[i], " \t\r\n")
	if len(raw) == 0 || raw[0] != '[' {
		return nil, false, nil
	}
	pair, err := rawArray(raw)
	if err != nil || len(pair) != 2 {
		return nil, true, wrapErr(ErrMalformedStep, string(d.op)+" "+what+" lookup must be [attr-id, value]")
	}
	sub := stepDecoder{op: d.op, arr: pair}
	a, err := sub.id(0, what+" lookup attribute")
	if err != nil {
		return nil, true, err
	}
	v, err := ParseValue(pair[1])
	if err != nil {
		return nil, true, wrapErr(ErrMalformedStep, string(d.op)+" "+what+" lookup value: "+err.Error())
	}
	return &LookupRef{A: a, V: v}, true, nil
}

func (d *stepDecoder) triple(out *Step) error {
	if err := d.argc(3, 4); err != nil {
		return err
	}
	var err error
	if out.E, out.Lookup, err = d.entity(1); err != nil {
		return err
	}
	if out.A, err = d.id(2, "attribute"); err != nil {
		return err
	}
	var opts stepOptions
	if len(d.arr) == 5 {
		if err := decodeOptions(d.arr[4], &opts); err != nil {
			return wrapErr(ErrMalformedStep, string(d.op)+" options: "+err.Error())
		}
	}
	switch opts.Mode {
	case "", "upsert":
		out.Mode = ModeUpsert
	case "create":
		out.Mode = ModeCreate
	case "update":
		out.Mode = ModeUpdate
	default:
		return wrapErr(ErrMalformedStep, string(d.op)+" mode "+strconv.Quote(opts.Mode))
	}
	if d.op == OpRetractTriple && opts.Mode != "" {
		return wrapErr(ErrMalformedStep, "retract-triple takes no mode")
	}
	if opts.ValueLookup {
		if d.op == OpDeepMergeTriple {
			return wrapErr(ErrMalformedStep, "deep-merge-triple takes no value lookup")
		}
		l, ok, err := d.lookup(3, "value")
		if !ok {
			err = wrapErr(ErrMalformedStep, string(d.op)+" value lookup must be [attr-id, value]")
		}
		if err != nil {
			return err
		}
		out.ValueLookup = l
		return nil
	}
	if out.V, err = ParseValue(d.arr[3]); err != nil {
		return wrapErr(ErrMalformedStep, string(d.op)+" value: "+err.Error())
	}
	if d.op == OpDeepMergeTriple && out.V.Kind() != KindJSON {
		return wrapErr(ErrMalformedStep, "deep-merge-triple value must be an object or array")
	}
	return nil
}

// DecodeSteps decodes a JSON array of steps, naming the first bad one by its
// index in a *StepError.
func DecodeSteps(b []byte) ([]Step, error) {
	raws, err := rawArray(b)
	if err != nil {
		return nil, wrapErr(ErrMalformedStep, "tx-steps must be a JSON array: "+err.Error())
	}
	steps := make([]Step, len(raws))
	for i, r := range raws {
		if err := steps[i].UnmarshalJSON(r); err != nil {
			return nil, &StepError{Index: i, Err: err}
		}
	}
	return steps, nil
}

// EncodeSteps appends the JSON array of steps to dst.
func EncodeSteps(dst []byte, steps []Step) ([]byte, error) {
	dst = append(dst, '[')
	for i, s := range steps {
		if i > 0 {
			dst = append(dst, ',')
		}
		var err error
		if dst, err = s.Encode(dst); err != nil {
			return nil, &StepError{Index: i, Op: s.Op, Err: err}
		}
	}
	return append(dst, ']'), nil
}
