package perm_test

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/triplesync/triplesync/internal/perm"
	"github.com/triplesync/triplesync/query"
	"github.com/triplesync/triplesync/store"
)

func id(n int) store.EntityID {
	return store.MustParseEntityID(fmt.Sprintf("00000000-0000-4000-8000-%012d", n))
}

func TestViewSource(t *testing.T) {
	attrs := store.MustNewAttrs(
		store.Attr{ID: id(901), Namespace: "todos", Label: "id", Type: store.TypeString, Unique: true, Indexed: true},
		store.Attr{ID: id(902), Namespace: "todos", Label: "title", Type: store.TypeString, Indexed: true},
		store.Attr{ID: id(903), Namespace: "todos", Label: "owner", Type: store.TypeString},
		store.Attr{ID: id(904), Namespace: "todos", Label: "tags", Type: store.TypeString, Cardinality: store.CardinalityMany},
	)
	var all, alices []store.Triple
	for i := 1; i <= 600; i++ {
		owner := bob
		if i%7 == 0 {
			owner = alice
		}
		ts := []store.Triple{
			{E: id(i), A: id(901), V: store.Ref(id(i))},
			{E: id(i), A: id(902), V: store.String(fmt.Sprintf("todo %03d", i))},
			{E: id(i), A: id(903), V: store.String(owner.String())},
			{E: id(i), A: id(904), V: store.String("t")},
		}
		all = append(all, ts...)
		if owner == alice {
			alices = append(alices, ts...)
		}
	}
	full, err := store.Load(attrs, all)
	require.NoError(t, err)
	visible, err := store.Load(attrs, alices)
	require.NoError(t, err)
	rules, err := perm.ParseRules([]byte(`{"todos":{"allow":{"view":"data.owner == auth.id && size(data.tags) == 1"}}}`), false)
	require.NoError(t, err)

	queries := []string{
		`{"todos":{}}`,
		`{"todos":{"$":{"order":{"title":"asc"},"limit":3}}}`,
		`{"todos":{"$":{"order":{"title":"desc"},"first":2}}}`,
		`{"todos":{"$":{"where":{"title":{"$gte":"todo 100"}},"order":{"title":"asc"},"limit":4}}}`,
		`{"todos":{"$":{"aggregate":"count"}}}`,
	}
	for _, qs := range queries {
		t.Run(qs, func(t *testing.T) {
			q, err := query.Parse([]byte(qs), attrs)
			require.NoError(t, err)
			src := query.SnapshotSource(full)
			got, err := query.Eval(perm.ViewSource(src, attrs, rules, perm.Auth{ID: alice}), q)
			require.NoError(t, err)
			want, err := query.Eval(query.SnapshotSource(visible), q)
			require.NoError(t, err)
			gj, _ := json.Marshal(got)
			wj, _ := json.Marshal(want)
			assert.JSONEq(t, string(wj), string(gj), "result through ViewSource must equal the result over only the visible rows")
			for _, tr := range got.Triples {
				if tr.A == id(903) {
					assert.Equal(t, store.String(alice.String()), tr.V, "a hidden row's triple leaked: %v", tr)
				}
				assert.True(t, visible.Has(tr.Key()), "triple %v is not visible to alice", tr)
			}
		})
	}

	// The Source contract: a limited answer shorter than its limit means the
	// index has no more rows. Filtering must not break it: a limited scan
	// through the wrapper is refilled to its limit while visible rows remain.
	vs := perm.ViewSource(query.SnapshotSource(full), attrs, rules, perm.Auth{ID: alice})
	out, err := vs.Scan([]query.Scan{{Index: query.AVE, A: id(902), Limit: 30}})
	require.NoError(t, err)
	require.Len(t, out[0], 30, "600 todos, 85 of them alice's: a limit-30 page must come back full")
	for i := 1; i < len(out[0]); i++ {
		assert.Negative(t, store.Compare(out[0][i-1].V, out[0][i].V), "answer must stay in index order")
	}
	out, err = vs.Scan([]query.Scan{{Index: query.AVE, A: id(902), Limit: 500}})
	require.NoError(t, err)
	assert.Len(t, out[0], 85, "asking for more than exists returns every visible row")

	// Bob sees none of alice's; anonymous sees nothing; admin sees all.
	q, err := query.Parse([]byte(`{"todos":{}}`), attrs)
	require.NoError(t, err)
	res, err := query.Eval(perm.ViewSource(query.SnapshotSource(full), attrs, rules, perm.Auth{}), q)
	require.NoError(t, err)
	assert.Empty(t, res.Triples, "anonymous sees no todo")
	res, err = query.Eval(perm.ViewSource(query.SnapshotSource(full), attrs, rules, perm.Auth{Admin: true}), q)
	require.NoError(t, err)
	assert.Len(t, res.Triples, len(all), "admin sees every row")
}
