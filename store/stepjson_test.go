package store

// The encoding/json step decoder that stepjson.go replaced, kept as the
// oracle: decoded steps and error texts must stay the same.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"

	tassert "github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type oracleStepDecoder struct {
	op  StepOp
	arr []json.RawMessage
}

func oracleUnmarshalStep(s *Step, b []byte) error {
	var arr []json.RawMessage
	if err := json.Unmarshal(b, &arr); err != nil {
		return wrapErr(ErrMalformedStep, "want a JSON array: "+err.Error())
	}
	if len(arr) == 0 {
		return wrapErr(ErrMalformedStep, "empty step")
	}
	var op StepOp
	if err := json.Unmarshal(arr[0], &op); err != nil {
		return wrapErr(ErrMalformedStep, "op must be a string")
	}
	d := oracleStepDecoder{op: op, arr: arr}
	out := Step{Op: op}
	var err error
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
		if err := json.Unmarshal(arr[2], &out.Namespace); err != nil || !validName(out.Namespace) {
			return wrapErr(ErrMalformedStep, "delete-entity namespace must be a name")
		}
	case OpAddAttr, OpUpdateAttr:
		if err = d.argc(1, 1); err != nil {
			return err
		}
		dec := json.NewDecoder(bytes.NewReader(arr[1]))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&out.Attr); err != nil {
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

func (d *oracleStepDecoder) argc(lo, hi int) error {
	if n := len(d.arr) - 1; n < lo || n > hi {
		return wrapErr(ErrMalformedStep, string(d.op)+" takes "+strconv.Itoa(lo)+" to "+strconv.Itoa(hi)+" arguments, got "+strconv.Itoa(n))
	}
	return nil
}

func (d *oracleStepDecoder) id(i int, what string) (EntityID, error) {
	var s string
	if err := json.Unmarshal(d.arr[i], &s); err != nil {
		return EntityID{}, wrapErr(ErrMalformedStep, string(d.op)+" "+what+" must be a uuid string")
	}
	v, err := ParseEntityID(s)
	if err != nil {
		return EntityID{}, wrapErr(ErrMalformedStep, string(d.op)+" "+what+": "+err.Error())
	}
	return v, nil
}

// entity decodes an entity position: an id string or a lookup pair.
func (d *oracleStepDecoder) entity(i int) (EntityID, *LookupRef, error) {
	if l, ok, err := d.lookup(i, "entity"); ok {
		return EntityID{}, l, err
	}
	e, err := d.id(i, "entity")
	return e, nil, err
}

// lookup decodes ["<attr-id>", <value>] at position i. ok is false when the
// element is not a JSON array at all.
func (d *oracleStepDecoder) lookup(i int, what string) (*LookupRef, bool, error) {
	raw := bytes.TrimLeft(d.arr[i], " \t\r\n")
	if len(raw) == 0 || raw[0] != '[' {
		return nil, false, nil
	}
	var pair []json.RawMessage
	if err := json.Unmarshal(raw, &pair); err != nil || len(pair) != 2 {
		return nil, true, wrapErr(ErrMalformedStep, string(d.op)+" "+what+" lookup must be [attr-id, value]")
	}
	sub := oracleStepDecoder{op: d.op, arr: pair}
	a, err := sub.id(0, what+" lookup attribute")
	if err != nil {
		return nil, true, err
	}
	v, err := oracleParseValue(pair[1])
	if err != nil {
		return nil, true, wrapErr(ErrMalformedStep, string(d.op)+" "+what+" lookup value: "+err.Error())
	}
	return &LookupRef{A: a, V: v}, true, nil
}

func (d *oracleStepDecoder) triple(out *Step) error {
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
		dec := json.NewDecoder(bytes.NewReader(d.arr[4]))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&opts); err != nil {
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
	if out.V, err = oracleParseValue(d.arr[3]); err != nil {
		return wrapErr(ErrMalformedStep, string(d.op)+" value: "+err.Error())
	}
	if d.op == OpDeepMergeTriple && out.V.Kind() != KindJSON {
		return wrapErr(ErrMalformedStep, "deep-merge-triple value must be an object or array")
	}
	return nil
}

// DecodeSteps decodes a JSON array of steps, naming the first bad one by its
// index in a *StepError.
func oracleDecodeSteps(b []byte) ([]Step, error) {
	var raws []json.RawMessage
	if err := json.Unmarshal(b, &raws); err != nil {
		return nil, wrapErr(ErrMalformedStep, "tx-steps must be a JSON array: "+err.Error())
	}
	steps := make([]Step, len(raws))
	for i, r := range raws {
		if err := oracleUnmarshalStep(&steps[i], r); err != nil {
			return nil, &StepError{Index: i, Err: err}
		}
	}
	return steps, nil
}

const (
	oe = "e0000000-0000-4000-8000-000000000001"
	oa = "a0000000-0000-4000-8000-000000000002"
)

var stepOracleSeeds = []string{
	`[["add-triple","` + oe + `","` + oa + `",1]]`,
	`[["add-triple","` + oe + `","` + oa + `",{"b":1,"a":"<"},{"mode":"create"}]]`,
	`[["add-triple",["` + oa + `","x"],"` + oa + `",["` + oa + `",2],{"value-lookup":true,"MODE":"update"}]]`,
	`[["retract-triple","` + oe + `","` + oa + `",null,{"mode":1,"bogus":2,"value-lookup":"x"}]]`,
	`[["deep-merge-triple","` + oe + `","` + oa + `",{"a":{"b":null}},null]]`,
	`[["delete-entity","` + oe + `","todos"],["delete-entity",["` + oa + `",1],null]]`,
	`[["add-attr",{"id":"` + oa + `","namespace":"t","label":"x","value-type":"string","cardinality":"many","unique":true,"indexed":true}]]`,
	`[["update-attr",{"ID":"` + oa + `","Namespace":"t","label":"x","ref-namespace":"u","reverse-label":"y","value-type":"ref","on-delete-cascade":true}]]`,
	`[["add-attr",{"id":"` + oa + `","namespace":1,"label":[],"value-type":"nope","bogus":{}}]]`,
	`[["add-attr",{"id":7,"namespace":"t","label":"x","value-type":3,"cardinality":true,"unique":"no"}]]`,
	`[["add-attr",[1]],["add-attr","x"],["add-attr",null]]`,
	`[["delete-attr","` + oa + `"],["delete-attr",null],["delete-attr",5]]`,
	`[[],[null],[1],["x"],"x",{},null]`, `null`, `{}`, `"x"`, `[`, `[[`, `[["add-triple"`, `[1]x`, ` [] `,
	`[["add-triple","` + oe + `","` + oa + `"]]`, `[["add-triple","bad","` + oa + `",1]]`,
	`[["add-triple",["` + oa + `"],"` + oa + `",1]]`, `[["add-triple",["` + oa + `",1e400],"` + oa + `",1]]`,
	`[["add-triple","` + oe + `","` + oa + `",1,{"mode":"upsert","Value-Lookup":false,"mode":null}]]`,
	`[["add-triple","` + oe + `","` + oa + `",1,{"ſ":1,"MOde":"create"}]]`,
	`[["add-triple","` + oe + `","` + oa + `",1,[],2]]`,
}

// FuzzDecodeStepsOracle: DecodeSteps gives what the encoding/json decoder
// gave, steps and error text, and what it decodes encodes back to the same
// bytes either way.
func FuzzDecodeStepsOracle(f *testing.F) {
	for _, s := range stepOracleSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		got, err := DecodeSteps(data)
		want, werr := oracleDecodeSteps(data)
		if werr != nil {
			require.Error(t, err, "%q", data)
			require.Equal(t, werr.Error(), err.Error(), "%q", data)
			return
		}
		require.NoError(t, err, "%q", data)
		require.Equal(t, want, got, "%q", data)
		for i := range got {
			var one Step
			require.NoError(t, oracleUnmarshalStep(&one, mustEncode(t, got[i])))
		}
	})
}

func mustEncode(t *testing.T, s Step) []byte {
	b, err := s.Encode(nil)
	require.NoError(t, err)
	return b
}

// TestStepSeedsOracle runs the seeds without the fuzzer, and mutations of
// them.
func TestStepSeedsOracle(t *testing.T) {
	r := rand.New(rand.NewPCG(8, 9))
	for _, s := range stepOracleSeeds {
		for n := range 300 {
			data := []byte(s)
			if n > 0 {
				data = mutateJSON(r, data)
			}
			got, err := DecodeSteps(data)
			want, werr := oracleDecodeSteps(data)
			if werr != nil {
				require.Error(t, err, "%q", data)
				require.Equal(t, werr.Error(), err.Error(), "%q", data)
				continue
			}
			require.NoError(t, err, "%q", data)
			require.Equal(t, want, got, "%q", data)
		}
	}
}

func mutateJSON(r *rand.Rand, b []byte) []byte {
	b = bytes.Clone(b)
	for range 1 + r.IntN(3) {
		if len(b) == 0 {
			break
		}
		i := r.IntN(len(b))
		switch r.IntN(4) {
		case 0:
			b = append(b[:i], b[i+1:]...)
		case 1:
			b[i] = `[]{}",:0-1.e tnfu\xAM`[r.IntN(21)]
		case 2:
			ins := []string{`"mode":"x",`, `null,`, `1,`, `"unique":1,`, `"x":[],`, ` `}[r.IntN(6)]
			b = append(b[:i], append([]byte(ins), b[i:]...)...)
		default:
			b = b[:i]
		}
	}
	return b
}

// TestEncodeAttrMatchesEncodingJSON: add-attr's attribute and a triple
// step's options are written as json.Marshal wrote them.
func TestEncodeAttrMatchesEncodingJSON(t *testing.T) {
	r := rand.New(rand.NewPCG(10, 11))
	names := []string{"", "t", "<x>", "a&b", "é", "\u2028", "\"q\"", "\x01", "\xff"}
	for range 20000 {
		a := Attr{
			ID: EntityID{byte(r.IntN(256)), 1}, Namespace: names[r.IntN(len(names))], Label: names[r.IntN(len(names))],
			Type: ValueType(r.IntN(9)), Cardinality: Cardinality(r.IntN(3)), Unique: r.IntN(2) == 0, Indexed: r.IntN(2) == 0,
			RefNamespace: names[r.IntN(len(names))], ReverseLabel: names[r.IntN(len(names))], OnDeleteCascade: r.IntN(2) == 0,
		}
		want, err := json.Marshal(a)
		require.NoError(t, err)
		require.Equal(t, string(want), string(a.AppendJSON(nil)))
		list := []Attr{a, {}, a}[:r.IntN(4)]
		if r.IntN(4) == 0 {
			list = nil
		}
		want, err = json.Marshal(list)
		require.NoError(t, err)
		require.Equal(t, string(want), string(AppendAttrsJSON(nil, list)))
		o := stepOptions{Mode: []string{"", "create", "update", "upsert"}[r.IntN(4)], ValueLookup: r.IntN(2) == 0}
		want, err = json.Marshal(o)
		require.NoError(t, err)
		require.Equal(t, string(want), string(appendOptions(nil, o)))
	}
}

var (
	_ = fmt.Sprint
	_ = strings.Contains
	_ = tassert.Equal
)
