package invalidator_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/triplesync/triplesync/invalidator"
	"github.com/triplesync/triplesync/store"
	"github.com/triplesync/triplesync/topics"
)

func tid(n byte) store.EntityID { return store.EntityID{n, 0, 0, 0, 0, 0, 0x40, 0, 0x80} }

var (
	ent1, ent2 = tid(1), tid(2)
	attrP      = tid(0xa1) // the filtered attribute
	attrQ      = tid(0xa2)
	keyA       = invalidator.QueryKey{Query: `{"a":{}}`}
	keyB       = invalidator.QueryKey{Query: `{"a":{}}`, Context: "user-1"}
)

func num(f float64) store.Value { return store.Number(f) }

func tr(e, a store.EntityID, v store.Value) store.Triple { return store.Triple{E: e, A: a, V: v} }

func TestSubscribeInvalidPlan(t *testing.T) {
	inv := invalidator.New()
	_, err := inv.Subscribe(1, keyA, invalidator.Plan{Coarse: []topics.Topic{{E: topics.Values(num(1))}}})
	require.ErrorIs(t, err, topics.ErrInvalidPart)
	assert.Zero(t, inv.Stats().Registrations)
	assert.Zero(t, inv.Stats().Subscriptions)
	assert.Nil(t, inv.Topics(keyA))
}

func TestRefine(t *testing.T) {
	inv := invalidator.New()
	coarse := invalidator.Plan{Coarse: []topics.Topic{{A: topics.IDs(attrP)}}}
	ticket, err := inv.Subscribe(1, keyA, coarse)
	require.NoError(t, err)

	ok, err := inv.Refine(keyB, ticket, invalidator.Refinement{Plan: coarse})
	require.NoError(t, err)
	assert.False(t, ok, "unknown key")

	_, err = inv.Refine(keyA, ticket, invalidator.Refinement{Plan: coarse, Topics: []topics.Topic{{A: topics.Values(num(1))}}})
	require.ErrorIs(t, err, topics.ErrInvalidPart)
	_, err = inv.Refine(keyA, ticket, invalidator.Refinement{Plan: invalidator.Plan{Coarse: []topics.Topic{{V: topics.IDs(ent1)}}}})
	require.ErrorIs(t, err, topics.ErrInvalidPart)
	assert.Len(t, inv.Topics(keyA), 1, "a failed refinement leaves the topics")

	narrow := []topics.Topic{{E: topics.IDs(ent1), A: topics.IDs(attrP)}}
	ok, err = inv.Refine(keyA, ticket, invalidator.Refinement{Plan: coarse, Topics: narrow})
	require.NoError(t, err)
	assert.True(t, ok)
	assert.True(t, inv.Topics(keyA)[0].Equal(narrow[0]))

	ok, err = inv.Refine(keyA, ticket, invalidator.Refinement{Plan: coarse, Topics: []topics.Topic{{}}})
	require.NoError(t, err)
	assert.False(t, ok, "refined already: the first refinement of an epoch stays")

	// ent2's change does not match the refined topic; ent1's does and
	// brings back the coarse topics.
	assert.Empty(t, inv.Apply(&store.Change{TxID: 3, Triples: []store.TripleChange{{Op: store.OpInsert, New: tr(ent2, attrP, num(1))}}}))
	assert.Equal(t, []invalidator.SessionID{1}, inv.Apply(&store.Change{TxID: 4, Triples: []store.TripleChange{{Op: store.OpInsert, New: tr(ent1, attrP, num(1))}}}))
	assert.True(t, inv.Topics(keyA)[0].Equal(coarse.Coarse[0]))

	ok, err = inv.Refine(keyA, ticket, invalidator.Refinement{Plan: coarse, Topics: narrow})
	require.NoError(t, err)
	assert.False(t, ok, "the ticket predates the wake")
	next, found := inv.Begin(keyA)
	require.True(t, found)
	assert.Equal(t, ticket+1, next)
	ok, err = inv.Refine(keyA, next, invalidator.Refinement{Plan: coarse, Topics: narrow})
	require.NoError(t, err)
	assert.True(t, ok)
	_, found = inv.Begin(keyB)
	assert.False(t, found)

	st := inv.Stats()
	assert.Equal(t, uint64(2), st.Refined)
	assert.Equal(t, uint64(2), st.RefineSkipped)
	assert.Equal(t, store.TxID(4), inv.LastTxID())
}

func TestSessionsAndKeys(t *testing.T) {
	inv := invalidator.New()
	plan := invalidator.Plan{Coarse: []topics.Topic{{A: topics.IDs(attrP)}}}
	for _, s := range []invalidator.SessionID{1, 2} {
		_, err := inv.Subscribe(s, keyA, plan)
		require.NoError(t, err)
	}
	_, err := inv.Subscribe(2, keyA, plan) // twice: harmless
	require.NoError(t, err)
	_, err = inv.Subscribe(3, keyB, plan) // same text, other context: its own registration
	require.NoError(t, err)
	st := inv.Stats()
	assert.Equal(t, 2, st.Registrations)
	assert.Equal(t, 3, st.Subscriptions)

	change := &store.Change{TxID: 7, Triples: []store.TripleChange{{Op: store.OpInsert, New: tr(ent1, attrP, num(1))}}}
	assert.Equal(t, []invalidator.SessionID{1, 2, 3}, inv.Apply(change))
	inv.Unsubscribe(2, keyA) // drops the pending stale entry too
	keys, asOf := inv.TakeStale(2)
	assert.Nil(t, keys)
	assert.Zero(t, asOf)
	keys, asOf = inv.TakeStale(1)
	assert.Equal(t, []invalidator.QueryKey{keyA}, keys)
	assert.Equal(t, store.TxID(7), asOf)

	inv.Unsubscribe(9, keyA) // unknown session
	inv.Unsubscribe(1, keyB) // not subscribed
	inv.RemoveSession(9)
	assert.Equal(t, 2, inv.Stats().Subscriptions)

	// A reset wakes everything, as of its tx-id.
	assert.Equal(t, []invalidator.SessionID{1}, inv.MarkAllStale(8), "session 3 is still stale from tx 7")
	keys, asOf = inv.TakeStale(3)
	assert.Equal(t, []invalidator.QueryKey{keyB}, keys)
	assert.Equal(t, store.TxID(8), asOf)
	assert.True(t, inv.Topics(keyA)[0].Equal(topics.Topic{}), "after a reset a registration matches everything until re-planned")

	inv.RemoveSession(1)
	inv.RemoveSession(3)
	st = inv.Stats()
	assert.Zero(t, st.Registrations)
	assert.Zero(t, st.Subscriptions)
	assert.Empty(t, inv.Apply(change))
}

// TestFineFilter checks how the filter reconstructs an entity's value
// before and after a transaction from the transaction's own changes, and
// when it gives up.
func TestFineFilter(t *testing.T) {
	ea := store.FlagEA
	ins := func(e store.EntityID, v float64) store.TripleChange {
		return store.TripleChange{Op: store.OpInsert, New: tr(e, attrP, num(v)), NewFlags: ea}
	}
	del := func(e store.EntityID, v float64) store.TripleChange {
		return store.TripleChange{Op: store.OpDelete, Old: tr(e, attrP, num(v)), OldFlags: ea}
	}
	upd := func(e store.EntityID, from, to float64) store.TripleChange {
		return store.TripleChange{Op: store.OpUpdate, Old: tr(e, attrP, num(from)), New: tr(e, attrP, num(to)), OldFlags: ea, NewFlags: ea}
	}
	tests := []struct {
		name    string
		changes []store.TripleChange
		woken   bool
	}{
		{"out to out", []store.TripleChange{upd(ent1, 1, 2)}, false},
		{"out to in", []store.TripleChange{upd(ent1, 1, 10)}, true},
		{"in to out", []store.TripleChange{upd(ent1, 10, 1)}, true},
		{"insert out", []store.TripleChange{ins(ent1, 1)}, false},
		{"insert in", []store.TripleChange{ins(ent1, 10)}, true},
		{"delete out", []store.TripleChange{del(ent1, 1)}, false},
		{"delete in", []store.TripleChange{del(ent1, 10)}, true},
		{"delete then insert, out", []store.TripleChange{del(ent1, 1), ins(ent1, 2)}, false},
		{"in through a chain", []store.TripleChange{upd(ent1, 1, 10), upd(ent1, 10, 2)}, false}, // out before, out after
		{"chain ends in", []store.TripleChange{upd(ent1, 1, 2), upd(ent1, 2, 10)}, true},
		{"broken chain", []store.TripleChange{upd(ent1, 1, 2), upd(ent1, 3, 4)}, true},
		{"insert over a value", []store.TripleChange{ins(ent1, 1), ins(ent1, 2)}, true},
		{"other entity's chain irrelevant", []store.TripleChange{upd(ent2, 10, 11), upd(ent1, 1, 2)}, true}, // ent2 is in
		{"not cardinality one", []store.TripleChange{{Op: store.OpInsert, New: tr(ent1, attrP, num(1))}}, true},
		{"old side not cardinality one", []store.TripleChange{{Op: store.OpUpdate, Old: tr(ent1, attrP, num(1)), New: tr(ent1, attrP, num(2)), NewFlags: ea}}, true},
		{"row moved", []store.TripleChange{{Op: store.OpUpdate, Old: tr(ent2, attrP, num(1)), New: tr(ent1, attrP, num(2)), OldFlags: ea, NewFlags: ea}}, true},
		{"other attribute", []store.TripleChange{{Op: store.OpInsert, New: tr(ent1, attrQ, num(1)), NewFlags: ea}}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inv := invalidator.New()
			plan := invalidator.Plan{
				Coarse: []topics.Topic{{A: topics.IDs(attrP, attrQ)}},
				Filter: &invalidator.Filter{Attr: attrP, Match: func(vs []store.Value) bool {
					for _, v := range vs {
						if f, _ := v.AsNumber(); f >= 10 {
							return true
						}
					}
					return false
				}},
			}
			_, err := inv.Subscribe(1, keyA, plan)
			require.NoError(t, err)
			woken := inv.Apply(&store.Change{TxID: 1, Triples: tt.changes})
			assert.Equal(t, tt.woken, len(woken) == 1, "Apply(%v) woke %v, want woken=%v", tt.changes, woken, tt.woken)
			if !tt.woken {
				assert.Positive(t, inv.Stats().Filtered)
			}
		})
	}
}

func TestAttrChangeWakes(t *testing.T) {
	inv := invalidator.New()
	_, err := inv.Subscribe(1, keyA, invalidator.Plan{Coarse: []topics.Topic{topics.SchemaTopic("todos")}})
	require.NoError(t, err)
	_, err = inv.Subscribe(2, keyB, invalidator.Plan{Coarse: []topics.Topic{{E: topics.IDs(ent1), A: topics.IDs(attrP)}}})
	require.NoError(t, err)
	add := func(a store.Attr) *store.Change {
		return &store.Change{TxID: 2, Attrs: []store.AttrChange{{Op: store.OpInsert, New: a}}}
	}
	assert.Empty(t, inv.Apply(add(store.Attr{ID: attrQ, Namespace: "notes", Label: "x"})))
	assert.Equal(t, []invalidator.SessionID{1}, inv.Apply(add(store.Attr{ID: attrQ, Namespace: "notes", Label: "todo",
		Type: store.TypeRef, RefNamespace: "todos", ReverseLabel: "notes"})), "a link into todos")
	assert.Equal(t, []invalidator.SessionID{2}, inv.Apply(&store.Change{TxID: 3, Attrs: []store.AttrChange{{Op: store.OpDelete,
		Old: store.Attr{ID: attrP, Namespace: "goals", Label: "p"}}}}), "an attribute the query reads")
}
