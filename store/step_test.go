package store_test

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/triplesync/triplesync/store"
)

const (
	e1s = "11111111-1111-4111-8111-111111111111"
	a1s = "aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa"
	a2s = "bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb"
)

var (
	stepE1 = store.MustParseEntityID(e1s)
	stepA1 = store.MustParseEntityID(a1s)
	stepA2 = store.MustParseEntityID(a2s)
)

func TestStepJSONRoundTrip(t *testing.T) {
	attr := store.Attr{ID: stepA1, Namespace: "todos", Label: "owner", Type: store.TypeRef, RefNamespace: "users", ReverseLabel: "todos"}
	attrJSON := `{"id":"` + a1s + `","namespace":"todos","label":"owner","value-type":"ref","cardinality":"one","unique":false,"indexed":false,"ref-namespace":"users","reverse-label":"todos"}`
	lookup := &store.LookupRef{A: stepA2, V: store.String("ann@x.com")}
	tests := []struct {
		name string
		step store.Step
		wire string
	}{
		{"add upsert", store.Step{Op: store.OpAddTriple, E: stepE1, A: stepA1, V: store.String("x")},
			`["add-triple","` + e1s + `","` + a1s + `","x"]`},
		{"add create", store.Step{Op: store.OpAddTriple, E: stepE1, A: stepA1, V: store.Number(2), Mode: store.ModeCreate},
			`["add-triple","` + e1s + `","` + a1s + `",2,{"mode":"create"}]`},
		{"add update", store.Step{Op: store.OpAddTriple, E: stepE1, A: stepA1, V: store.Null(), Mode: store.ModeUpdate},
			`["add-triple","` + e1s + `","` + a1s + `",null,{"mode":"update"}]`},
		{"add json", store.Step{Op: store.OpAddTriple, E: stepE1, A: stepA1, V: mustValue(t, `{"b":[1],"a":{}}`)},
			`["add-triple","` + e1s + `","` + a1s + `",{"a":{},"b":[1]}]`},
		{"add array value, not a lookup", store.Step{Op: store.OpAddTriple, E: stepE1, A: stepA1, V: mustValue(t, `["`+a2s+`",1]`)},
			`["add-triple","` + e1s + `","` + a1s + `",["` + a2s + `",1]]`},
		{"add by lookup", store.Step{Op: store.OpAddTriple, Lookup: lookup, A: stepA1, V: store.Bool(true)},
			`["add-triple",["` + a2s + `","ann@x.com"],"` + a1s + `",true]`},
		{"add value lookup", store.Step{Op: store.OpAddTriple, E: stepE1, A: stepA1, ValueLookup: lookup, Mode: store.ModeCreate},
			`["add-triple","` + e1s + `","` + a1s + `",["` + a2s + `","ann@x.com"],{"mode":"create","value-lookup":true}]`},
		{"merge", store.Step{Op: store.OpDeepMergeTriple, E: stepE1, A: stepA1, V: mustValue(t, `{"a":null}`)},
			`["deep-merge-triple","` + e1s + `","` + a1s + `",{"a":null}]`},
		{"merge update by lookup", store.Step{Op: store.OpDeepMergeTriple, Lookup: lookup, A: stepA1, V: mustValue(t, `{"a":1}`), Mode: store.ModeUpdate},
			`["deep-merge-triple",["` + a2s + `","ann@x.com"],"` + a1s + `",{"a":1},{"mode":"update"}]`},
		{"retract", store.Step{Op: store.OpRetractTriple, E: stepE1, A: stepA1, V: store.Number(-1.5)},
			`["retract-triple","` + e1s + `","` + a1s + `",-1.5]`},
		{"retract value lookup", store.Step{Op: store.OpRetractTriple, E: stepE1, A: stepA1, ValueLookup: lookup},
			`["retract-triple","` + e1s + `","` + a1s + `",["` + a2s + `","ann@x.com"],{"value-lookup":true}]`},
		{"delete", store.Step{Op: store.OpDeleteEntity, E: stepE1, Namespace: "todos"},
			`["delete-entity","` + e1s + `","todos"]`},
		{"delete by lookup", store.Step{Op: store.OpDeleteEntity, Lookup: lookup, Namespace: "users"},
			`["delete-entity",["` + a2s + `","ann@x.com"],"users"]`},
		{"add-attr", store.Step{Op: store.OpAddAttr, A: stepA1, Attr: attr}, `["add-attr",` + attrJSON + `]`},
		{"update-attr", store.Step{Op: store.OpUpdateAttr, A: stepA1, Attr: attr}, `["update-attr",` + attrJSON + `]`},
		{"delete-attr", store.Step{Op: store.OpDeleteAttr, A: stepA1}, `["delete-attr","` + a1s + `"]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := json.Marshal(tt.step)
			require.NoError(t, err)
			assert.Equal(t, tt.wire, string(b))
			var got store.Step
			require.NoError(t, json.Unmarshal([]byte(tt.wire), &got), "Unmarshal(%s)", tt.wire)
			assert.Equal(t, tt.step, got)
		})
	}
}

func TestStepDecodeLenient(t *testing.T) {
	tests := []struct {
		name string
		wire string
		want store.Step
	}{
		{"explicit upsert", `["add-triple","` + e1s + `","` + a1s + `",1,{"mode":"upsert"}]`,
			store.Step{Op: store.OpAddTriple, E: stepE1, A: stepA1, V: store.Number(1)}},
		{"upper-case ids", `["add-triple","` + "11111111-1111-4111-8111-11111111111A" + `","` + a1s + `",1]`,
			store.Step{Op: store.OpAddTriple, E: store.MustParseEntityID("11111111-1111-4111-8111-11111111111a"), A: stepA1, V: store.Number(1)}},
		{"empty options", `["retract-triple","` + e1s + `","` + a1s + `",1,{}]`,
			store.Step{Op: store.OpRetractTriple, E: stepE1, A: stepA1, V: store.Number(1)}},
		{"spaces", ` [ "delete-entity" , [ "` + a1s + `" , 1 ] , "t" ] `,
			store.Step{Op: store.OpDeleteEntity, Lookup: &store.LookupRef{A: stepA1, V: store.Number(1)}, Namespace: "t"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got store.Step
			require.NoError(t, json.Unmarshal([]byte(tt.wire), &got))
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestStepDecodeErrors(t *testing.T) {
	tests := []struct {
		name    string
		wire    string
		mention string
	}{
		{"not an array", `{"op":"add-triple"}`, "want a JSON array"},
		{"empty", `[]`, "empty step"},
		{"op not a string", `[1]`, "op must be a string"},
		{"unknown op", `["nuke"]`, `unknown op "nuke"`},
		{"too few", `["add-triple","` + e1s + `","` + a1s + `"]`, "takes 3 to 4 arguments"},
		{"too many", `["retract-triple","` + e1s + `","` + a1s + `",1,{},2]`, "takes 3 to 4 arguments"},
		{"bad entity", `["add-triple","x","` + a1s + `",1]`, "entity"},
		{"entity a number", `["add-triple",1,"` + a1s + `",1]`, "entity must be a uuid string"},
		{"bad attribute", `["add-triple","` + e1s + `","x",1]`, "attribute"},
		{"bad value", `["add-triple","` + e1s + `","` + a1s + `",1e999]`, "value"},
		{"bad mode", `["add-triple","` + e1s + `","` + a1s + `",1,{"mode":"insert"}]`, `mode "insert"`},
		{"unknown option", `["add-triple","` + e1s + `","` + a1s + `",1,{"upsert":true}]`, "unknown field"},
		{"options not an object", `["add-triple","` + e1s + `","` + a1s + `",1,[1]]`, "options"},
		{"retract with mode", `["retract-triple","` + e1s + `","` + a1s + `",1,{"mode":"create"}]`, "no mode"},
		{"merge a scalar", `["deep-merge-triple","` + e1s + `","` + a1s + `",1]`, "must be an object"},
		{"merge value lookup", `["deep-merge-triple","` + e1s + `","` + a1s + `",["` + a1s + `",1],{"value-lookup":true}]`, "no value lookup"},
		{"lookup of one element", `["add-triple",["` + a1s + `"],"` + a1s + `",1]`, "lookup must be [attr-id, value]"},
		{"lookup attr not a uuid", `["add-triple",["email","x"],"` + a1s + `",1]`, "lookup attribute"},
		{"lookup bad value", `["add-triple",["` + a1s + `",1e999],"` + a1s + `",1]`, "lookup value"},
		{"value lookup not an array", `["add-triple","` + e1s + `","` + a1s + `","x",{"value-lookup":true}]`, "value lookup must be"},
		{"delete without namespace", `["delete-entity","` + e1s + `"]`, "takes 2 to 2"},
		{"delete bad namespace", `["delete-entity","` + e1s + `","a.b"]`, "namespace must be a name"},
		{"attr unknown field", `["add-attr",{"id":"` + a1s + `","namespace":"t","label":"x","bogus":1}]`, "unknown field"},
		{"attr invalid", `["add-attr",{"id":"` + a1s + `","namespace":"t","label":"x","value-type":"ref"}]`, "needs ref-namespace"},
		{"delete-attr bad id", `["delete-attr",5]`, "attribute must be a uuid"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got store.Step
			err := json.Unmarshal([]byte(tt.wire), &got)
			require.Error(t, err, "Unmarshal(%s) = %+v", tt.wire, got)
			assert.ErrorIs(t, err, store.ErrMalformedStep)
			assert.Contains(t, err.Error(), tt.mention)
		})
	}
}

func TestStepEncodeErrors(t *testing.T) {
	for _, st := range []store.Step{
		{Op: "nuke"},
		{Op: store.OpRetractTriple, E: stepE1, A: stepA1, Mode: store.ModeCreate},
		{Op: store.OpAddTriple, E: stepE1, A: stepA1, Mode: 7},
		{Op: store.OpDeepMergeTriple, E: stepE1, A: stepA1, ValueLookup: &store.LookupRef{A: stepA1}},
	} {
		_, err := st.Encode(nil)
		assert.ErrorIs(t, err, store.ErrMalformedStep, "Encode(%+v)", st)
	}
	_, err := store.EncodeSteps(nil, []store.Step{{Op: store.OpDeleteAttr, A: stepA1}, {Op: "nuke"}})
	var se *store.StepError
	require.ErrorAs(t, err, &se)
	assert.Equal(t, 1, se.Index)
	assert.Equal(t, `step 1 (nuke): store: malformed step: unknown op "nuke"`, se.Error())
}

func TestDecodeSteps(t *testing.T) {
	steps, err := store.DecodeSteps([]byte(`[["delete-attr","` + a1s + `"],["delete-entity","` + e1s + `","t"]]`))
	require.NoError(t, err)
	require.Len(t, steps, 2)
	b, err := store.EncodeSteps(nil, steps)
	require.NoError(t, err)
	assert.Equal(t, `[["delete-attr","`+a1s+`"],["delete-entity","`+e1s+`","t"]]`, string(b))

	_, err = store.DecodeSteps([]byte(`[["delete-attr","` + a1s + `"],["add-triple"]]`))
	var se *store.StepError
	require.ErrorAs(t, err, &se)
	assert.Equal(t, 1, se.Index)
	assert.True(t, errors.Is(err, store.ErrMalformedStep))
	assert.Contains(t, se.Error(), "step 1: ")

	_, err = store.DecodeSteps([]byte(`{}`))
	assert.ErrorIs(t, err, store.ErrMalformedStep)
	steps, err = store.DecodeSteps([]byte(`[]`))
	require.NoError(t, err)
	assert.Empty(t, steps)
}

// stepSeeds are real wire steps of every shape, for the fuzzers.
var stepSeeds = []string{
	`["add-triple","` + e1s + `","` + a1s + `","x"]`,
	`["add-triple","` + e1s + `","` + a1s + `",{"a":[1,2]},{"mode":"create"}]`,
	`["add-triple",["` + a2s + `","ann@x.com"],"` + a1s + `",1,{"mode":"update"}]`,
	`["add-triple","` + e1s + `","` + a1s + `",["` + a2s + `","ann"],{"value-lookup":true}]`,
	`["deep-merge-triple","` + e1s + `","` + a1s + `",{"a":null,"b":{"c":1}}]`,
	`["retract-triple","` + e1s + `","` + a1s + `",null]`,
	`["delete-entity","` + e1s + `","todos"]`,
	`["add-attr",{"id":"` + a1s + `","namespace":"t","label":"l","value-type":"ref","cardinality":"many","unique":true,"indexed":true,"ref-namespace":"u","reverse-label":"r","on-delete-cascade":true}]`,
	`["update-attr",{"id":"` + a1s + `","namespace":"t","label":"id","value-type":"string"}]`,
	`["delete-attr","` + a1s + `"]`,
}

// FuzzStepUnmarshal: no panic; a decoded step encodes, and the encoding
// decodes to the same step and re-encodes byte for byte.
func FuzzStepUnmarshal(f *testing.F) {
	for _, s := range stepSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var s store.Step
		if err := json.Unmarshal(data, &s); err != nil {
			return
		}
		b, err := s.Encode(nil)
		require.NoError(t, err, "encode %+v", s)
		var s2 store.Step
		require.NoError(t, json.Unmarshal(b, &s2), "decode %s", b)
		require.Equal(t, s, s2)
		b2, err := s2.Encode(nil)
		require.NoError(t, err)
		require.Equal(t, string(b), string(b2))
	})
}

// FuzzDecodeSteps: as FuzzStepUnmarshal for whole batches, and a failure
// names a step that exists.
func FuzzDecodeSteps(f *testing.F) {
	all := "["
	for i, s := range stepSeeds {
		if i > 0 {
			all += ","
		}
		all += s
	}
	f.Add([]byte(all + "]"))
	f.Add([]byte(`[]`))
	f.Add([]byte(`[["delete-attr","` + a1s + `"],["x"]]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		steps, err := store.DecodeSteps(data)
		if err != nil {
			var se *store.StepError
			if errors.As(err, &se) {
				require.GreaterOrEqual(t, se.Index, 0)
			}
			require.ErrorIs(t, err, store.ErrMalformedStep)
			return
		}
		b, err := store.EncodeSteps(nil, steps)
		require.NoError(t, err)
		steps2, err := store.DecodeSteps(b)
		require.NoError(t, err, "decode %s", b)
		require.Equal(t, len(steps), len(steps2))
		for i := range steps {
			require.Equal(t, steps[i], steps2[i])
		}
		b2, err := store.EncodeSteps(nil, steps2)
		require.NoError(t, err)
		require.Equal(t, string(b), string(b2))
	})
}
