package store_test

import (
	"errors"
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/triplesync/triplesync/store"
)

// counter returns a newID that draws eid(100), eid(101), ...
func counter() func() store.EntityID {
	n := 99
	return func() store.EntityID {
		n++
		return eid(n)
	}
}

func lref(a store.AttrID, v store.Value) *store.LookupRef { return &store.LookupRef{A: a, V: v} }

func TestTransform(t *testing.T) {
	email := func(s string) *store.Lookup { return &store.Lookup{Label: "email", Value: s} }
	tests := []struct {
		name   string
		ops    []store.TxOp
		create bool
		want   []store.Step
	}{
		{name: "create",
			ops: []store.TxOp{{Action: "create", Namespace: "users", ID: ann, Args: map[string]any{"name": "Ann", "age": 30, "id": "ignored"}}},
			want: []store.Step{
				addMode(ann, aUsersID, ref(ann), store.ModeCreate),
				addMode(ann, aUsersAge, num(30), store.ModeCreate),
				addMode(ann, aUsersName, str("Ann"), store.ModeCreate),
			}},
		{name: "create draws an id",
			ops:  []store.TxOp{{Action: "create", Namespace: "todos"}},
			want: []store.Step{addMode(eid(100), aTodosID, ref(eid(100)), store.ModeCreate)}},
		{name: "update is an upsert",
			ops:  []store.TxOp{{Action: "update", Namespace: "users", ID: ann, Args: map[string]any{"meta": map[string]any{"a": 1}}}},
			want: []store.Step{add(ann, aUsersID, ref(ann)), add(ann, aUsersMeta, mustValueNoT(`{"a":1}`))}},
		{name: "strict update",
			ops:  []store.TxOp{{Action: "update", Namespace: "users", ID: ann, Mode: store.ModeUpdate, Args: map[string]any{"age": 31}}},
			want: []store.Step{addMode(ann, aUsersID, ref(ann), store.ModeUpdate), addMode(ann, aUsersAge, num(31), store.ModeUpdate)}},
		{name: "merge objects, replace the rest",
			ops:  []store.TxOp{{Action: "merge", Namespace: "users", ID: ann, Args: map[string]any{"meta": map[string]any{"a": nil}, "name": "A"}}},
			want: []store.Step{add(ann, aUsersID, ref(ann)), merge(ann, aUsersMeta, mustValueNoT(`{"a":null}`)), add(ann, aUsersName, str("A"))}},
		{name: "delete",
			ops:  []store.TxOp{{Action: "delete", Namespace: "users", ID: ann}},
			want: []store.Step{del(ann, "users")}},
		{name: "delete by lookup",
			ops:  []store.TxOp{{Action: "delete", Namespace: "users", Lookup: email("ann@x")}},
			want: []store.Step{{Op: store.OpDeleteEntity, Lookup: lref(aUsersEmail, str("ann@x")), Namespace: "users"}}},
		{name: "link forward",
			ops:  []store.TxOp{{Action: "link", Namespace: "todos", ID: todo, Args: map[string]any{"owner": ann, "watchers": []any{bob.String(), cy}}}},
			want: []store.Step{add(todo, aTodosOwner, ref(ann)), add(todo, aTodosWatchers, ref(bob)), add(todo, aTodosWatchers, ref(cy))}},
		{name: "link by reverse label writes on the target",
			ops:  []store.TxOp{{Action: "link", Namespace: "users", ID: ann, Args: map[string]any{"todos": []store.EntityID{eid(10), eid(11)}}}},
			want: []store.Step{add(eid(10), aTodosOwner, ref(ann)), add(eid(11), aTodosOwner, ref(ann))}},
		{name: "link to a lookup",
			ops:  []store.TxOp{{Action: "link", Namespace: "todos", ID: todo, Args: map[string]any{"watchers": store.Lookup{Label: "email", Value: "bob@x"}}}},
			want: []store.Step{valueLookup(add(todo, aTodosWatchers, store.Value{}), aUsersEmail, str("bob@x"))}},
		{name: "link from a lookup by reverse label",
			ops:  []store.TxOp{{Action: "link", Namespace: "users", Lookup: email("ann@x"), Args: map[string]any{"todos": todo}}},
			want: []store.Step{valueLookup(add(todo, aTodosOwner, store.Value{}), aUsersEmail, str("ann@x"))}},
		{name: "link a lookup to a lookup",
			ops:  []store.TxOp{{Action: "link", Namespace: "users", Lookup: email("ann@x"), Args: map[string]any{"todos": &store.Lookup{Label: "code", Value: "T1"}}}},
			want: []store.Step{{Op: store.OpAddTriple, Lookup: lref(aTodosCode, str("T1")), A: aTodosOwner, ValueLookup: lref(aUsersEmail, str("ann@x"))}}},
		{name: "unlink",
			ops:  []store.TxOp{{Action: "unlink", Namespace: "todos", ID: todo, Args: map[string]any{"owner": ann}}},
			want: []store.Step{retract(todo, aTodosOwner, ref(ann))}},
		{name: "update by lookup",
			ops: []store.TxOp{{Action: "update", Namespace: "users", Lookup: email("cy@x"), Args: map[string]any{"name": "Cy"}}},
			want: []store.Step{
				valueLookup(byLookup(add(store.EntityID{}, aUsersID, store.Value{}), aUsersEmail, str("cy@x")), aUsersEmail, str("cy@x")),
				byLookup(add(store.EntityID{}, aUsersName, str("Cy")), aUsersEmail, str("cy@x")),
			}},
		{name: "create missing attributes", create: true,
			ops: []store.TxOp{
				{Action: "update", Namespace: "users", ID: ann, Args: map[string]any{"nick": "A"}},
				{Action: "create", Namespace: "pets", ID: eid(50), Args: map[string]any{"kind": "cat"}},
				{Action: "link", Namespace: "pets", ID: eid(50), Args: map[string]any{"users": ann}},
				{Action: "update", Namespace: "pets", Lookup: &store.Lookup{Label: "tag", Value: 7}},
			},
			want: []store.Step{
				{Op: store.OpAddAttr, A: store.AttrIDFor("users", "nick"), Attr: store.Attr{ID: store.AttrIDFor("users", "nick"), Namespace: "users", Label: "nick"}},
				{Op: store.OpAddAttr, A: store.AttrIDFor("pets", "id"), Attr: store.Attr{ID: store.AttrIDFor("pets", "id"), Namespace: "pets", Label: "id"}},
				{Op: store.OpAddAttr, A: store.AttrIDFor("pets", "kind"), Attr: store.Attr{ID: store.AttrIDFor("pets", "kind"), Namespace: "pets", Label: "kind"}},
				{Op: store.OpAddAttr, A: store.AttrIDFor("pets", "users"), Attr: store.Attr{ID: store.AttrIDFor("pets", "users"), Namespace: "pets", Label: "users", Type: store.TypeRef,
					Cardinality: store.CardinalityMany, RefNamespace: "users", ReverseLabel: "pets"}},
				{Op: store.OpAddAttr, A: store.AttrIDFor("pets", "tag"), Attr: store.Attr{ID: store.AttrIDFor("pets", "tag"), Namespace: "pets", Label: "tag", Unique: true, Indexed: true}},
				add(ann, aUsersID, ref(ann)),
				add(ann, store.AttrIDFor("users", "nick"), str("A")),
				addMode(eid(50), store.AttrIDFor("pets", "id"), ref(eid(50)), store.ModeCreate),
				addMode(eid(50), store.AttrIDFor("pets", "kind"), str("cat"), store.ModeCreate),
				add(eid(50), store.AttrIDFor("pets", "users"), ref(ann)),
				valueLookup(byLookup(add(store.EntityID{}, store.AttrIDFor("pets", "id"), store.Value{}), store.AttrIDFor("pets", "tag"), num(7)), store.AttrIDFor("pets", "tag"), num(7)),
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := store.Transform(testAttrs(t), tt.ops, counter(), store.TransformOptions{CreateMissingAttrs: tt.create})
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestTransformErrors(t *testing.T) {
	tests := []struct {
		name    string
		ops     []store.TxOp
		create  bool
		err     error
		mention string
	}{
		{name: "unknown label", ops: []store.TxOp{{Action: "update", Namespace: "users", ID: ann, Args: map[string]any{"nick": 1}}},
			err: store.ErrUnknownAttr, mention: "users.nick"},
		{name: "unknown namespace", ops: []store.TxOp{{Action: "create", Namespace: "pets", ID: ann}},
			err: store.ErrUnknownAttr, mention: "pets.id"},
		{name: "unknown link", ops: []store.TxOp{{Action: "link", Namespace: "users", ID: ann, Args: map[string]any{"pets": bob}}},
			err: store.ErrUnknownAttr, mention: "users.pets"},
		{name: "link target cannot be inferred", create: true,
			ops: []store.TxOp{{Action: "link", Namespace: "users", ID: ann, Args: map[string]any{"pets": bob}}},
			err: store.ErrUnknownAttr, mention: "cannot infer"},
		{name: "inferred link clashes", create: true,
			// todos.users would read back as users.todos, which todos.owner does
			ops: []store.TxOp{{Action: "link", Namespace: "todos", ID: todo, Args: map[string]any{"users": bob}}},
			err: store.ErrInvalidAttr, mention: "both read back as users.todos"},
		{name: "set a link by update", ops: []store.TxOp{{Action: "update", Namespace: "todos", ID: todo, Args: map[string]any{"owner": ann}}},
			err: store.ErrWrongType, mention: "use link"},
		{name: "set a reverse link by update", ops: []store.TxOp{{Action: "update", Namespace: "users", ID: ann, Args: map[string]any{"todos": todo}}},
			err: store.ErrWrongType, mention: "use link"},
		{name: "link a value attribute", ops: []store.TxOp{{Action: "link", Namespace: "todos", ID: todo, Args: map[string]any{"title": ann}}},
			err: store.ErrWrongType, mention: "not a link"},
		{name: "lookup through a non-unique attribute", ops: []store.TxOp{{Action: "update", Namespace: "users", Lookup: &store.Lookup{Label: "name", Value: "Ann"}}},
			err: store.ErrInvalidLookup},
		{name: "link target not an id", ops: []store.TxOp{{Action: "link", Namespace: "todos", ID: todo, Args: map[string]any{"owner": "ann"}}},
			err: store.ErrInvalidID},
		{name: "link target of another type", ops: []store.TxOp{{Action: "link", Namespace: "todos", ID: todo, Args: map[string]any{"owner": 7}}},
			err: store.ErrMalformedStep},
		{name: "link target missing", ops: []store.TxOp{{Action: "link", Namespace: "todos", ID: todo, Args: map[string]any{"owner": nil}}},
			err: store.ErrMalformedStep},
		{name: "unknown action", ops: []store.TxOp{{Action: "upsert", Namespace: "users", ID: ann}}, err: store.ErrMalformedStep},
		{name: "bad namespace", ops: []store.TxOp{{Action: "delete", Namespace: "a.b", ID: ann}}, err: store.ErrMalformedStep},
		{name: "no id", ops: []store.TxOp{{Action: "update", Namespace: "users"}}, err: store.ErrMalformedStep},
		{name: "id and lookup", ops: []store.TxOp{{Action: "delete", Namespace: "users", ID: ann, Lookup: &store.Lookup{Label: "email", Value: "x"}}},
			err: store.ErrMalformedStep},
		{name: "update with mode create", ops: []store.TxOp{{Action: "update", Namespace: "users", ID: ann, Mode: store.ModeCreate}},
			err: store.ErrMalformedStep},
		{name: "value JSON cannot carry", ops: []store.TxOp{{Action: "update", Namespace: "users", ID: ann, Args: map[string]any{"age": math.NaN()}}},
			err: store.ErrInvalidValue, mention: "users.age"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ops := append([]store.TxOp{{Action: "delete", Namespace: "users", ID: bob}}, tt.ops...)
			got, err := store.Transform(testAttrs(t), ops, counter(), store.TransformOptions{CreateMissingAttrs: tt.create})
			require.Error(t, err, "Transform = %v", got)
			assert.ErrorIs(t, err, tt.err)
			assert.ErrorContains(t, err, tt.mention)
			var oe *store.OpError
			require.True(t, errors.As(err, &oe))
			assert.GreaterOrEqual(t, oe.Index, 1, "the failing op, after the good one")
			assert.Equal(t, ops[oe.Index].Action, oe.Action)
		})
	}
	_, err := store.Transform(nil, []store.TxOp{{Action: "create", Namespace: "x"}}, nil, store.TransformOptions{})
	assert.ErrorIs(t, err, store.ErrMalformedStep, "create without an id needs newID")
}

// TestTransformThenApply writes through InstaML ops end to end.
func TestTransformThenApply(t *testing.T) {
	s := store.NewSnapshot(testAttrs(t))
	tx := func(now int64, ops ...store.TxOp) {
		t.Helper()
		steps, err := store.Transform(s.Attrs(), ops, counter(), store.TransformOptions{})
		require.NoError(t, err)
		s = mustApply(t, s, now, steps...)
	}
	tx(1,
		store.TxOp{Action: "create", Namespace: "users", ID: ann, Args: map[string]any{"email": "ann@x", "name": "Ann"}},
		store.TxOp{Action: "create", Namespace: "todos", ID: todo, Args: map[string]any{"title": "t", "code": "T1"}},
		store.TxOp{Action: "link", Namespace: "users", Lookup: &store.Lookup{Label: "email", Value: "ann@x"}, Args: map[string]any{"todos": todo}},
		store.TxOp{Action: "link", Namespace: "todos", Lookup: &store.Lookup{Label: "code", Value: "T1"},
			Args: map[string]any{"watchers": store.Lookup{Label: "email", Value: "bob@x"}}},
	)
	bobID := store.LookupEntityID(aUsersEmail, str("bob@x"))
	assert.True(t, s.Has(key(todo, aTodosOwner, ref(ann))))
	assert.True(t, s.Has(key(todo, aTodosWatchers, ref(bobID))), "linking to a lookup created bob")
	assert.True(t, s.Has(key(bobID, aUsersID, ref(bobID))))

	tx(2, store.TxOp{Action: "merge", Namespace: "users", Lookup: &store.Lookup{Label: "email", Value: "bob@x"},
		Args: map[string]any{"meta": map[string]any{"a": map[string]any{"b": 1}}, "name": "Bob"}})
	tx(3, store.TxOp{Action: "merge", Namespace: "users", ID: bobID, Args: map[string]any{"meta": map[string]any{"a": map[string]any{"c": 2}}}})
	meta, ok := s.Get(key(bobID, aUsersMeta, mustValueNoT(`{"a":{"b":1,"c":2}}`)))
	require.True(t, ok)
	assert.Equal(t, int64(2), meta.CreatedAt)

	_, err := store.Transform(s.Attrs(), []store.TxOp{{Action: "create", Namespace: "users", ID: ann}}, nil, store.TransformOptions{})
	require.NoError(t, err)
	steps, _ := store.Transform(s.Attrs(), []store.TxOp{{Action: "create", Namespace: "users", ID: ann}}, nil, store.TransformOptions{})
	_, err = s.Apply(steps, 4)
	assert.ErrorIs(t, err, store.ErrExists)

	tx(5, store.TxOp{Action: "unlink", Namespace: "todos", ID: todo, Args: map[string]any{"watchers": bobID}},
		store.TxOp{Action: "delete", Namespace: "users", Lookup: &store.Lookup{Label: "email", Value: "ann@x"}})
	assert.False(t, s.EntityExists(ann))
	assert.False(t, s.EntityExists(todo), "the owner's delete cascaded")
	assert.True(t, s.InNamespace(bobID, "users"))
}

// Attributes Transform defines get ids derived from namespace and label,
// whatever ids newID draws, so two writers (clients, the admin API) that
// define the same attribute at once send identical add-attrs (issue #7).
func TestTransformDefinesStableAttrIDs(t *testing.T) {
	ops := []store.TxOp{{Action: "update", Namespace: "pets", ID: eid(50), Args: map[string]any{"kind": "cat"}}}
	a, err := store.Transform(testAttrs(t), ops, counter(), store.TransformOptions{CreateMissingAttrs: true})
	require.NoError(t, err)
	b, err := store.Transform(testAttrs(t), ops, func() store.EntityID { return eid(9000) }, store.TransformOptions{CreateMissingAttrs: true})
	require.NoError(t, err)
	assert.Equal(t, a, b)
	require.Equal(t, store.OpAddAttr, a[0].Op)
	assert.Equal(t, store.AttrIDFor("pets", "id"), a[0].Attr.ID)
	assert.NotEqual(t, store.AttrIDFor("pets", "kind"), store.AttrIDFor("pet", "skind"), "namespace and label are hashed apart")
}
