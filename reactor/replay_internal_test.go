package reactor

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/triplesync/triplesync/store"
)

// replayOnto applies runs of mutations as one batch; it must leave what
// applying them one by one (skipping those that fail) leaves, CreatedAt
// aside. Random mutations over a random store, with creates of existing
// and repeated entities, updates of missing ones, unique conflicts and
// deletes, so that runs split.
func TestReplayOntoMatchesOneByOne(t *testing.T) {
	ent := func(i int) store.EntityID { return store.EntityID{byte(i + 1), 6: 0x40, 8: 0x80} }
	attrs := store.MustNewAttrs(
		store.Attr{ID: ent(100), Namespace: "todos", Label: "id", Type: store.TypeString, Unique: true, Indexed: true},
		store.Attr{ID: ent(101), Namespace: "todos", Label: "title", Type: store.TypeString},
		store.Attr{ID: ent(102), Namespace: "todos", Label: "code", Type: store.TypeString, Unique: true},
	)
	for seed := range uint64(300) {
		r := rand.New(rand.NewPCG(seed, 1))
		var ops []store.TxOp
		for i := range 6 {
			ops = append(ops, store.TxOp{Action: "create", Namespace: "todos", ID: ent(i), Args: map[string]any{"title": "base", "code": fmt.Sprint("c", i)}})
		}
		steps, err := store.Transform(attrs, ops, nil, store.TransformOptions{})
		require.NoError(t, err)
		base, err := store.NewSnapshot(attrs).Apply(steps, 1)
		require.NoError(t, err)

		var muts []*mutation
		for i := range 30 {
			e := ent(r.IntN(10))
			var op store.TxOp
			switch r.IntN(6) {
			case 0:
				op = store.TxOp{Action: "create", Namespace: "todos", ID: e, Args: map[string]any{"title": fmt.Sprint("new", i)}}
			case 1:
				op = store.TxOp{Action: "update", Mode: store.ModeUpdate, Namespace: "todos", ID: e, Args: map[string]any{"title": fmt.Sprint("upd", i)}}
			case 2:
				op = store.TxOp{Action: "update", Namespace: "todos", ID: e, Args: map[string]any{"code": fmt.Sprint("c", r.IntN(8))}}
			case 3:
				op = store.TxOp{Action: "delete", Namespace: "todos", ID: e}
			default:
				op = store.TxOp{Action: "update", Namespace: "todos", ID: e, Args: map[string]any{"title": fmt.Sprint("t", i)}}
			}
			steps, err := store.Transform(attrs, []store.TxOp{op}, nil, store.TransformOptions{})
			require.NoError(t, err)
			muts = append(muts, newMutation(Mutation{ID: fmt.Sprint(i), Seq: uint64(i + 1), Steps: steps, Created: int64(10 + i)}))
		}

		want := base
		for _, m := range muts {
			if next, err := want.Apply(m.Steps, m.Created); err == nil {
				want = next
			}
		}
		got := replayOnto(base, muts)
		require.NoError(t, got.CheckInvariants())
		require.Equal(t, keys(want), keys(got), "seed %d", seed)
	}
}

func keys(s *store.Snapshot) []store.TripleKey {
	var out []store.TripleKey
	for _, t := range s.Triples() {
		out = append(out, t.Key())
	}
	return out
}
