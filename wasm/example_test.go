//go:build !(js && wasm)

package wasm_test

import (
	"context"
	"fmt"

	"github.com/triplesync/triplesync/reactor"
	"github.com/triplesync/triplesync/wasm"
)

// (Examples run on the host only: the browser has no pipes for their
// output.)

// A Storage over the in-memory twin of IndexedDB, as the host tests use
// it; in a browser the Factory is wasm.NewIndexedDB().
func ExampleStorage() {
	ctx := context.Background()
	f := wasm.NewMemFactory()
	s, err := wasm.NewStorage(wasm.StorageConfig{App: "todos", Factory: f})
	if err != nil {
		panic(err)
	}
	err = s.Write(ctx, &reactor.Batch{
		PutSettings:  []reactor.Setting{{Key: reactor.SettingAttrs, Value: []byte(`[]`)}},
		PutMutations: []reactor.Mutation{{ID: "m1", Seq: 1}, {ID: "m2", Seq: 2}},
	})
	if err != nil {
		panic(err)
	}
	st, err := s.Load(ctx)
	if err != nil {
		panic(err)
	}
	fmt.Println(s.Name(), len(st.Mutations), "mutations")
	for _, l := range f.Log()[1:] { // the first is the format marker
		fmt.Println(l.Stores, l.Durability)
	}
	// Unordered output:
	// triplesync_todos_v1 2 mutations
	// [mutations] strict
	// [settings] relaxed
}

// The JS tx builder's output, decoded for reactor's Client.Transact.
func ExampleDecodeOps() {
	ops, err := wasm.DecodeOps([]byte(`[
		{"action": "update", "namespace": "todos", "id": "6f1c0b8e-4d6a-4a8e-9d7e-0c5b9a1e2f30", "args": {"title": "Milk"}},
		{"action": "link", "namespace": "todos", "id": "6f1c0b8e-4d6a-4a8e-9d7e-0c5b9a1e2f30", "args": {"owner": "lookup__email__\"ann@x.io\""}}
	]`))
	if err != nil {
		panic(err)
	}
	for _, op := range ops {
		fmt.Println(op.Action, op.Namespace, op.ID, op.Args)
	}
	// Output:
	// update todos 6f1c0b8e-4d6a-4a8e-9d7e-0c5b9a1e2f30 map[title:Milk]
	// link todos 6f1c0b8e-4d6a-4a8e-9d7e-0c5b9a1e2f30 map[owner:{email ann@x.io}]
}
