package invalidator_test

import (
	"fmt"

	"github.com/triplesync/triplesync/invalidator"
	"github.com/triplesync/triplesync/query"
	"github.com/triplesync/triplesync/store"
)

func Example() {
	title := store.Attr{ID: store.MustParseEntityID("00000000-0000-4000-8000-0000000000a1"), Namespace: "todos", Label: "title", Type: store.TypeString}
	idAttr := store.Attr{ID: store.MustParseEntityID("00000000-0000-4000-8000-0000000000a0"), Namespace: "todos", Label: "id"}
	attrs := store.MustNewAttrs(idAttr, title)
	todo := store.MustParseEntityID("00000000-0000-4000-8000-000000000001")
	db, _ := store.NewSnapshot(attrs).Apply([]store.Step{{Op: store.OpAddTriple, E: todo, A: title.ID, V: store.String("buy milk")}}, 1)

	inv := invalidator.New()
	q, _ := query.Parse([]byte(`{"todos": {"$": {"where": {"title": {"$like": "buy%"}}}}}`), attrs)
	key := invalidator.QueryKey{Query: q.Text()}

	// Subscribe before the first run, run, then refine with the ticket.
	ticket, _ := inv.Subscribe(1, key, invalidator.PlanOf(q))
	res, _ := query.Eval(query.SnapshotSource(db), q)
	refined, _ := inv.Refine(key, ticket, invalidator.RefinementOf(q, res))
	fmt.Println("refined:", refined)

	// The WAL delivers a committed transaction: the todo's title changes.
	woken := inv.Apply(&store.Change{TxID: 7, Triples: []store.TripleChange{{
		Op:       store.OpUpdate,
		Old:      store.Triple{E: todo, A: title.ID, V: store.String("buy milk")},
		New:      store.Triple{E: todo, A: title.ID, V: store.String("buy oat milk")},
		OldFlags: store.FlagEA, NewFlags: store.FlagEA,
	}}})
	fmt.Println("woken sessions:", woken)

	// The session drains its stale queries and re-runs them.
	stale, asOf := inv.TakeStaleTickets(1)
	fmt.Println("stale:", len(stale), "as of tx", asOf)
	// Output:
	// refined: true
	// woken sessions: [1]
	// stale: 1 as of tx 7
}
