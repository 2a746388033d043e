package reactor

import (
	"encoding/json"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/triplesync/triplesync/store"
)

func randAttrs(r *rand.Rand) []store.Attr {
	if r.IntN(8) == 0 {
		return nil
	}
	out := []store.Attr{}
	for range r.IntN(5) {
		a := store.Attr{ID: randID(r), Namespace: randString(r), Label: randString(r), Type: store.ValueType(r.IntN(7)),
			Cardinality: store.Cardinality(r.IntN(2)), Unique: r.IntN(2) == 0, Indexed: r.IntN(2) == 0}
		if r.IntN(2) == 0 {
			a.RefNamespace, a.ReverseLabel, a.OnDeleteCascade = randString(r), randString(r), r.IntN(2) == 0
		}
		out = append(out, a)
	}
	return out
}

// TestAttrsMatchEncodingJSON requires store.AppendAttrsJSON to write what
// json.Marshal wrote, and decodeAttrs to read it back as json.Unmarshal.
func TestAttrsMatchEncodingJSON(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for range 2000 {
		attrs := randAttrs(r)
		want, err := json.Marshal(attrs)
		require.NoError(t, err)
		got := store.AppendAttrsJSON(nil, attrs)
		require.Equal(t, string(want), string(got))
		checkAttrs(t, got)
	}
}

func checkAttrs(t *testing.T, data []byte) {
	var want []store.Attr
	wantErr := json.Unmarshal(data, &want)
	got, err := decodeAttrs(data)
	if wantErr != nil {
		require.Error(t, err, "%q", data)
		return
	}
	require.NoError(t, err, "%q", data)
	require.Equal(t, want, got, "%q", data)
}

var attrsSeeds = []string{
	`null`, `[]`, `[null]`, `{}`, `"x"`, `[1]`, `[{}]`, `[{"id":null,"unique":null}]`, ` [ ] x`,
	`[{"id":"00000000-0000-4000-8000-000000000001","namespace":"todos","label":"title","value-type":"string","cardinality":"one","unique":false,"indexed":true}]`,
	`[{"ID":"00000000-0000-4000-8000-000000000001","NameSpace":"todos","VALUE-TYPE":"ref","cardinality":"many","ref-namespace":"users","reverse-label":"todos","on-delete-cascade":true,"extra":[1,{"a":null}]}]`,
	`[{"id":"nope"}]`, `[{"value-type":"strings"}]`, `[{"cardinality":1}]`, `[{"unique":"true"}]`, `[{"label":1}]`, `[{"id":[1]}]`,
	`[{"label":"a","label":"b"}]`, `[{"x":null,"label":"b"}]`,
}

// FuzzDecodeAttrs holds decodeAttrs to json.Unmarshal into []store.Attr.
func FuzzDecodeAttrs(f *testing.F) {
	for _, s := range attrsSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) { checkAttrs(t, data) })
}
