package wasm_test

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/triplesync/triplesync/query"
	"github.com/triplesync/triplesync/reactor"
	"github.com/triplesync/triplesync/store"
	"github.com/triplesync/triplesync/wasm"
)

// TestPatcher applies a Patcher's output as triplesync.js does and checks
// it against the whole result: a first whole result, patches for results
// query.Update spliced (a row moved, inserted, deleted), and a whole
// result again after an error or an Eval.
func TestPatcher(t *testing.T) {
	attrs, ts := itemsData(50)
	snap, err := store.Load(attrs, ts)
	require.NoError(t, err)
	q, err := query.Parse([]byte(`{"items":{"$":{"order":{"rank":"desc"}}}}`), attrs)
	require.NoError(t, err)
	res, err := query.Eval(query.SnapshotSource(snap), q)
	require.NoError(t, err)

	var p wasm.Patcher
	var data map[string][]json.RawMessage // what JS holds
	apply := func(r reactor.QueryResult) (patched bool) {
		t.Helper()
		var msg struct {
			Data     map[string]json.RawMessage   `json:"data"`
			Patch    map[string][]json.RawMessage `json:"patch"`
			PageInfo map[string]map[string]any    `json:"pageInfo"`
			Error    map[string]any               `json:"error"`
		}
		require.NoError(t, json.Unmarshal(p.Append(nil, r), &msg))
		switch {
		case msg.Error != nil:
			data = nil
			return false
		case msg.Patch != nil:
			next := map[string][]json.RawMessage{}
			for label, runs := range msg.Patch {
				var rows []json.RawMessage
				for _, run := range runs {
					var keep [2]int
					if json.Unmarshal(run, &keep) == nil {
						rows = append(rows, data[label][keep[0]:keep[0]+keep[1]]...)
						continue
					}
					var fresh struct{ Rows []json.RawMessage }
					require.NoError(t, json.Unmarshal(run, &fresh))
					rows = append(rows, fresh.Rows...)
				}
				next[label] = rows
			}
			data = next
			var whole map[string]json.RawMessage
			require.NoError(t, json.Unmarshal(r.Result.AppendJSON(nil), &whole))
			var wantInfo map[string]map[string]any
			require.NoError(t, json.Unmarshal(whole["$pageInfo"], &wantInfo))
			assert.Equal(t, wantInfo, msg.PageInfo, "page info")
			return true
		default:
			data = map[string][]json.RawMessage{}
			for label, raw := range msg.Data {
				if label == "$pageInfo" {
					continue
				}
				var rows []json.RawMessage
				require.NoError(t, json.Unmarshal(raw, &rows))
				data[label] = rows
			}
			return false
		}
	}
	check := func(res *query.Result) {
		t.Helper()
		got, err := json.Marshal(data)
		require.NoError(t, err)
		var whole map[string]json.RawMessage
		require.NoError(t, json.Unmarshal(res.AppendJSON(nil), &whole))
		delete(whole, "$pageInfo")
		want, err := json.Marshal(whole)
		require.NoError(t, err)
		assert.JSONEq(t, string(want), string(got))
	}
	assert.False(t, apply(reactor.QueryResult{Result: res}), "the first result is whole")
	check(res)

	rankA, _ := attrs.ByName("items", "rank")
	titleA, _ := attrs.ByName("items", "title")
	idA, _ := attrs.IDAttr("items")
	steps := []struct {
		name  string
		steps []store.Step
	}{
		{"move to the front", []store.Step{{Op: store.OpAddTriple, E: itemID(3), A: rankA.ID, V: store.Number(100)}}},
		{"move to the end", []store.Step{{Op: store.OpAddTriple, E: itemID(40), A: rankA.ID, V: store.Number(-1)}}},
		{"change in place", []store.Step{{Op: store.OpAddTriple, E: itemID(20), A: titleA.ID, V: store.String("x")}}},
		{"insert", []store.Step{
			{Op: store.OpAddTriple, E: itemID(99), A: idA.ID, V: store.Ref(itemID(99))},
			{Op: store.OpAddTriple, E: itemID(99), A: rankA.ID, V: store.Number(25.5)},
		}},
		{"leave", []store.Step{{Op: store.OpRetractTriple, E: itemID(7), A: idA.ID, V: store.Ref(itemID(7))}}},
	}
	for _, st := range steps {
		next, err := snap.Apply(st.steps, 2)
		require.NoError(t, err, st.name)
		changed := []store.EntityID{st.steps[0].E}
		upd, err := query.Update(res, snap, next, q, changed)
		require.NoError(t, err, st.name)
		assert.True(t, apply(reactor.QueryResult{Result: upd}), "%s: a patch", st.name)
		check(upd)
		snap, res = next, upd
	}

	// An error, then a result: whole again.
	apply(reactor.QueryResult{Error: reactor.ErrClosed})
	assert.False(t, apply(reactor.QueryResult{Result: res}), "after an error, a whole result")
	check(res)
	fresh, err := query.Eval(query.SnapshotSource(snap), q)
	require.NoError(t, err)
	assert.False(t, apply(reactor.QueryResult{Result: fresh}), "a result Eval made is whole")
	check(fresh)
}
