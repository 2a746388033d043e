package topics_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/triplesync/triplesync/store"
	"github.com/triplesync/triplesync/topics"
)

func TestPatternCoarseAndNarrow(t *testing.T) {
	gt := topics.MustCmp(topics.Gt, num(5))
	bindings := map[string]topics.Part{
		"?todos":       topics.IDs(e1, e2),
		"?todos.owner": topics.Values(store.Ref(e3), str("not an id")),
		"?todos.$w0":   topics.Values(num(6)),
	}
	bind := func(name string) (topics.Part, bool) { p, ok := bindings[name]; return p, ok }
	tests := []struct {
		name           string
		p              topics.Pattern
		coarse, narrow string
	}{
		{
			"namespace", topics.Pattern{E: topics.Term{Var: "?todos"}, A: topics.Term{Part: topics.IDs(a1)}, V: topics.Term{Var: "?todos"}},
			"[* _ {a1} _]", "[* {e1 e2} {a1} {e1 e2}]",
		},
		{
			"link forward", topics.Pattern{E: topics.Term{Var: "?todos"}, A: topics.Term{Part: topics.IDs(a2)}, V: topics.Term{Var: "?todos.owner"}},
			"[* _ {a2} _]", `[* {e1 e2} {a2} {e3 "not an id"}]`,
		},
		{
			"owner ids in e", topics.Pattern{E: topics.Term{Var: "?todos.owner"}, A: topics.Term{Var: "?x"}, V: topics.Term{Var: "?y"}},
			"[* _ _ _]", "[* {e3} _ _]",
		},
		{
			"comparison kept", topics.Pattern{Idx: store.FlagAVE, E: topics.Term{Var: "?other"}, A: topics.Term{Part: topics.IDs(a1)}, V: topics.Term{Var: "?todos.$w0", Part: gt}},
			"[ave _ {a1} $gt 5]", "[ave _ {a1} $gt 5]",
		},
	}
	var pairs []string
	for n, x := range map[string]store.EntityID{"e1": e1, "e2": e2, "e3": e3, "a1": a1, "a2": a2} {
		pairs = append(pairs, `"`+x.String()+`"`, n, x.String(), n)
	}
	short := strings.NewReplacer(pairs...).Replace
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.coarse, short(tt.p.Coarse().String()))
			assert.Equal(t, tt.narrow, short(tt.p.Narrow(bind).String()))
			assert.True(t, tt.p.Narrow(bind).Validate() == nil)
		})
	}
}
