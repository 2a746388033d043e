package store

import (
	"bytes"
	"encoding/json"
	"fmt"
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

// Mode says what add-triple expects of the entity.
type Mode uint8

const (
	ModeUpsert Mode = iota // create or update (the default)
	ModeCreate             // the entity must not exist yet
	ModeUpdate             // the entity must exist
)

var modeNames = [...]string{"upsert", "create", "update"}

func (m Mode) String() string {
	if int(m) < len(modeNames) {
		return modeNames[m]
	}
	return fmt.Sprintf("Mode(%d)", m)
}

// Step is one tx-step: the unit clients send and every side applies. Which
// fields are set depends on Op:
//
//	add-triple, deep-merge-triple, retract-triple: E, A, V (Mode for add-triple)
//	delete-entity: E, Namespace
//	add-attr, update-attr: Attr
//	delete-attr: A
//
// On the wire a step is a JSON array, as InstantDB's are:
//
//	["add-triple", "<e>", "<a>", <v>]            (mode upsert)
//	["add-triple", "<e>", "<a>", <v>, {"mode": "create"}]
//	["deep-merge-triple", "<e>", "<a>", {...}]
//	["retract-triple", "<e>", "<a>", <v>]
//	["delete-entity", "<e>", "<namespace>"]
//	["add-attr", {attr}]   ["update-attr", {attr}]   ["delete-attr", "<a>"]
type Step struct {
	Op        StepOp
	E         EntityID
	A         AttrID
	V         Value
	Mode      Mode
	Namespace string
	Attr      Attr
}

// StepError names the step of a batch that could not be decoded or applied.
type StepError struct {
	Index int    // position in the batch
	Op    StepOp // the step's op, when known
	Err   error
}

func (e *StepError) Error() string {
	if e.Op == "" {
		return fmt.Sprintf("step %d: %v", e.Index, e.Err)
	}
	return fmt.Sprintf("step %d (%s): %v", e.Index, e.Op, e.Err)
}

func (e *StepError) Unwrap() error { return e.Err }

// MarshalJSON encodes the step as its wire array.
func (s Step) MarshalJSON() ([]byte, error) {
	switch s.Op {
	case OpAddTriple, OpDeepMergeTriple, OpRetractTriple:
		arr := []any{s.Op, s.E, s.A, s.V}
		if s.Op == OpAddTriple && s.Mode != ModeUpsert {
			arr = append(arr, map[string]string{"mode": s.Mode.String()})
		}
		return json.Marshal(arr)
	case OpDeleteEntity:
		return json.Marshal([]any{s.Op, s.E, s.Namespace})
	case OpAddAttr, OpUpdateAttr:
		return json.Marshal([]any{s.Op, s.Attr})
	case OpDeleteAttr:
		return json.Marshal([]any{s.Op, s.A})
	}
	return nil, fmt.Errorf("%w: unknown op %q", ErrMalformedStep, s.Op)
}

// UnmarshalJSON decodes a wire array, checking its shape (not whether the
// entity or attribute exists: applying does that). It keeps nothing of b.
func (s *Step) UnmarshalJSON(b []byte) error {
	var arr []json.RawMessage
	if err := json.Unmarshal(b, &arr); err != nil {
		return fmt.Errorf("%w: want a JSON array: %v", ErrMalformedStep, err)
	}
	if len(arr) == 0 {
		return fmt.Errorf("%w: empty step", ErrMalformedStep)
	}
	var op StepOp
	if err := json.Unmarshal(arr[0], &op); err != nil {
		return fmt.Errorf("%w: op must be a string", ErrMalformedStep)
	}
	out := Step{Op: op}
	argc := func(min, max int) error {
		if n := len(arr) - 1; n < min || n > max {
			return fmt.Errorf("%w: %s takes %d to %d arguments, got %d", ErrMalformedStep, op, min, max, n)
		}
		return nil
	}
	id := func(i int, what string) (EntityID, error) {
		var s string
		if err := json.Unmarshal(arr[i], &s); err != nil {
			return EntityID{}, fmt.Errorf("%w: %s %s must be a uuid string", ErrMalformedStep, op, what)
		}
		v, err := ParseEntityID(s)
		if err != nil {
			return EntityID{}, fmt.Errorf("%w: %s %s: %v", ErrMalformedStep, op, what, err)
		}
		return v, nil
	}
	var err error
	switch op {
	case OpAddTriple, OpDeepMergeTriple, OpRetractTriple:
		max := 3
		if op == OpAddTriple {
			max = 4
		}
		if err = argc(3, max); err != nil {
			return err
		}
		if out.E, err = id(1, "entity"); err != nil {
			return err
		}
		if out.A, err = id(2, "attribute"); err != nil {
			return err
		}
		if out.V, err = ParseValue(arr[3]); err != nil {
			return fmt.Errorf("%w: %s value: %v", ErrMalformedStep, op, err)
		}
		if op == OpDeepMergeTriple && out.V.Kind() != KindJSON {
			return fmt.Errorf("%w: deep-merge-triple value must be an object", ErrMalformedStep)
		}
		if len(arr) == 5 {
			var opts struct {
				Mode string `json:"mode"`
			}
			dec := json.NewDecoder(bytes.NewReader(arr[4]))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&opts); err != nil {
				return fmt.Errorf("%w: add-triple options: %v", ErrMalformedStep, err)
			}
			switch opts.Mode {
			case "", "upsert":
				out.Mode = ModeUpsert
			case "create":
				out.Mode = ModeCreate
			case "update":
				out.Mode = ModeUpdate
			default:
				return fmt.Errorf("%w: add-triple mode %q", ErrMalformedStep, opts.Mode)
			}
		}
	case OpDeleteEntity:
		if err = argc(2, 2); err != nil {
			return err
		}
		if out.E, err = id(1, "entity"); err != nil {
			return err
		}
		if err := json.Unmarshal(arr[2], &out.Namespace); err != nil || !validName(out.Namespace) {
			return fmt.Errorf("%w: delete-entity namespace must be a name", ErrMalformedStep)
		}
	case OpAddAttr, OpUpdateAttr:
		if err = argc(1, 1); err != nil {
			return err
		}
		dec := json.NewDecoder(bytes.NewReader(arr[1]))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&out.Attr); err != nil {
			return fmt.Errorf("%w: %s attribute: %v", ErrMalformedStep, op, err)
		}
		if err := out.Attr.Validate(); err != nil {
			return fmt.Errorf("%w: %s: %v", ErrMalformedStep, op, err)
		}
		out.A = out.Attr.ID
	case OpDeleteAttr:
		if err = argc(1, 1); err != nil {
			return err
		}
		if out.A, err = id(1, "attribute"); err != nil {
			return err
		}
	default:
		return fmt.Errorf("%w: unknown op %q", ErrMalformedStep, op)
	}
	*s = out
	return nil
}

// DecodeSteps decodes a JSON array of steps, naming the first bad one by its
// index in a *StepError.
func DecodeSteps(b []byte) ([]Step, error) {
	var raws []json.RawMessage
	if err := json.Unmarshal(b, &raws); err != nil {
		return nil, fmt.Errorf("%w: tx-steps must be a JSON array: %v", ErrMalformedStep, err)
	}
	steps := make([]Step, len(raws))
	for i, r := range raws {
		if err := steps[i].UnmarshalJSON(r); err != nil {
			return nil, &StepError{Index: i, Err: err}
		}
	}
	return steps, nil
}
