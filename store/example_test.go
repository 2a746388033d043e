package store_test

import (
	"fmt"

	"github.com/triplesync/triplesync/store"
)

func ExampleSnapshot_Apply() {
	attrs := store.MustNewAttrs(
		store.Attr{ID: store.MustParseEntityID("a0000000-0000-4000-8000-000000000001"), Namespace: "todos", Label: "id"},
		store.Attr{ID: store.MustParseEntityID("a0000000-0000-4000-8000-000000000002"), Namespace: "todos", Label: "title",
			Type: store.TypeString, Indexed: true},
	)
	title, _ := attrs.ByName("todos", "title")
	todo := store.MustParseEntityID("e0000000-0000-4000-8000-000000000001")

	empty := store.NewSnapshot(attrs)
	s, err := empty.Apply([]store.Step{
		{Op: store.OpAddTriple, E: todo, A: title.ID, V: store.String("write docs"), Mode: store.ModeCreate},
	}, 1700000000000)
	if err != nil {
		panic(err)
	}
	s.ScanAttrValues(title.ID, store.ValueRange{}, false, func(t store.Triple) bool {
		fmt.Println(t.E, t.V)
		return true
	})
	fmt.Println(s.Len(), "triples (the id triple came with the title);", empty.Len(), "in the old snapshot")

	_, err = s.Apply([]store.Step{{Op: store.OpAddTriple, E: todo, A: title.ID, V: store.Number(7)}}, 1700000000001)
	fmt.Println(err)
	// Output:
	// e0000000-0000-4000-8000-000000000001 "write docs"
	// 2 triples (the id triple came with the title); 0 in the old snapshot
	// step 0 (add-triple): store: wrong value type: todos.title wants string, got number 7
}

func ExampleTransform() {
	attrs := store.MustNewAttrs(
		store.Attr{ID: store.MustParseEntityID("a0000000-0000-4000-8000-000000000001"), Namespace: "users", Label: "id"},
		store.Attr{ID: store.MustParseEntityID("a0000000-0000-4000-8000-000000000002"), Namespace: "users", Label: "email",
			Type: store.TypeString, Unique: true},
		store.Attr{ID: store.MustParseEntityID("a0000000-0000-4000-8000-000000000003"), Namespace: "users", Label: "name",
			Type: store.TypeString},
	)
	steps, err := store.Transform(attrs, []store.TxOp{{
		Action:    "update",
		Namespace: "users",
		Lookup:    &store.Lookup{Label: "email", Value: "ann@example.com"},
		Args:      map[string]any{"name": "Ann"},
	}}, nil, store.TransformOptions{})
	if err != nil {
		panic(err)
	}
	wire, _ := store.EncodeSteps(nil, steps)
	fmt.Println(string(wire))

	// Nobody has that email yet: the upsert creates the user, with an id
	// derived from the lookup, the same on every side that applies it.
	s, _ := store.NewSnapshot(attrs).Apply(steps, 1)
	email, _ := attrs.ByName("users", "email")
	name, _ := attrs.ByName("users", "name")
	ann := store.LookupEntityID(email.ID, store.String("ann@example.com"))
	fmt.Println(s.Has(store.TripleKey{E: ann, A: name.ID, V: store.String("Ann")}))
	// Output:
	// [["add-triple",["a0000000-0000-4000-8000-000000000002","ann@example.com"],"a0000000-0000-4000-8000-000000000001",["a0000000-0000-4000-8000-000000000002","ann@example.com"],{"value-lookup":true}],["add-triple",["a0000000-0000-4000-8000-000000000002","ann@example.com"],"a0000000-0000-4000-8000-000000000003","Ann"]]
	// true
}
