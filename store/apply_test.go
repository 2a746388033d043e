package store_test

import (
	"cmp"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/triplesync/triplesync/store"
)

// Entities of the apply fixture.
var (
	ann  = eid(1) // users: email ann@x, name Ann, age 30
	bob  = eid(2) // users: email bob@x, tags a, b
	cy   = eid(3) // absent at first
	todo = eid(10)
)

// applyBase is the fixture every apply case starts from, created at 1.
func applyBase() []store.Triple {
	return []store.Triple{
		tr(ann, aUsersID, ref(ann), 1), tr(ann, aUsersEmail, str("ann@x"), 1), tr(ann, aUsersName, str("Ann"), 1), tr(ann, aUsersAge, num(30), 1),
		tr(bob, aUsersID, ref(bob), 1), tr(bob, aUsersEmail, str("bob@x"), 1), tr(bob, aUsersTags, str("a"), 1), tr(bob, aUsersTags, str("b"), 1),
		tr(todo, aTodosID, ref(todo), 1), tr(todo, aTodosTitle, str("t"), 1), tr(todo, aTodosOwner, ref(ann), 1),
		tr(todo, aTodosData, mustValueNoT(`{"a":{"b":1},"c":2}`), 1),
	}
}

func mustValueNoT(s string) store.Value {
	v, err := store.ParseValue([]byte(s))
	if err != nil {
		panic(err)
	}
	return v
}

func key(e store.EntityID, a store.AttrID, v store.Value) store.TripleKey {
	return store.TripleKey{E: e, A: a, V: v}
}

func byLookup(st store.Step, a store.AttrID, v store.Value) store.Step {
	st.E = store.EntityID{}
	st.Lookup = &store.LookupRef{A: a, V: v}
	return st
}

func valueLookup(st store.Step, a store.AttrID, v store.Value) store.Step {
	st.V = store.Value{}
	st.ValueLookup = &store.LookupRef{A: a, V: v}
	return st
}

const now = 5

func TestApplySteps(t *testing.T) {
	cyByEmail := store.LookupEntityID(aUsersEmail, str("cy@x"))
	day := float64(time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC).UnixMilli())
	newAttr := store.Attr{ID: attrID(0x30), Namespace: "users", Label: "nick", Type: store.TypeString}
	tests := []struct {
		name    string
		steps   []store.Step
		err     error // the sentinel a failing batch wraps
		index   int   // and the failing step
		del     []store.TripleKey
		add     []store.Triple
		attrsOK func(t *testing.T, a *store.Attrs)
	}{
		// add-triple
		{name: "upsert a new entity adds its id triple",
			steps: []store.Step{add(cy, aUsersName, str("Cy"))},
			add:   []store.Triple{tr(cy, aUsersName, str("Cy"), now), tr(cy, aUsersID, ref(cy), now)}},
		{name: "cardinality one replaces",
			steps: []store.Step{add(ann, aUsersName, str("Annie"))},
			del:   []store.TripleKey{key(ann, aUsersName, str("Ann"))},
			add:   []store.Triple{tr(ann, aUsersName, str("Annie"), now)}},
		{name: "rewriting the same value keeps created_at",
			steps: []store.Step{add(ann, aUsersName, str("Ann"))}},
		{name: "cardinality many adds",
			steps: []store.Step{add(bob, aUsersTags, str("c")), add(bob, aUsersTags, str("a"))},
			add:   []store.Triple{tr(bob, aUsersTags, str("c"), now)}},
		{name: "create a new entity over several steps",
			steps: []store.Step{addMode(cy, aUsersID, ref(cy), store.ModeCreate), addMode(cy, aUsersName, str("Cy"), store.ModeCreate)},
			add:   []store.Triple{tr(cy, aUsersID, ref(cy), now), tr(cy, aUsersName, str("Cy"), now)}},
		{name: "create an existing entity", steps: []store.Step{addMode(ann, aUsersName, str("A"), store.ModeCreate)},
			err: store.ErrExists},
		{name: "create counts only the attribute's namespace",
			steps: []store.Step{addMode(ann, aTodosTitle, str("x"), store.ModeCreate)},
			add:   []store.Triple{tr(ann, aTodosTitle, str("x"), now), tr(ann, aTodosID, ref(ann), now)}},
		{name: "create after a delete in the same batch",
			steps: []store.Step{del(todo, "todos"), addMode(todo, aTodosTitle, str("new"), store.ModeCreate)},
			del: []store.TripleKey{key(todo, aTodosID, ref(todo)), key(todo, aTodosTitle, str("t")),
				key(todo, aTodosOwner, ref(ann)), key(todo, aTodosData, mustValueNoT(`{"a":{"b":1},"c":2}`))},
			add: []store.Triple{tr(todo, aTodosTitle, str("new"), now), tr(todo, aTodosID, ref(todo), now)}},
		{name: "update a missing entity", steps: []store.Step{addMode(cy, aUsersName, str("Cy"), store.ModeUpdate)},
			err: store.ErrNotFound},
		{name: "update an existing entity",
			steps: []store.Step{addMode(ann, aUsersAge, num(31), store.ModeUpdate)},
			del:   []store.TripleKey{key(ann, aUsersAge, num(30))},
			add:   []store.Triple{tr(ann, aUsersAge, num(31), now)}},
		{name: "update what the batch created",
			steps: []store.Step{add(cy, aUsersName, str("Cy")), addMode(cy, aUsersAge, num(1), store.ModeUpdate)},
			add:   []store.Triple{tr(cy, aUsersName, str("Cy"), now), tr(cy, aUsersID, ref(cy), now), tr(cy, aUsersAge, num(1), now)}},
		{name: "an entity in no namespace of the attribute is not found",
			steps: []store.Step{addMode(todo, aUsersName, str("x"), store.ModeUpdate)}, err: store.ErrNotFound},
		{name: "unknown attribute", steps: []store.Step{add(ann, attrID(0xfff), num(1))}, err: store.ErrUnknownAttr},
		{name: "wrong type", steps: []store.Step{add(ann, aUsersAge, str("old"))}, err: store.ErrWrongType},
		{name: "a later step fails: index", steps: []store.Step{add(cy, aUsersName, str("Cy")), add(cy, aUsersAge, store.Bool(true))},
			err: store.ErrWrongType, index: 1},
		{name: "date strings become numbers",
			steps: []store.Step{add(ann, aUsersBorn, str("2024-03-01"))},
			add:   []store.Triple{tr(ann, aUsersBorn, num(day), now)}},
		{name: "unique violation", steps: []store.Step{add(bob, aUsersEmail, str("ann@x"))}, err: store.ErrUniqueViolation},
		{name: "unique value freed earlier in the batch",
			steps: []store.Step{add(ann, aUsersEmail, str("ann2@x")), add(bob, aUsersEmail, str("ann@x"))},
			del:   []store.TripleKey{key(ann, aUsersEmail, str("ann@x")), key(bob, aUsersEmail, str("bob@x"))},
			add:   []store.Triple{tr(ann, aUsersEmail, str("ann2@x"), now), tr(bob, aUsersEmail, str("ann@x"), now)}},
		{name: "an id triple must hold its own entity", steps: []store.Step{add(ann, aUsersID, ref(bob))}, err: store.ErrWrongType},
		{name: "ref values are lower-cased",
			steps: []store.Step{add(todo, aTodosWatchers, str("E0000000-0000-4000-8000-000000000002"))},
			add:   []store.Triple{tr(todo, aTodosWatchers, ref(bob), now)}},
		{name: "ref must be a uuid", steps: []store.Step{add(todo, aTodosOwner, str("ann"))}, err: store.ErrWrongType},
		{name: "link to an entity that does not exist yet",
			steps: []store.Step{add(todo, aTodosWatchers, ref(cy))},
			add:   []store.Triple{tr(todo, aTodosWatchers, ref(cy), now)}},
		{name: "missing entity", steps: []store.Step{{Op: store.OpAddTriple, A: aUsersName, V: str("x")}}, err: store.ErrMalformedStep},
		{name: "bad mode", steps: []store.Step{addMode(ann, aUsersName, str("x"), 9)}, err: store.ErrMalformedStep},
		{name: "unknown op", steps: []store.Step{{Op: "nuke"}}, err: store.ErrMalformedStep},

		// deep-merge-triple
		{name: "merge keeps keys, deletes nulls, keeps created_at",
			steps: []store.Step{merge(todo, aTodosData, mustValueNoT(`{"a":{"c":3},"c":null,"d":[1]}`))},
			del:   []store.TripleKey{key(todo, aTodosData, mustValueNoT(`{"a":{"b":1},"c":2}`))},
			add:   []store.Triple{tr(todo, aTodosData, mustValueNoT(`{"a":{"b":1,"c":3},"d":[1]}`), 1)}},
		{name: "merge into nothing drops nulls",
			steps: []store.Step{merge(cy, aTodosData, mustValueNoT(`{"a":null,"b":{"c":null,"d":1}}`))},
			add:   []store.Triple{tr(cy, aTodosData, mustValueNoT(`{"b":{"d":1}}`), now), tr(cy, aTodosID, ref(cy), now)}},
		{name: "merging an array replaces",
			steps: []store.Step{merge(todo, aTodosData, mustValueNoT(`[1]`))},
			del:   []store.TripleKey{key(todo, aTodosData, mustValueNoT(`{"a":{"b":1},"c":2}`))},
			add:   []store.Triple{tr(todo, aTodosData, mustValueNoT(`[1]`), 1)}},
		{name: "merge into a link", steps: []store.Step{merge(todo, aTodosOwner, mustValueNoT(`{}`))}, err: store.ErrWrongType},
		{name: "merge into cardinality many", steps: []store.Step{merge(bob, aUsersTags, mustValueNoT(`{}`))}, err: store.ErrWrongType},
		{name: "merge into a string attribute", steps: []store.Step{merge(ann, aUsersName, mustValueNoT(`{"a":1}`))}, err: store.ErrWrongType},
		{name: "merge update of a missing entity",
			steps: []store.Step{{Op: store.OpDeepMergeTriple, E: cy, A: aTodosData, V: mustValueNoT(`{}`), Mode: store.ModeUpdate}},
			err:   store.ErrNotFound},

		// retract-triple
		{name: "retract", steps: []store.Step{retract(bob, aUsersTags, str("a")), retract(todo, aTodosOwner, ref(ann))},
			del: []store.TripleKey{key(bob, aUsersTags, str("a")), key(todo, aTodosOwner, ref(ann))}},
		{name: "retract an absent triple", steps: []store.Step{retract(bob, aUsersTags, str("zzz")), retract(cy, aUsersName, str("x"))}},
		{name: "retract normalises like add",
			steps: []store.Step{retract(todo, aTodosOwner, str("E0000000-0000-4000-8000-000000000001"))},
			del:   []store.TripleKey{key(todo, aTodosOwner, ref(ann))}},
		{name: "retract an unknown attribute", steps: []store.Step{retract(ann, attrID(0xfff), num(1))}, err: store.ErrUnknownAttr},
		{name: "retract with a mode", steps: []store.Step{{Op: store.OpRetractTriple, E: ann, A: aUsersName, V: str("Ann"), Mode: store.ModeCreate}},
			err: store.ErrMalformedStep},

		// delete-entity
		{name: "delete cascades to the todos the user owns",
			steps: []store.Step{del(ann, "users")},
			del: []store.TripleKey{key(ann, aUsersID, ref(ann)), key(ann, aUsersEmail, str("ann@x")), key(ann, aUsersName, str("Ann")),
				key(ann, aUsersAge, num(30)), key(todo, aTodosID, ref(todo)), key(todo, aTodosTitle, str("t")),
				key(todo, aTodosOwner, ref(ann)), key(todo, aTodosData, mustValueNoT(`{"a":{"b":1},"c":2}`))}},
		{name: "delete removes links without cascade, keeps their source",
			steps: []store.Step{add(todo, aTodosWatchers, ref(bob)), del(bob, "users")},
			del: []store.TripleKey{key(bob, aUsersID, ref(bob)), key(bob, aUsersEmail, str("bob@x")),
				key(bob, aUsersTags, str("a")), key(bob, aUsersTags, str("b"))}},
		{name: "delete in one namespace keeps the others",
			steps: []store.Step{add(ann, aTodosTitle, str("x")), del(ann, "todos")}},
		{name: "delete in a namespace the links do not point into",
			steps: []store.Step{del(ann, "todos")}},
		{name: "delete an absent entity", steps: []store.Step{del(cy, "users"), del(ann, "nodes")}},
		{name: "delete with a bad namespace", steps: []store.Step{del(ann, "")}, err: store.ErrMalformedStep},
		{name: "delete a todo leaves its owner",
			steps: []store.Step{del(todo, "todos")},
			del: []store.TripleKey{key(todo, aTodosID, ref(todo)), key(todo, aTodosTitle, str("t")),
				key(todo, aTodosOwner, ref(ann)), key(todo, aTodosData, mustValueNoT(`{"a":{"b":1},"c":2}`))}},

		// attributes
		{name: "add-attr then use it",
			steps: []store.Step{{Op: store.OpAddAttr, A: newAttr.ID, Attr: newAttr}, add(ann, newAttr.ID, str("annie"))},
			add:   []store.Triple{tr(ann, newAttr.ID, str("annie"), now)},
			attrsOK: func(t *testing.T, a *store.Attrs) {
				_, ok := a.ByName("users", "nick")
				assert.True(t, ok)
			}},
		{name: "add-attr again is a no-op",
			steps: []store.Step{{Op: store.OpAddAttr, A: aUsersName, Attr: schema()[2]}}},
		{name: "add-attr over another definition",
			steps: []store.Step{{Op: store.OpAddAttr, A: aUsersName, Attr: store.Attr{ID: aUsersName, Namespace: "users", Label: "nick"}}},
			err:   store.ErrInvalidAttr},
		{name: "add-attr with a taken name",
			steps: []store.Step{{Op: store.OpAddAttr, Attr: store.Attr{ID: attrID(0x31), Namespace: "users", Label: "name"}}},
			err:   store.ErrInvalidAttr},
		{name: "update-attr to unique with duplicates",
			steps: []store.Step{add(bob, aUsersName, str("Ann")), {Op: store.OpUpdateAttr, Attr: withUnique(schema()[2])}},
			err:   store.ErrUniqueViolation, index: 1},
		{name: "update-attr to unique indexes the values",
			steps: []store.Step{{Op: store.OpUpdateAttr, Attr: withUnique(schema()[2])}},
			attrsOK: func(t *testing.T, a *store.Attrs) {
				got, _ := a.ByID(aUsersName)
				assert.True(t, got.Unique)
			}},
		{name: "update-attr to cardinality one with several values",
			steps: []store.Step{{Op: store.OpUpdateAttr, Attr: store.Attr{ID: aUsersTags, Namespace: "users", Label: "tags", Type: store.TypeString}}},
			err:   store.ErrCardinality},
		{name: "update-attr to a type the values do not fit",
			steps: []store.Step{{Op: store.OpUpdateAttr, Attr: store.Attr{ID: aUsersName, Namespace: "users", Label: "name", Type: store.TypeNumber}}},
			err:   store.ErrWrongType},
		{name: "update-attr to date converts the values",
			steps: []store.Step{add(ann, aUsersName, str("2024-03-01")),
				{Op: store.OpUpdateAttr, Attr: store.Attr{ID: aUsersName, Namespace: "users", Label: "name", Type: store.TypeDate}}},
			del: []store.TripleKey{key(ann, aUsersName, str("Ann"))},
			add: []store.Triple{tr(ann, aUsersName, num(day), now)}},
		{name: "update-attr drops the index",
			steps: []store.Step{{Op: store.OpUpdateAttr, Attr: store.Attr{ID: aUsersAge, Namespace: "users", Label: "age", Type: store.TypeNumber}}}},
		{name: "update-attr turns a string into a link",
			steps: []store.Step{add(todo, aTodosCode, ref(bob)), {Op: store.OpUpdateAttr, Attr: store.Attr{ID: aTodosCode, Namespace: "todos",
				Label: "code", Type: store.TypeRef, RefNamespace: "users", ReverseLabel: "coded"}}},
			add: []store.Triple{tr(todo, aTodosCode, ref(bob), now)}},
		{name: "update-attr of an unknown attribute",
			steps: []store.Step{{Op: store.OpUpdateAttr, Attr: store.Attr{ID: attrID(0xfff), Namespace: "x", Label: "y"}}},
			err:   store.ErrUnknownAttr},
		{name: "update-attr to a clashing name",
			steps: []store.Step{{Op: store.OpUpdateAttr, Attr: store.Attr{ID: aUsersName, Namespace: "users", Label: "email"}}},
			err:   store.ErrInvalidAttr},
		{name: "delete-attr removes its triples",
			steps: []store.Step{{Op: store.OpDeleteAttr, A: aTodosOwner}},
			del:   []store.TripleKey{key(todo, aTodosOwner, ref(ann))},
			attrsOK: func(t *testing.T, a *store.Attrs) {
				_, ok := a.Reverse("users", "todos")
				assert.False(t, ok)
			}},
		{name: "delete-attr of an unknown attribute", steps: []store.Step{{Op: store.OpDeleteAttr, A: attrID(0xfff)}}},
		{name: "write after delete-attr", steps: []store.Step{{Op: store.OpDeleteAttr, A: aUsersAge}, add(ann, aUsersAge, num(1))},
			err: store.ErrUnknownAttr, index: 1},

		// lookups
		{name: "add by lookup",
			steps: []store.Step{byLookup(add(store.EntityID{}, aUsersName, str("A")), aUsersEmail, str("ann@x"))},
			del:   []store.TripleKey{key(ann, aUsersName, str("Ann"))},
			add:   []store.Triple{tr(ann, aUsersName, str("A"), now)}},
		{name: "upsert by lookup creates with a derived id",
			steps: []store.Step{byLookup(add(store.EntityID{}, aUsersName, str("Cy")), aUsersEmail, str("cy@x"))},
			add: []store.Triple{tr(cyByEmail, aUsersEmail, str("cy@x"), now), tr(cyByEmail, aUsersID, ref(cyByEmail), now),
				tr(cyByEmail, aUsersName, str("Cy"), now)}},
		{name: "create by lookup, then the same lookup again",
			steps: []store.Step{
				byLookup(addMode(store.EntityID{}, aUsersName, str("Cy"), store.ModeCreate), aUsersEmail, str("cy@x")),
				byLookup(addMode(store.EntityID{}, aUsersAge, num(9), store.ModeCreate), aUsersEmail, str("cy@x"))},
			add: []store.Triple{tr(cyByEmail, aUsersEmail, str("cy@x"), now), tr(cyByEmail, aUsersID, ref(cyByEmail), now),
				tr(cyByEmail, aUsersName, str("Cy"), now), tr(cyByEmail, aUsersAge, num(9), now)}},
		{name: "create by a lookup that finds an entity",
			steps: []store.Step{byLookup(addMode(store.EntityID{}, aUsersName, str("A"), store.ModeCreate), aUsersEmail, str("ann@x"))},
			err:   store.ErrExists},
		{name: "update by a lookup that finds nothing",
			steps: []store.Step{byLookup(addMode(store.EntityID{}, aUsersName, str("A"), store.ModeUpdate), aUsersEmail, str("cy@x"))},
			err:   store.ErrNotFound},
		{name: "lookup through a non-unique attribute",
			steps: []store.Step{byLookup(add(store.EntityID{}, aUsersAge, num(1)), aUsersName, str("Ann"))},
			err:   store.ErrInvalidLookup},
		{name: "lookup through another namespace",
			steps: []store.Step{byLookup(add(store.EntityID{}, aTodosTitle, str("x")), aUsersEmail, str("ann@x"))},
			err:   store.ErrInvalidLookup},
		{name: "lookup through an unknown attribute",
			steps: []store.Step{byLookup(add(store.EntityID{}, aUsersAge, num(1)), attrID(0xfff), str("x"))},
			err:   store.ErrUnknownAttr},
		{name: "lookup value of the wrong type",
			steps: []store.Step{byLookup(add(store.EntityID{}, aUsersAge, num(1)), aUsersEmail, num(1))},
			err:   store.ErrWrongType},
		{name: "both an id and a lookup",
			steps: []store.Step{{Op: store.OpAddTriple, E: ann, Lookup: &store.LookupRef{A: aUsersEmail, V: str("ann@x")}, A: aUsersAge, V: num(1)}},
			err:   store.ErrMalformedStep},
		{name: "link by value lookup",
			steps: []store.Step{valueLookup(add(todo, aTodosWatchers, store.Value{}), aUsersEmail, str("bob@x"))},
			add:   []store.Triple{tr(todo, aTodosWatchers, ref(bob), now)}},
		{name: "link by a value lookup that creates the target",
			steps: []store.Step{valueLookup(add(todo, aTodosWatchers, store.Value{}), aUsersEmail, str("cy@x"))},
			add: []store.Triple{tr(todo, aTodosWatchers, ref(cyByEmail), now), tr(cyByEmail, aUsersEmail, str("cy@x"), now),
				tr(cyByEmail, aUsersID, ref(cyByEmail), now)}},
		{name: "strict link by a value lookup that finds nothing",
			steps: []store.Step{valueLookup(addMode(todo, aTodosWatchers, store.Value{}, store.ModeUpdate), aUsersEmail, str("cy@x"))},
			err:   store.ErrNotFound},
		{name: "value lookup on a non-link", steps: []store.Step{valueLookup(add(todo, aTodosTitle, store.Value{}), aUsersEmail, str("bob@x"))},
			err: store.ErrInvalidLookup},
		{name: "value lookup into the wrong namespace",
			steps: []store.Step{valueLookup(add(todo, aTodosWatchers, store.Value{}), aTodosCode, str("x"))},
			err:   store.ErrInvalidLookup},
		{name: "both a value and a value lookup",
			steps: []store.Step{{Op: store.OpAddTriple, E: todo, A: aTodosWatchers, V: ref(bob), ValueLookup: &store.LookupRef{A: aUsersEmail, V: str("bob@x")}}},
			err:   store.ErrMalformedStep},
		{name: "unlink by value lookup",
			steps: []store.Step{valueLookup(retract(todo, aTodosOwner, store.Value{}), aUsersEmail, str("ann@x"))},
			del:   []store.TripleKey{key(todo, aTodosOwner, ref(ann))}},
		{name: "retract and delete by lookups that find nothing",
			steps: []store.Step{
				byLookup(retract(store.EntityID{}, aUsersName, str("x")), aUsersEmail, str("cy@x")),
				valueLookup(retract(todo, aTodosOwner, store.Value{}), aUsersEmail, str("cy@x")),
				byLookup(del(store.EntityID{}, "users"), aUsersEmail, str("cy@x"))}},
		{name: "delete by lookup",
			steps: []store.Step{byLookup(del(store.EntityID{}, "users"), aUsersEmail, str("bob@x"))},
			del: []store.TripleKey{key(bob, aUsersID, ref(bob)), key(bob, aUsersEmail, str("bob@x")),
				key(bob, aUsersTags, str("a")), key(bob, aUsersTags, str("b"))}},
		{name: "id triple by lookup, as Transform writes it",
			steps: []store.Step{valueLookup(byLookup(add(store.EntityID{}, aUsersID, store.Value{}), aUsersEmail, str("cy@x")), aUsersEmail, str("cy@x"))},
			add:   []store.Triple{tr(cyByEmail, aUsersEmail, str("cy@x"), now), tr(cyByEmail, aUsersID, ref(cyByEmail), now)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			base := mustLoad(t, applyBase()...)
			steps := tt.steps
			got, err := base.Apply(steps, now)
			if tt.err != nil {
				require.Error(t, err)
				assert.Nil(t, got)
				assert.ErrorIs(t, err, tt.err)
				var se *store.StepError
				require.True(t, errors.As(err, &se), "a *StepError: %v", err)
				assert.Equal(t, tt.index, se.Index, "failing step")
				assert.Equal(t, steps[tt.index].Op, se.Op)
				assert.Equal(t, sortedTriples(applyBase()), base.Triples(), "a failed batch changes nothing")
				return
			}
			require.NoError(t, err)
			require.NoError(t, got.CheckInvariants())
			want := map[store.TripleKey]store.Triple{}
			for _, t := range applyBase() {
				want[t.Key()] = t
			}
			for _, k := range tt.del {
				_, ok := want[k]
				require.True(t, ok, "deleting %v: not in the fixture", k)
				delete(want, k)
			}
			for _, t := range tt.add {
				want[t.Key()] = t
			}
			var wantList []store.Triple
			for _, t := range want {
				wantList = append(wantList, t)
			}
			assert.Equal(t, sortedTriples(wantList), got.Triples())
			if tt.attrsOK != nil {
				tt.attrsOK(t, got.Attrs())
			}
			assert.Equal(t, sortedTriples(applyBase()), base.Triples(), "the receiver is unchanged")
		})
	}
}

func withUnique(a store.Attr) store.Attr {
	a.Unique = true
	return a
}

func sortedTriples(ts []store.Triple) []store.Triple {
	out := slices.Clone(ts)
	slices.SortFunc(out, func(x, y store.Triple) int {
		return cmp.Or(x.E.Compare(y.E), x.A.Compare(y.A), store.Compare(x.V, y.V))
	})
	return out
}

func TestApplyCascadeCycle(t *testing.T) {
	n1, n2, n3, n4 := eid(31), eid(32), eid(33), eid(34)
	s := mustApply(t, store.NewSnapshot(testAttrs(t)), 1,
		add(n1, aNodesNext, ref(n2)), add(n2, aNodesNext, ref(n3)), add(n3, aNodesNext, ref(n1)),
		add(n4, aNodesNext, ref(n4)), // a self-loop
	)
	require.Equal(t, 8, s.Len())
	s = mustApply(t, s, 2, del(n2, "nodes"))
	assert.Equal(t, 2, s.Len(), "n1 → n2 cascades to n1, n3 → n1 to n3; the self-loop n4 stays")
	assert.True(t, s.InNamespace(n4, "nodes"))
	s = mustApply(t, s, 3, del(n4, "nodes"))
	assert.Zero(t, s.Len())
}

func TestApplyNoIDAttr(t *testing.T) {
	attrs := store.MustNewAttrs(store.Attr{ID: attrID(1), Namespace: "logs", Label: "msg"})
	s := mustApply(t, store.NewSnapshot(attrs), 1, add(eid(1), attrID(1), str("hi")))
	assert.Equal(t, []store.Triple{tr(eid(1), attrID(1), str("hi"), 1)}, s.Triples(), "no id attribute, no id triple")
	s = mustApply(t, s, 2, addMode(eid(1), attrID(1), str("ho"), store.ModeUpdate))
	_, err := s.Apply([]store.Step{addMode(eid(1), attrID(1), str("x"), store.ModeCreate)}, 3)
	assert.ErrorIs(t, err, store.ErrExists, "existence without id triples: any triple of the namespace")
	assert.Same(t, s, mustApply(t, s, 4), "an empty batch returns the receiver")
}

func TestApplyUpdateAttrIndexes(t *testing.T) {
	s := mustLoad(t, applyBase()...)
	s = mustApply(t, s, 2, store.Step{Op: store.OpUpdateAttr, Attr: store.Attr{ID: aUsersAge, Namespace: "users", Label: "age", Type: store.TypeNumber}})
	assert.False(t, s.ScanAttrValues(aUsersAge, store.ValueRange{}, false, func(store.Triple) bool { return true }), "no longer indexed")
	s = mustApply(t, s, 3, store.Step{Op: store.OpUpdateAttr, Attr: store.Attr{ID: aUsersName, Namespace: "users", Label: "name", Type: store.TypeString, Indexed: true}})
	got := collect(func(fn func(store.Triple) bool) { s.ScanAttrValues(aUsersName, store.Exactly(str("Ann")), false, fn) })
	assert.Equal(t, []store.Triple{tr(ann, aUsersName, str("Ann"), 1)}, got, "indexed now, created_at kept")
}

// TestApplyStepsOnOneEntity checks a batch writing one entity step after
// step, as replayed mutations do: a write learns from the write before it
// that the entity exists and holds its id triple, which a retract or a
// delete between them may undo.
func TestApplyStepsOnOneEntity(t *testing.T) {
	s := mustLoad(t, applyBase()...)
	got := mustApply(t, s, 2,
		add(cy, aUsersName, str("Cy")),
		retract(cy, aUsersID, ref(cy)),
		add(cy, aUsersAge, num(3)))
	assert.True(t, got.Has(key(cy, aUsersID, ref(cy))), "the id triple retracted is written again")

	_, err := s.Apply([]store.Step{
		add(ann, aUsersName, str("A")),
		del(ann, "users"),
		addMode(ann, aUsersAge, num(3), store.ModeUpdate)}, 2)
	assert.ErrorIs(t, err, store.ErrNotFound, "deleted, the entity no longer exists")

	got = mustApply(t, s, 2,
		add(ann, aUsersName, str("A")),
		del(ann, "users"),
		add(ann, aUsersAge, num(3)))
	assert.True(t, got.Has(key(ann, aUsersID, ref(ann))), "a write after the delete brings the id triple back")

	_, err = s.Apply([]store.Step{
		addMode(cy, aUsersName, str("Cy"), store.ModeCreate),
		addMode(cy, aUsersAge, num(3), store.ModeCreate),
		addMode(cy, aTodosTitle, str("t"), store.ModeUpdate)}, 2)
	assert.ErrorIs(t, err, store.ErrNotFound, "another namespace is another question")

	// The id triple an entity holds, written again: nothing changes (its
	// CreatedAt neither), unless the mode forbids it.
	got = mustApply(t, s, 2, add(ann, aUsersID, ref(ann)), addMode(ann, aUsersID, ref(ann), store.ModeUpdate))
	assert.Equal(t, s.Triples(), got.Triples())
	_, err = s.Apply([]store.Step{addMode(ann, aUsersID, ref(ann), store.ModeCreate)}, 2)
	assert.ErrorIs(t, err, store.ErrExists)
	_, err = s.Apply([]store.Step{add(ann, aUsersID, ref(bob))}, 2)
	assert.ErrorIs(t, err, store.ErrWrongType, "an id triple holds its own entity's id")
}
