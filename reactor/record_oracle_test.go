package reactor

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"github.com/triplesync/triplesync/internal/jsonlite"
	"github.com/triplesync/triplesync/internal/wire"
	"github.com/triplesync/triplesync/store"
)

// The record codecs as they were written with encoding/json, before
// record.go: the oracle the hand-written ones must match byte for byte and
// error for error, since records they wrote are on disk and in IndexedDB.

type mutationJSON struct {
	V         int          `json:"v"`
	ID        string       `json:"id"`
	Seq       uint64       `json:"seq"`
	Steps     []store.Step `json:"steps"`
	Created   int64        `json:"created"`
	TxID      store.TxID   `json:"tx-id,omitempty"`
	Confirmed int64        `json:"confirmed,omitempty"`
}

func oracleMarshalMutation(m Mutation) ([]byte, error) {
	steps := m.Steps
	if steps == nil {
		steps = []store.Step{}
	}
	return json.Marshal(mutationJSON{V: recordVersion, ID: m.ID, Seq: m.Seq, Steps: steps, Created: m.Created, TxID: m.TxID, Confirmed: m.Confirmed})
}

func oracleUnmarshalMutation(b []byte) (Mutation, error) {
	var j mutationJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return Mutation{}, fmt.Errorf("%w: mutation: %v", ErrCorrupt, err)
	}
	if j.V != recordVersion || j.ID == "" {
		return Mutation{}, fmt.Errorf("%w: mutation: version %d, id %q", ErrCorrupt, j.V, j.ID)
	}
	return Mutation{ID: j.ID, Seq: j.Seq, Steps: j.Steps, Created: j.Created, TxID: j.TxID, Confirmed: j.Confirmed}, nil
}

type cachedQueryJSON struct {
	V             int             `json:"v"`
	ID            string          `json:"id"`
	Q             json.RawMessage `json:"q"`
	Triples       wire.Triples    `json:"triples"`
	ProcessedTxID store.TxID      `json:"processed-tx-id"`
	LastUsed      int64           `json:"last-used"`
}

func oracleMarshalQuery(q CachedQuery) ([]byte, error) {
	raw := q.Q
	if len(raw) == 0 {
		raw = json.RawMessage("null")
	}
	return json.Marshal(cachedQueryJSON{V: recordVersion, ID: q.ID, Q: raw, Triples: q.Triples, ProcessedTxID: q.ProcessedTxID, LastUsed: q.LastUsed})
}

func oracleUnmarshalQuery(b []byte) (CachedQuery, error) {
	var j cachedQueryJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return CachedQuery{}, fmt.Errorf("%w: cached query: %v", ErrCorrupt, err)
	}
	if j.V != recordVersion || j.ID == "" {
		return CachedQuery{}, fmt.Errorf("%w: cached query: version %d, id %q", ErrCorrupt, j.V, j.ID)
	}
	return CachedQuery{ID: j.ID, Q: j.Q, Triples: j.Triples, ProcessedTxID: j.ProcessedTxID, LastUsed: j.LastUsed}, nil
}

// oracleUnmarshal is json.Unmarshal(b, &x) of the old code, where x's
// UnmarshalJSON was one of the oracle functions: malformed JSON never
// reached it.
func oracleUnmarshal[T any](b []byte, f func([]byte) (T, error)) (T, error) {
	if !json.Valid(b) {
		var zero T
		return zero, json.Unmarshal(b, new(any))
	}
	return f(b)
}

// requireSameErr checks that got and want are both nil or have the same
// message, and that got wraps ErrCorrupt when want does.
func requireSameErr(t testing.TB, want, got error, in []byte) {
	t.Helper()
	if want == nil {
		require.NoError(t, got, "%q", in)
		return
	}
	require.Error(t, got, "%q: want %v", in, want)
	require.Equal(t, want.Error(), got.Error(), "%q", in)
	if isCorrupt := strings.HasPrefix(want.Error(), ErrCorrupt.Error()); isCorrupt {
		require.ErrorIs(t, got, ErrCorrupt)
	}
}

// checkDecode decodes b with the new code and the oracle, directly and as
// storages do, and requires the same records and errors.
func checkDecode(t testing.TB, b []byte) {
	t.Helper()
	var m Mutation
	err := m.UnmarshalJSON(b)
	wantM, wantErr := oracleUnmarshalMutation(b)
	requireSameErr(t, wantErr, err, b)
	if err == nil {
		require.Equal(t, wantM, m, "%q", b)
	}
	var m2 Mutation
	err = jsonlite.Unmarshal(b, m2.UnmarshalJSON)
	_, wantErr = oracleUnmarshal(b, oracleUnmarshalMutation)
	requireSameErr(t, wantErr, err, b)

	var q CachedQuery
	err = q.UnmarshalJSON(b)
	wantQ, wantErr := oracleUnmarshalQuery(b)
	requireSameErr(t, wantErr, err, b)
	if err == nil {
		require.Equal(t, wantQ, q, "%q", b)
	}
	var q2 CachedQuery
	err = jsonlite.Unmarshal(b, q2.UnmarshalJSON)
	_, wantErr = oracleUnmarshal(b, oracleUnmarshalQuery)
	requireSameErr(t, wantErr, err, b)
}

var oddStrings = []string{"", "a", "todos", "Buy milk & eggs", "<b>x</b>", "a\u2028b\u2029c", `q"uote\back`, "tab\tnl\ncr\r",
	"\x00\x1f\x7f", "é☃😀", "bad\xffutf8\xc3", "\xed\xa0\x80", strings.Repeat("long ", 40)}

func randString(r *rand.Rand) string {
	if r.IntN(3) == 0 {
		return oddStrings[r.IntN(len(oddStrings))]
	}
	b := make([]byte, r.IntN(12))
	for i := range b {
		const alphabet = " az<>&\"\\\x01\xe2\x80\xa8\xff"
		b[i] = alphabet[r.IntN(len(alphabet))]
	}
	return string(b)
}

func randID(r *rand.Rand) store.EntityID {
	var id store.EntityID
	for i := range id {
		id[i] = byte(r.Uint32())
	}
	id[6] = id[6]&0x0f | 0x40
	id[8] = id[8]&0x3f | 0x80
	return id
}

var jsonTexts = []string{`null`, `true`, `false`, `0`, `-1.5`, `1e21`, `1e-7`, `123456789012345678`, `"s"`, `"<&>"`,
	`{"a":"<b>","c":[1,2.5,null,{"d":"\u2028"}]}`, `[1,"x",{"y":[]}]`, `{}`, `[]`, `{"k":"é","&":true}`}

func randValue(t testing.TB, r *rand.Rand) store.Value {
	switch r.IntN(4) {
	case 0:
		return store.String(randString(r))
	case 1:
		return store.Number(math.Float64frombits(r.Uint64()&^(0x7ff<<52)) * float64(r.IntN(1000)))
	}
	v, err := store.ParseValue([]byte(jsonTexts[r.IntN(len(jsonTexts))]))
	require.NoError(t, err)
	return v
}

func randLookup(t testing.TB, r *rand.Rand) *store.LookupRef {
	if r.IntN(4) != 0 {
		return nil
	}
	return &store.LookupRef{A: randID(r), V: randValue(t, r)}
}

func randStep(t testing.TB, r *rand.Rand) store.Step {
	switch r.IntN(6) {
	case 0, 1:
		s := store.Step{Op: store.OpAddTriple, E: randID(r), A: randID(r), V: randValue(t, r), Mode: store.Mode(r.IntN(3))}
		if s.Lookup = randLookup(t, r); s.Lookup != nil {
			s.E = store.EntityID{}
		}
		if r.IntN(5) == 0 {
			s.V, s.ValueLookup = store.Value{}, &store.LookupRef{A: randID(r), V: randValue(t, r)}
		}
		return s
	case 2:
		v, err := store.ParseValue([]byte(`{"a":{"b":"<x>"},"n":` + fmt.Sprint(r.IntN(100)) + `}`))
		require.NoError(t, err)
		return store.Step{Op: store.OpDeepMergeTriple, E: randID(r), A: randID(r), V: v, Mode: store.Mode(r.IntN(3))}
	case 3:
		return store.Step{Op: store.OpRetractTriple, E: randID(r), A: randID(r), V: randValue(t, r)}
	case 4:
		return store.Step{Op: store.OpDeleteEntity, E: randID(r), Namespace: "todos"}
	}
	id := randID(r)
	if r.IntN(2) == 0 {
		return store.Step{Op: store.OpDeleteAttr, A: id}
	}
	a := store.Attr{ID: id, Namespace: "todos", Label: "title", Type: store.TypeString, Cardinality: store.CardinalityOne,
		Unique: r.IntN(2) == 0, Indexed: r.IntN(2) == 0}
	return store.Step{Op: store.OpAddAttr, A: id, Attr: a}
}

func randMutation(t testing.TB, r *rand.Rand) Mutation {
	m := Mutation{ID: randString(r), Seq: r.Uint64() >> r.IntN(64), Created: int64(r.Uint64()) >> r.IntN(64)}
	if r.IntN(3) > 0 {
		m.TxID = store.TxID(int64(r.Uint64()) >> r.IntN(64))
	}
	if r.IntN(3) > 0 {
		m.Confirmed = int64(r.Uint64()) >> r.IntN(64)
	}
	switch n := r.IntN(6); n {
	case 0:
	case 1:
		m.Steps = []store.Step{}
	default:
		for range n {
			m.Steps = append(m.Steps, randStep(t, r))
		}
	}
	return m
}

func randQuery(t testing.TB, r *rand.Rand) CachedQuery {
	q := CachedQuery{ID: randString(r), ProcessedTxID: store.TxID(int64(r.Uint64()) >> r.IntN(64)), LastUsed: int64(r.Uint64()) >> r.IntN(64)}
	switch r.IntN(5) {
	case 0:
	case 1:
		q.Q = []byte{}
	case 2:
		q.Q = []byte(" {\"todos\" : {\"$\": {\"where\": {\"title\": \"<a> & b\u2028\"}}},\n\t\"x\":[1, 2] } ")
	default:
		q.Q = []byte(jsonTexts[r.IntN(len(jsonTexts))])
	}
	switch n := r.IntN(6); n {
	case 0:
	case 1:
		q.Triples = []store.Triple{}
	default:
		for range n {
			q.Triples = append(q.Triples, store.Triple{E: randID(r), A: randID(r), V: randValue(t, r), CreatedAt: int64(r.Uint64()) >> r.IntN(64)})
		}
	}
	return q
}

// TestRecordsMatchEncodingJSON encodes random records with the new code
// and the old, requiring the same bytes (through json.Marshal too, which
// storages used), and decodes them with both.
func TestRecordsMatchEncodingJSON(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for range 3000 {
		m := randMutation(t, r)
		want, wantErr := oracleMarshalMutation(m)
		got, err := m.MarshalJSON()
		requireSameErr(t, wantErr, err, nil)
		require.Equal(t, string(want), string(got))
		viaJSON, err := json.Marshal(m)
		require.NoError(t, err)
		require.Equal(t, string(want), string(viaJSON))
		checkDecode(t, got)
		if m.ID != "" && utf8.ValidString(m.ID) {
			var back Mutation
			require.NoError(t, back.UnmarshalJSON(got))
			if m.Steps == nil {
				m.Steps = []store.Step{}
			}
			require.Equal(t, m.ID, back.ID)
			require.Equal(t, m.Seq, back.Seq)
			require.Equal(t, len(m.Steps), len(back.Steps))
		}

		q := randQuery(t, r)
		want, wantErr = oracleMarshalQuery(q)
		got, err = q.MarshalJSON()
		requireSameErr(t, wantErr, err, nil)
		require.Equal(t, string(want), string(got))
		viaJSON, err = json.Marshal(q)
		require.NoError(t, err)
		require.Equal(t, string(want), string(viaJSON))
		checkDecode(t, got)
	}
}

// TestRecordErrorsMatchEncodingJSON covers what random records do not:
// marshalers that fail, and bad records.
func TestRecordErrorsMatchEncodingJSON(t *testing.T) {
	for _, q := range [][]byte{[]byte("{"), []byte(`{"a":1} x`), []byte(`nul`), []byte(" "), []byte(`"\x01"`)} {
		_, want := oracleMarshalQuery(CachedQuery{ID: "q", Q: q})
		_, got := CachedQuery{ID: "q", Q: q}.MarshalJSON()
		requireSameErr(t, want, got, q)
	}
	m := Mutation{ID: "m", Steps: []store.Step{{Op: "bogus"}}}
	_, want := oracleMarshalMutation(m)
	_, got := m.MarshalJSON()
	requireSameErr(t, want, got, nil)
	_, want = json.Marshal(m)
	require.Error(t, want)
	require.Equal(t, want.Error(), jsonlite.MarshalerError("reactor.Mutation", got).Error())

	for _, in := range recordSeeds {
		checkDecode(t, []byte(in))
	}
}

var recordSeeds = []string{
	``, ` `, `null`, ` null `, `nul`, `[]`, `"x"`, `1`, `true`, `{}`, `{"v":1}`, `{"v":2,"id":"x"}`,
	`{"v":1,"id":"m1","seq":3,"steps":[],"created":5,"tx-id":7,"confirmed":9}`,
	`{"v":1,"id":"m1","seq":3,"steps":[["delete-entity","01000000-0000-4000-8000-000000000000","todos"]],"created":5}`,
	`{"V":1,"ID":"m1","SEQ":3,"Steps":null,"CREATED":5,"Tx-Id":7,"ConFirmed":9}`,
	`{"v":1,"ſeq":1,"id":"K","ıd":"x","İd":"y"}`,
	`{"v":1,"id":"m1","seq":-1}`, `{"v":1,"id":"m1","seq":1.0}`, `{"v":1,"id":"m1","seq":1e2}`, `{"v":1,"id":"m1","seq":"3"}`,
	`{"v":1,"id":"m1","seq":18446744073709551616}`, `{"v":1.5,"id":"m1"}`, `{"v":9223372036854775808,"id":"m1"}`,
	`{"v":1,"id":7}`, `{"v":1,"id":["a"],"seq":"x"}`, `{"v":1,"id":{},"seq":true}`, `{"v":null,"id":null}`,
	`{"v":1,"id":"m1","steps":{}}`, `{"v":1,"id":"m1","steps":"x"}`, `{"v":1,"id":"m1","steps":[null]}`, `{"v":1,"id":"m1","steps":[1,"x"]}`,
	`{"v":1,"id":"m1","steps":[["bogus"]],"seq":"x"}`, `{"v":1,"id":"m1","seq":"x","steps":[["bogus"]]}`,
	`{"v":1,"id":"m1","steps":[["delete-entity","01000000-0000-4000-8000-000000000000","todos"]],"steps":[]}`,
	`{"v":1,"id":"m1","steps":[],"steps":null}`, `{"v":1,"id":"m1","seq":3,"seq":null}`, `{"v":1,"id":"m1","created":-5,"tx-id":"x"}`,
	`{"v":1,"id":"m1","seq":"x"} x`, `{"v":1,"id":"m1","seq":"x",}`, `{"v":1,"id":"m1","steps":[["bogus"]]`,
	`{"v":1,"id":"a\u00e9\ud800\"<>","x":[{"y":null}]}`, "{\"v\":1,\"id\":\"\xff\"}",
	`{"v":1,"id":"q1","q":{"todos":{}},"triples":[["00000000-0000-4000-8000-000000000001","00000000-0000-4000-8000-000000000002",{"a":[1,null]},12]],"processed-tx-id":4,"last-used":1}`,
	`{"v":1,"id":"q1","q":null,"triples":null,"processed-tx-id":4,"last-used":1}`,
	`{"v":1,"id":"q1","q": [1, 2] ,"triples":[],"triples":null}`, `{"v":1,"id":"q1","triples":{}}`, `{"v":1,"id":"q1","triples":[[1]]}`,
	`{"v":1,"id":"q1","Q":"x","TRIPLES":[],"Processed-Tx-Id":1.5,"last-used":"x"}`, `{"v":1,"id":"q1","q":1,"q":2}`,
}

// FuzzRecordDecoders holds the hand-written record decoders to the old
// encoding/json ones on any input: same records, same errors.
func FuzzRecordDecoders(f *testing.F) {
	for _, s := range recordSeeds {
		f.Add([]byte(s))
	}
	r := rand.New(rand.NewPCG(1, 1))
	for range 20 {
		b, err := randMutation(f, r).MarshalJSON()
		require.NoError(f, err)
		f.Add(b)
		b, err = randQuery(f, r).MarshalJSON()
		require.NoError(f, err)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		checkDecode(t, data)
	})
}
