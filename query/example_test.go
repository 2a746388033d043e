package query_test

import (
	"fmt"

	"github.com/triplesync/triplesync/query"
	"github.com/triplesync/triplesync/store"
)

func Example() {
	attrs := store.MustNewAttrs(
		store.Attr{ID: store.AttrID{1}, Namespace: "todos", Label: "id", Unique: true},
		store.Attr{ID: store.AttrID{2}, Namespace: "todos", Label: "title", Type: store.TypeString},
		store.Attr{ID: store.AttrID{3}, Namespace: "todos", Label: "rank", Type: store.TypeNumber, Indexed: true},
	)
	var triples []store.Triple
	for i, title := range []string{"Buy milk", "Call mom", "Cook"} {
		e := store.EntityID{0xe, byte(i)}
		triples = append(triples,
			store.Triple{E: e, A: store.AttrID{1}, V: store.Ref(e)},
			store.Triple{E: e, A: store.AttrID{2}, V: store.String(title)},
			store.Triple{E: e, A: store.AttrID{3}, V: store.Number(float64(10 - i))})
	}
	snap, _ := store.Load(attrs, triples)

	q, err := query.Parse([]byte(`{"todos": {"$": {"where": {"title": {"$like": "C%"}}, "order": {"rank": "asc"}, "limit": 1}}}`), attrs)
	if err != nil {
		panic(err)
	}
	res, err := query.Eval(query.SnapshotSource(snap), q)
	if err != nil {
		panic(err)
	}
	page := res.Tops[0]
	fmt.Println(page.Entities[0].Fields[1].Values[0], page.Info.HasNextPage)
	fmt.Println(len(res.Triples), "triples justify it")
	// Output:
	// "Cook" true
	// 6 triples justify it
}
