package reactor

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"
)

// oracleWhereText is whereText as it was written with encoding/json.
func oracleWhereText(text []byte) ([]byte, error) {
	var root map[string]map[string]json.RawMessage
	if err := json.Unmarshal(text, &root); err != nil {
		return nil, err
	}
	out := map[string]any{}
	for ns, level := range root {
		var opts map[string]json.RawMessage
		if raw, ok := level["$"]; ok {
			if err := json.Unmarshal(raw, &opts); err != nil {
				return nil, err
			}
		}
		if w, ok := opts["where"]; ok {
			out[ns] = map[string]any{"$": map[string]any{"where": w}}
		} else {
			out[ns] = map[string]any{}
		}
	}
	return json.Marshal(out)
}

var whereSeeds = []string{
	`{"todos":{}}`, `{"todos":{"$":{"where":{"title":"<a>&b"},"order":{"title":"desc"},"limit":1}},"users":{"todos":{}}}`,
	`{"a":null,"b":{"$":null},"c":{"$":{"where":null}}}`, `{"a":{"$":{"where":1},"$":{"limit":2}}}`, `{"a":{"$":{"where":1,"where":[2]}},"a":{}}`,
	`null`, `[]`, `{"a":1}`, `{"a":{"$":1}}`, `{"a":{"$":{"where":{"x":[1,{"y":"\u2028"}]}}}} `, `{"a":{}} x`, `{`, ``,
}

// FuzzWhereText holds whereText to the encoding/json original: the same
// query text (as JSON) or both an error.
func FuzzWhereText(f *testing.F) {
	for _, s := range whereSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, text []byte) {
		want, wantErr := oracleWhereText(text)
		got, err := whereText(text)
		if wantErr != nil {
			require.Error(t, err, "%q", text)
			return
		}
		require.NoError(t, err, "%q", text)
		var w, g any
		require.NoError(t, json.Unmarshal(want, &w))
		require.NoError(t, json.Unmarshal(got, &g), "%q", got)
		require.Equal(t, w, g, "%q", text)
	})
}
