package wire

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"

	"github.com/triplesync/triplesync/store"
)

var (
	tE = store.MustParseEntityID("11111111-1111-4111-8111-111111111111")
	tA = store.MustParseEntityID("aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa")
)

func mustValue(t testing.TB, s string) store.Value {
	v, err := store.ParseValue([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// representative returns messages of every type with the shapes that
// matter to the encoding: empty and omitted fields, nil and empty slices,
// strings encoding/json escapes, raw JSON with spaces and HTML characters.
func representative(t testing.TB) []Message {
	obj := mustValue(t, `{"b":[1,"<x> & \u2028"],"a":null}`)
	attr := store.Attr{ID: tA, Namespace: "todos", Label: "title", Type: store.TypeString}
	ref := store.Attr{ID: tA, Namespace: "todos", Label: "owner", Type: store.TypeRef, Cardinality: store.CardinalityMany,
		Unique: true, Indexed: true, RefNamespace: "users", ReverseLabel: "todos", OnDeleteCascade: true}
	ts := Triples{{E: tE, A: tA, V: obj, CreatedAt: 17}, {E: tE, A: tA, V: store.String("a\"b\\c\n<é>\u2029\x01"), CreatedAt: -3},
		{E: tE, A: tA, V: store.Number(1e21), CreatedAt: 0}, {E: tE, A: tA, V: store.Number(-1.5e-7)}, {E: tE, A: tA, V: store.Bool(false)}}
	return []Message{
		&Init{}, &Init{ClientEventID: "1", Token: "jwt"}, &Init{Token: "<&>"},
		&AddQuery{}, &AddQuery{Q: []byte{}}, &AddQuery{Q: []byte(`{`)}, &AddQuery{Q: []byte(`{} x`)},
		&AddQuery{ClientEventID: "2", QueryID: "q1", Q: []byte(" {\"todos\" : {\"$\": {\"where\": {\"t\": \"<a b>\u2028\"}}}}\n")},
		&RemoveQuery{}, &RemoveQuery{ClientEventID: "3", QueryID: "q\u00e9\xff"},
		&Transact{}, &Transact{Steps: []store.Step{}},
		&Transact{ClientEventID: "4", MutationID: "m1", Steps: []store.Step{
			{Op: store.OpAddTriple, E: tE, A: tA, V: store.String("<x>")},
			{Op: store.OpAddTriple, E: tE, A: tA, V: obj, Mode: store.ModeCreate},
			{Op: store.OpDeepMergeTriple, E: tE, A: tA, V: obj, Mode: store.ModeUpdate},
			{Op: store.OpRetractTriple, Lookup: &store.LookupRef{A: tA, V: store.String("a&b")}, A: tA, ValueLookup: &store.LookupRef{A: tA, V: obj}},
			{Op: store.OpDeleteEntity, E: tE, Namespace: "todos"},
			{Op: store.OpAddAttr, Attr: ref}, {Op: store.OpUpdateAttr, Attr: attr},
			{Op: store.OpDeleteAttr, A: tA},
		}},
		&Transact{MutationID: "m", Steps: []store.Step{{Op: "nuke"}}},
		&Transact{MutationID: "m", Steps: []store.Step{{Op: store.OpRetractTriple, E: tE, A: tA, Mode: store.ModeCreate}}},
		&InitOK{}, &InitOK{Attrs: []store.Attr{}}, &InitOK{ClientEventID: "1", SessionID: "s", Attrs: []store.Attr{attr, ref}, AuthID: "u"},
		&InitOK{Attrs: []store.Attr{{Type: 77, Cardinality: 9, Namespace: "<>"}}},
		&AddQueryOK{}, &AddQueryOK{Q: []byte("null"), Result: Triples{}},
		&AddQueryOK{ClientEventID: "2", QueryID: "q1", Q: []byte(`{"todos":{}}`), Result: ts, ProcessedTxID: 9},
		&RemoveQueryOK{}, &RemoveQueryOK{ClientEventID: "3", QueryID: "q1"},
		&TransactOK{}, &TransactOK{ClientEventID: "4", MutationID: "m1", TxID: math.MaxInt64}, &TransactOK{TxID: math.MinInt64},
		&RefreshOK{}, &RefreshOK{Computations: []Computation{}, Attrs: []store.Attr{}},
		&RefreshOK{ProcessedTxID: 10, Attrs: []store.Attr{attr}, Computations: []Computation{
			{QueryID: "q1", Added: ts, Removed: Keys{{E: tE, A: tA, V: store.Null()}, {E: tE, A: tA, V: obj}}},
			{QueryID: "q2", Full: true, Added: Triples{}, Removed: Keys{}},
			{},
		}},
		&Error{}, &Error{OriginalEvent: []byte{}}, &Error{OriginalEvent: []byte(`{"op":`)},
		&Error{ClientEventID: "5", Status: 400, Type: CodeInvalid, Message: "bad <thing> & more", QueryID: "q", MutationID: "m",
			OriginalEvent: []byte("\t{ \"op\" : \"x\", \"s\": \"a b\\\" <c>\" }  ")},
	}
}

func TestEncodeMatchesEncodingJSON(t *testing.T) {
	for _, m := range representative(t) {
		if d := sameEncode(m); d != "" {
			t.Error(d)
		}
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 3000 {
		if d := sameEncode(randMessage(r)); d != "" {
			t.Fatal(d)
		}
	}
}

// oldMarshalTriples is Triples.MarshalJSON as it was.
func oldMarshalTriples(ts Triples) []byte {
	b := []byte("[")
	for i, t := range ts {
		if i > 0 {
			b = append(b, ',')
		}
		b = fmt.Appendf(b, "[%q,%q,%s,%d]", t.E.String(), t.A.String(), t.V.AppendJSON(nil), t.CreatedAt)
	}
	return append(b, ']')
}

// The server (session/delta.go) splices MarshalJSON's text into frames
// itself: it stays as it was (objects' < > & not escaped), and
// encoding/json makes of it what it made of the old.
func TestTriplesMarshalJSONMatchesEncodingJSON(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for range 500 {
		ts := randTriples(r)
		if b, _ := ts.MarshalJSON(); string(b) != string(oldMarshalTriples(ts)) {
			t.Fatalf("MarshalJSON\n%s\n%s", b, oldMarshalTriples(ts))
		}
		b, err := json.Marshal(ts)
		ob, oerr := json.Marshal(oTriples(ts))
		if err != nil || oerr != nil || string(b) != string(ob) {
			t.Fatalf("%s\n%s", b, ob)
		}
		ks := randKeys(r)
		b, err = json.Marshal(ks)
		ob, oerr = json.Marshal(oKeys(ks))
		if err != nil || oerr != nil || string(b) != string(ob) {
			t.Fatalf("%s\n%s", b, ob)
		}
	}
}

var randStrings = []string{"", "a", "q1", "<", ">", "&", "\u2028", "\u2029", "é", "\xff", "\x00", "\x1f", "\"", "\\", "/", "a b", "\t", "日本", "\U0001F600", "\ufffd"}

func randString(r *rand.Rand) string {
	var b strings.Builder
	for range r.IntN(4) {
		b.WriteString(randStrings[r.IntN(len(randStrings))])
	}
	return b.String()
}

func randID(r *rand.Rand) store.EntityID {
	var id store.EntityID
	for i := range id {
		id[i] = byte(r.Uint32())
	}
	return id
}

func randJSON(r *rand.Rand, depth int) any {
	switch n := r.IntN(7); {
	case n == 0 || depth > 2:
		return randString(r)
	case n == 1:
		return r.NormFloat64() * math.Pow(10, float64(r.IntN(50)-25))
	case n == 2:
		return r.IntN(2) == 0
	case n == 3:
		return nil
	case n == 4:
		var a []any
		for range r.IntN(3) {
			a = append(a, randJSON(r, depth+1))
		}
		return a
	default:
		m := map[string]any{}
		for range r.IntN(3) {
			m[randString(r)] = randJSON(r, depth+1)
		}
		return m
	}
}

func randValue(r *rand.Rand) store.Value {
	switch r.IntN(5) {
	case 0:
		return store.String(randString(r))
	case 1:
		return store.Number(math.Trunc(r.NormFloat64()*1000) / float64(1+r.IntN(100)))
	case 2:
		return store.Bool(r.IntN(2) == 0)
	case 3:
		return store.Null()
	}
	b, _ := json.Marshal(randJSON(r, 0))
	v, err := store.ParseValue(b)
	if err != nil {
		return store.Null()
	}
	return v
}

func randTriples(r *rand.Rand) Triples {
	if r.IntN(5) == 0 {
		return nil
	}
	ts := Triples{}
	for range r.IntN(4) {
		ts = append(ts, store.Triple{E: randID(r), A: randID(r), V: randValue(r), CreatedAt: r.Int64() >> r.IntN(64)})
	}
	return ts
}

func randKeys(r *rand.Rand) Keys {
	if r.IntN(3) == 0 {
		return nil
	}
	ks := Keys{}
	for range r.IntN(3) {
		ks = append(ks, store.TripleKey{E: randID(r), A: randID(r), V: randValue(r)})
	}
	return ks
}

func randAttrs(r *rand.Rand) []store.Attr {
	if r.IntN(3) == 0 {
		return nil
	}
	as := []store.Attr{}
	for range r.IntN(3) {
		as = append(as, store.Attr{ID: randID(r), Namespace: randString(r), Label: randString(r),
			Type: store.ValueType(r.IntN(8)), Cardinality: store.Cardinality(r.IntN(3)), Unique: r.IntN(2) == 0,
			Indexed: r.IntN(2) == 0, RefNamespace: randString(r), ReverseLabel: randString(r), OnDeleteCascade: r.IntN(2) == 0})
	}
	return as
}

var randRaws = []string{"", "{}", `{"a":1}`, " { \"a\" : [1, 2,\n3] , \"b<\": \"x y & z\" } ", "null", "[]", "1", `"s"`, "{", "{} {}", "tru", " ", "\u2028{}"}

func randRaw(r *rand.Rand) []byte {
	if r.IntN(4) == 0 {
		return nil
	}
	return []byte(randRaws[r.IntN(len(randRaws))])
}

func randLookup(r *rand.Rand) *store.LookupRef {
	if r.IntN(3) != 0 {
		return nil
	}
	return &store.LookupRef{A: randID(r), V: randValue(r)}
}

func randSteps(r *rand.Rand) []store.Step {
	if r.IntN(5) == 0 {
		return nil
	}
	ss := []store.Step{}
	ops := []store.StepOp{store.OpAddTriple, store.OpDeepMergeTriple, store.OpRetractTriple, store.OpDeleteEntity, store.OpAddAttr, store.OpUpdateAttr, store.OpDeleteAttr}
	for range r.IntN(3) {
		s := store.Step{Op: ops[r.IntN(len(ops))], E: randID(r), Lookup: randLookup(r), A: randID(r), V: randValue(r), Namespace: randString(r)}
		if r.IntN(10) == 0 {
			s.ValueLookup = randLookup(r)
		}
		if r.IntN(10) == 0 {
			s.Mode = store.Mode(r.IntN(4))
		}
		if r.IntN(50) == 0 {
			s.Op = "nuke"
		}
		if as := randAttrs(r); len(as) > 0 {
			s.Attr = as[0]
		}
		ss = append(ss, s)
	}
	return ss
}

func randMessage(r *rand.Rand) Message {
	s := func() string { return randString(r) }
	switch r.IntN(10) {
	case 0:
		return &Init{s(), s()}
	case 1:
		return &AddQuery{s(), s(), randRaw(r)}
	case 2:
		return &RemoveQuery{s(), s()}
	case 3:
		return &Transact{s(), s(), randSteps(r)}
	case 4:
		return &InitOK{s(), s(), randAttrs(r), s()}
	case 5:
		return &AddQueryOK{s(), s(), randRaw(r), randTriples(r), store.TxID(r.Int64() >> r.IntN(64))}
	case 6:
		return &RemoveQueryOK{s(), s()}
	case 7:
		return &TransactOK{s(), s(), store.TxID(-r.Int64() >> r.IntN(64))}
	case 8:
		var cs []Computation
		if r.IntN(4) != 0 {
			cs = []Computation{}
			for range r.IntN(3) {
				cs = append(cs, Computation{s(), r.IntN(2) == 0, randTriples(r), randKeys(r)})
			}
		}
		return &RefreshOK{store.TxID(r.Int64() >> r.IntN(64)), cs, randAttrs(r)}
	}
	return &Error{s(), r.IntN(600) - 50, s(), s(), s(), s(), randRaw(r)}
}

// parseSeeds are frames whose decoding differs with the details of
// encoding/json's: case-insensitive and duplicate keys, nulls, values of
// the wrong type (the first one reported, after a later syntax error and
// a later triples error), nested field paths, slices decoded twice.
var parseSeeds = []string{
	``, ` `, `null`, `[1,2]`, `"x"`, `5`, `true`, `{}`, `{"op":5}`, `{"op":[1]}`, `{"op":{}}`, `{"op":true}`, `{"op":null}`,
	`{"op":"init","op":null}`, `{"OP":"init"}`, `{"Op":"init","oP":"transact"}`, `{"op":"init"`, `{"op":"init"} x`, `{"op":"init"}]`,
	`{"op":"init",}`, `{"op":"init","token":7}`, `{"op":"init","token":7,"x":[}`, `{"op":"init","token":null}`,
	`{"op":"init","token":"a","token":"b","TOKEN":"c"}`, `{"op":"init","token":"a","token":null}`, `{"op":"init","\u0074oken":"t"}`,
	`{"op":"init","toKen":"kelvin K"}`, `{"op":"init","token":nul}`, `{"op":"init","token":nullx}`,
	`{"op":"drop-table"}`, `{"op":"drop-table",`, `{"x":1,"op":"drop-table"}`, ` {"op":"init"}`, `{"op" :"init"}`, `{"op":"in\u0069t"}`,
	`{"op":"add-query","q":[1]}`, `{"op":"add-query"}`, `{"op":"add-query","q":null}`, `{"op":"add-query","q": {"a" : 1} }`,
	`{"op":"add-query","q":{},"q":"x"}`, `{"op":"add-query","query-id":1,"q":{}}`, `{"op":"add-query","q":{},"client-event-id":[]}`,
	`{"op":"remove-query"}`, `{"op":"remove-query","query-id":""}`, `{"op":"remove-query","query-id":{}}`,
	`{"op":"transact","tx-steps":[]}`, `{"op":"transact","mutation-id":"m"}`, `{"op":"transact","mutation-id":"m","tx-steps":null}`,
	`{"op":"transact","mutation-id":5,"tx-steps":[["nuke"]]}`, `{"op":"transact","mutation-id":"m","tx-steps":{}}`,
	`{"op":"transact","mutation-id":"m","tx-steps":[["add-triple","x"]]}`, `{"op":"transact","mutation-id":"m","tx-steps":[["add-triple","x"]],"client-event-id":1}`,
	`{"op":"transact","mutation-id":"m","tx-steps":[["delete-entity","11111111-1111-4111-8111-111111111111","t"],["nuke"]]}`,
	`{"op":"transact","mutation-id":"m","TX-STEPS":[],"tx-steps":null}`,
	`{"op":"add-query-ok","query-id":"q","q":{},"result":[["x","y",1,2]]}`, `{"op":"add-query-ok","query-id":5,"result":[[1]]}`,
	`{"op":"add-query-ok","result":null,"processed-tx-id":1.5}`, `{"op":"add-query-ok","processed-tx-id":"1"}`, `{"op":"add-query-ok","processed-tx-id":-0}`,
	`{"op":"add-query-ok","processed-tx-id":99999999999999999999}`, `{"op":"add-query-ok","processed-tx-id":1e2}`,
	`{"op":"add-query-ok","result":[["11111111-1111-4111-8111-111111111111","aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa",{"a":1},5]]}`,
	`{"op":"add-query-ok","result":[[null,"\u0061aaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa",1,5]]}`, `{"op":"add-query-ok","result":[[1,true,1,5]]}`,
	`{"op":"add-query-ok","result":[["\u0031","x",1,5]]}`, `{"op":"add-query-ok","result":[[[],{},1,5]]}`, `{"op":"add-query-ok","result":{}}`,
	`{"op":"add-query-ok","processed-tx-id":"x","result":[[]],"q":[}`,
	`{"op":"refresh-ok","computations":[{"added":[]}]}`, `{"op":"refresh-ok","computations":null}`, `{"op":"refresh-ok","computations":[]}`,
	`{"op":"refresh-ok","computations":[5,"x",null,[],{"query-id":"q"}]}`, `{"op":"refresh-ok","computations":{}}`, `{"op":"refresh-ok","computations":"x"}`,
	`{"op":"refresh-ok","computations":[{"query-id":"q","full":"yes"}]}`, `{"op":"refresh-ok","computations":[{"query-id":"q","full":1,"added":5}]}`,
	`{"op":"refresh-ok","computations":[{"query-id":"q","removed":null,"added":null}]}`,
	`{"op":"refresh-ok","computations":[{"query-id":"a","full":true},{"query-id":"b"}],"computations":[{"full":false}]}`,
	`{"op":"refresh-ok","computations":[{"query-id":"a"},{"query-id":"b"}],"computations":[{"full":true}],"computations":[{},{}]}`,
	`{"op":"refresh-ok","attrs":[]}`, `{"op":"refresh-ok","attrs":null,"computations":[]}`, `{"op":"refresh-ok","attrs":[1],"computations":[]}`,
	`{"op":"init-ok","attrs":[{"id":"aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa","namespace":"t","label":"x","value-type":"string","cardinality":"one","unique":false,"indexed":true,"ref-namespace":"r","reverse-label":"l","on-delete-cascade":true,"extra":[1]}]}`,
	`{"op":"init-ok","attrs":[{"id":"nope"}]}`, `{"op":"init-ok","attrs":[{"id":5,"label":5}]}`, `{"op":"init-ok","attrs":[{"value-type":"nope"}]}`,
	`{"op":"init-ok","attrs":[{"cardinality":"few"}]}`, `{"op":"init-ok","attrs":[{"cardinality":true}]}`, `{"op":"init-ok","attrs":[{"id":null,"value-type":null,"unique":null}]}`,
	`{"op":"init-ok","attrs":[{"unique":"x"}]}`, `{"op":"init-ok","attrs":[{"ID":"aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa","Value-Type":"ref"}]}`,
	`{"op":"init-ok","attrs":[{"label":"a"},{"label":"b"}],"attrs":[{"namespace":"n"}],"attrs":[{},{}]}`, `{"op":"init-ok","attrs":{}}`, `{"op":"init-ok","attrs":"s"}`,
	`{"op":"init-ok","attrs":[{"id":"aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa"}],"session-id":5,"attrs":[{"id":"bad"}]}`,
	`{"op":"transact-ok","tx-id":"1"}`, `{"op":"transact-ok","tx-id":1,"mutation-id":"m"}`,
	`{"op":"error","status":400,"type":"invalid","message":"x","original-event":{"op":"?"}}`, `{"op":"error","status":1.0}`,
	`{"op":"error","status":true,"type":5}`, `{"op":"error","original-event":null}`, `{"op":"error","original-event": [1, 2] }`,
	`{"op":"error","status":-9223372036854775808}`, `{"op":"error","status":9223372036854775808}`,
	`{"op":"init","client-event-id":"` + strings.Repeat("x", MaxIDLength+1) + `"}`,
	`{"op":"add-query","q":{},"query-id":"` + strings.Repeat("x", MaxIDLength+1) + `"}`,
	"{\"op\":\"init\",\"token\":\"\xff\"}", "{\"op\":\"init\",\"token\":\"\\ud800\"}", "{\"op\":\"init\"}\x00",
	`{"op":"init","a":` + strings.Repeat("[", 10001) + strings.Repeat("]", 10001) + `}`,
}

func TestParseMatchesEncodingJSON(t *testing.T) {
	for _, s := range parseSeeds {
		if d := sameParse([]byte(s)); d != "" {
			t.Error(d)
		}
	}
	r := rand.New(rand.NewPCG(5, 6))
	for range 2000 {
		m := randMessage(r)
		b, err := oldEncode(nil, m)
		if err != nil {
			continue
		}
		if d := sameParse(b); d != "" {
			t.Fatal(d)
		}
	}
}

func TestTransactUnmarshalJSONMatchesEncodingJSON(t *testing.T) {
	for _, s := range append(parseSeeds, `[1]`, `{"mutation-id":"m","tx-steps":[]}`) {
		var m Transact
		var om oTransact
		err := m.UnmarshalJSON([]byte(s))
		oerr := om.UnmarshalJSON([]byte(s))
		if (err == nil) != (oerr == nil) || err != nil && err.Error() != oerr.Error() {
			t.Errorf("UnmarshalJSON(%q):\n new: %v\n old: %v", s, err, oerr)
		}
		if err == nil && (m.ClientEventID != om.ClientEventID || m.MutationID != om.MutationID || len(m.Steps) != len(om.Steps) || (m.Steps == nil) != (om.Steps == nil)) {
			t.Errorf("UnmarshalJSON(%q): %#v, old %#v", s, m, om)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range parseSeeds {
		f.Add([]byte(s))
	}
	r := rand.New(rand.NewPCG(7, 8))
	for range 30 {
		if b, err := oldEncode(nil, randMessage(r)); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if d := sameParse(data); d != "" {
			t.Fatal(d)
		}
		m, err := Parse(data)
		if err != nil {
			if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrUnknownOp) {
				t.Fatalf("Parse(%q) error %v wraps neither ErrMalformed nor ErrUnknownOp", data, err)
			}
			return
		}
		if d := sameEncode(m); d != "" {
			t.Fatal(d)
		}
		b, err := Encode(nil, m)
		if err != nil {
			t.Fatalf("Encode(Parse(%q)): %v", data, err)
		}
		m2, err := Parse(b)
		if err != nil {
			t.Fatalf("Parse(Encode(Parse(%q)))=%q: %v", data, b, err)
		}
		b2, err := Encode(nil, m2)
		if err != nil || string(b) != string(b2) {
			t.Fatalf("round trip not stable:\n%s\n%s", b, b2)
		}
	})
}

var _ = strconv.Itoa
