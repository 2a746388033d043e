package wire_test

import (
	"encoding/json"
	"fmt"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/triplesync/triplesync/internal/wire"
	"github.com/triplesync/triplesync/store"
)

// refTriples is the decoder wire.Triples had before its hand-written
// scanner: encoding/json all the way. The scanner must agree with it.
func refTriples(b []byte) ([]store.Triple, error) {
	var raws [][]json.RawMessage
	if err := json.Unmarshal(b, &raws); err != nil {
		return nil, err
	}
	out := make([]store.Triple, len(raws))
	for i, r := range raws {
		if len(r) != 4 {
			return nil, fmt.Errorf("triple %d has %d elements", i, len(r))
		}
		var t store.Triple
		if err := json.Unmarshal(r[0], &t.E); err != nil {
			return nil, err
		}
		if err := json.Unmarshal(r[1], &t.A); err != nil {
			return nil, err
		}
		v, err := store.ParseValue(r[2])
		if err != nil {
			return nil, err
		}
		t.V = v
		if err := json.Unmarshal(r[3], &t.CreatedAt); err != nil {
			return nil, err
		}
		out[i] = t
	}
	return out, nil
}

const (
	idE = "11111111-1111-4111-8111-111111111111"
	idA = "aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa"
)

var tripleSeeds = []string{
	`[]`, `null`, ` [ ] `,
	`[["` + idE + `","` + idA + `","x",1]]`,
	`[["` + idE + `","` + idA + `",null,0],["` + idE + `","` + idA + `",true,-5],["` + idE + `","` + idA + `",false,12]]`,
	`[ [ "` + idE + `" , "` + idA + `" , -0.5e+3 , 7 ] ]`,
	`[["` + idE + `","` + idA + `",{"a":[1,"]}"],"b":{"c":null}},1]]`,
	`[["` + idE + `","` + idA + `",[1,[2,[3]]],1]]`,
	`[["` + idE + `","` + idA + `","esc \" \\ \n \u00e9",1]]`,
	`[["\u0031111111-1111-4111-8111-111111111111","` + idA + `","x",1]]`,
	`[["` + idE + `","` + idA + `","x",1.5]]`,
	`[["` + idE + `","` + idA + `","x",1e3]]`,
	`[["` + idE + `","` + idA + `",01,1]]`,
	`[["` + idE + `","` + idA + `",1e999,1]]`,
	`[["` + idE + `","` + idA + `","x"]]`,
	`[["` + idE + `","` + idA + `","x",1,2]]`,
	`[["` + idE + `","not-an-id","x",1]]`,
	`[[1,"` + idA + `","x",1]]`,
	`[["` + idE + `","` + idA + `",tru,1]]`,
	`[["` + idE + `","` + idA + `","x",1]]]`,
	`[["` + idE + `","` + idA + `","x",1],]`,
	`[["` + idE + `","` + idA + `","x" 1]]`,
	`{"a":1}`, `[1]`, `[[]]`, `"x"`, ``, "[]\x00", "null\x00",
}

func TestTriplesDecodeAgreesWithEncodingJSON(t *testing.T) {
	for _, s := range tripleSeeds {
		checkTriples(t, []byte(s))
	}
}

func FuzzTriplesDecode(f *testing.F) {
	for _, s := range tripleSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if !utf8.Valid(b) { // Parse refuses invalid UTF-8 before any of this
			return
		}
		checkTriples(t, b)
	})
}

func checkTriples(t *testing.T, b []byte) {
	t.Helper()
	want, werr := refTriples(b)
	var got wire.Triples
	gerr := got.UnmarshalJSON(b)
	if werr != nil {
		require.Error(t, gerr, "encoding/json refuses %q (%v), the scanner accepted it", b, werr)
		assert.ErrorIs(t, gerr, wire.ErrMalformed)
		return
	}
	require.NoError(t, gerr, "encoding/json accepts %q", b)
	require.Len(t, got, len(want), "%q", b)
	for i := range want {
		assert.Equal(t, want[i].E, got[i].E, "%q triple %d", b, i)
		assert.Equal(t, want[i].A, got[i].A, "%q triple %d", b, i)
		assert.Zero(t, store.Compare(want[i].V, got[i].V), "%q triple %d: %v vs %v", b, i, want[i].V, got[i].V)
		assert.Equal(t, want[i].CreatedAt, got[i].CreatedAt, "%q triple %d", b, i)
	}
}

func BenchmarkParseRefresh(b *testing.B) {
	frame := []byte(`{"op":"refresh-ok","processed-tx-id":3,"computations":[{"query-id":"q","added":[`)
	for i := range 100 {
		if i > 0 {
			frame = append(frame, ',')
		}
		frame = fmt.Appendf(frame, `["%s","%s","title %d",%d],["%s","%s",%d,%d]`, idE, idA, i, i, idE, idA, i, i)
	}
	frame = append(frame, `],"removed":[]}]}`...)
	b.ReportAllocs()
	b.SetBytes(int64(len(frame)))
	for b.Loop() {
		if _, err := wire.Parse(frame); err != nil {
			b.Fatal(err)
		}
	}
}
