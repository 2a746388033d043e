package reactor

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/triplesync/triplesync/internal/wire"
	"github.com/triplesync/triplesync/query"
	"github.com/triplesync/triplesync/store"
)

// TestPendingEqualSeq loads pending mutations as two browser tabs sharing
// one IndexedDB leave them: each tab numbers its own from one counter, so
// the two tabs' mutations come in pairs of equal Seq. The subscriber's
// result must be the server's with every pending mutation applied alone
// in pending order — with enough of them for pruning to judge them (one
// tab edits the todo the query shows, the other creates todos it does
// not), after a new write releases a skipped one, and after the server
// rejects one.
func TestPendingEqualSeq(t *testing.T) {
	ent, attrs := pruneEnt, pruneAttrs()
	const text = `{"todos":{"$":{"where":{"done":false}}}}`
	qid, canon, err := QueryID([]byte(text))
	require.NoError(t, err)
	q, err := query.Parse(canon, attrs)
	require.NoError(t, err)
	transform := func(op store.TxOp) []store.Step {
		steps, err := store.Transform(attrs, []store.TxOp{op}, nil, store.TransformOptions{})
		require.NoError(t, err)
		return steps
	}
	server, err := store.NewSnapshot(attrs).Apply(transform(store.TxOp{Action: "create", Namespace: "todos", ID: ent(0),
		Args: map[string]any{"title": "server", "done": false}}), 1)
	require.NoError(t, err)
	served, err := query.Eval(query.SnapshotSource(server), q)
	require.NoError(t, err)
	base, err := store.Load(attrs, served.Triples)
	require.NoError(t, err)

	// edit is tab 1's write to the todo shown, hidden tab 2's create of
	// one that is done (not shown, and not held: pruning skips it).
	edit := func(id string, seq uint64) Mutation {
		return Mutation{ID: id, Seq: seq, Created: int64(seq), Steps: transform(store.TxOp{Action: "update", Namespace: "todos", ID: ent(0),
			Args: map[string]any{"title": id}})}
	}
	hidden := func(id string, seq uint64, i int) Mutation {
		return Mutation{ID: id, Seq: seq, Created: int64(seq), Steps: transform(store.TxOp{Action: "create", Namespace: "todos", ID: ent(10 + i),
			Args: map[string]any{"title": id, "done": true}})}
	}

	type step struct {
		name string
		do   func(t *testing.T, c *Core)
	}
	for _, tc := range []struct {
		name    string
		pending []Mutation // in the order Load sorts them (by Seq, then as stored: by id)
		steps   []step
	}{
		{
			// Each pair's edit comes second in its run of equal Seq.
			name: "second of equal seq",
			pending: []Mutation{
				hidden("a1", 1, 1), edit("b1", 1), hidden("a2", 2, 2), edit("b2", 2),
				hidden("a3", 3, 3), edit("b3", 3), hidden("a4", 4, 4), edit("b4", 4),
			},
		},
		{
			// The edit comes first; a new write to the first hidden todo
			// releases its create, of the same Seq, after it; then the
			// server rejects the edit.
			name: "released then rejected",
			pending: []Mutation{
				edit("b1", 1), hidden("a1", 1, 1), hidden("a2", 2, 2), hidden("a3", 3, 3),
				hidden("a4", 4, 4), hidden("a5", 5, 5), hidden("a6", 6, 6), hidden("a7", 7, 7),
			},
			steps: []step{
				{"new write", func(t *testing.T, c *Core) {
					_, err := c.Transact([]store.TxOp{{Action: "update", Namespace: "todos", ID: ent(11), Args: map[string]any{"done": false}}})
					require.NoError(t, err)
				}},
				{"rejected", func(t *testing.T, c *Core) {
					require.NoError(t, c.Step(&wire.Error{Status: 400, Type: wire.CodeInvalid, Message: "no", MutationID: "b1"}))
				}},
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			now := time.UnixMilli(1000)
			c, err := NewCore(Config{Now: func() time.Time { return now }, Rand: rand.NewChaCha8([32]byte{1}), CacheFlushDelay: -1})
			require.NoError(t, err)
			c.Load(&State{
				Settings:  map[string][]byte{SettingAttrs: store.AppendAttrsJSON(nil, attrs.List())},
				Queries:   []CachedQuery{{ID: qid, Q: canon, Triples: served.Triples, ProcessedTxID: 1, LastUsed: now.UnixMilli()}},
				Mutations: tc.pending,
			})
			c.ConnOpened()
			require.NoError(t, c.Step(&wire.InitOK{SessionID: "s", Attrs: attrs.List()}))
			sub, err := c.Subscribe([]byte(text))
			require.NoError(t, err)
			var last *query.Result
			check := func(stage string) {
				t.Helper()
				for c.HasReady() {
					rd := c.Ready()
					for _, n := range rd.Notifications {
						require.Equal(t, sub, n.Sub)
						require.NoError(t, n.Err)
						last = n.Result
					}
					c.Advance(rd)
				}
				var all []*mutation
				for _, m := range c.Pending() {
					all = append(all, &mutation{Mutation: m})
				}
				want, err := query.Eval(query.SnapshotSource(replayOneByOne(base, all)), q)
				require.NoError(t, err)
				require.NotNil(t, last, stage)
				require.Equal(t, string(want.AppendJSON(nil)), string(last.AppendJSON(nil)), "%s: %d pending", stage, len(all))
			}
			check("loaded")
			for _, s := range tc.steps {
				s.do(t, c)
				check(s.name)
			}
		})
	}
}

// The pending order: mutations of equal Seq stay in the order given.
func TestLoadEqualSeqOrder(t *testing.T) {
	c, err := NewCore(Config{Now: time.Now, Rand: rand.NewChaCha8([32]byte{1})})
	require.NoError(t, err)
	var ms []Mutation
	for i := range 6 {
		ms = append(ms, Mutation{ID: fmt.Sprint("m", 5-i), Seq: uint64(1 + i/2)})
	}
	c.Load(&State{Mutations: ms})
	require.Equal(t, ms, c.Pending())
}
