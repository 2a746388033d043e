package reactor_test

import (
	"fmt"
	"time"

	"github.com/triplesync/triplesync/internal/wire"
	"github.com/triplesync/triplesync/reactor"
	"github.com/triplesync/triplesync/store"
)

// A driver's loop, by hand: the core asks for a connection, sends init
// once it is open, and from then on turns inputs into Ready values — what
// to store, what to send, whom to call back.
func ExampleCore() {
	attrs := store.MustNewAttrs(
		store.Attr{ID: store.MustParseEntityID("00000000-0000-4000-8000-0000000000a1"), Namespace: "todos", Label: "id", Type: store.TypeString, Unique: true, Indexed: true},
		store.Attr{ID: store.MustParseEntityID("00000000-0000-4000-8000-0000000000a2"), Namespace: "todos", Label: "title", Type: store.TypeString},
	)
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	core, err := reactor.NewCore(reactor.Config{Now: func() time.Time { return now }, Rand: newRand(1)})
	if err != nil {
		panic(err)
	}
	drive := func() {
		for core.HasReady() {
			rd := core.Ready()
			for _, m := range rd.Batch.PutMutations {
				fmt.Println("store mutation", m.Seq, "tx", m.TxID)
			}
			for _, m := range rd.Messages {
				fmt.Println("send", m.Op())
			}
			if rd.Connect {
				fmt.Println("dial")
			}
			for _, n := range rd.Notifications {
				fmt.Println("callback", titles(n.QueryResult()))
			}
			for _, s := range rd.Settled {
				fmt.Println("settled, tx", s.TxID)
			}
			core.Advance(rd)
		}
	}

	core.Load(nil) // storage was empty
	drive()
	core.ConnOpened()
	drive()
	_ = core.Step(&wire.InitOK{SessionID: "s1", Attrs: attrs.List()})
	drive()

	q := []byte(`{"todos":{}}`)
	_, _ = core.Subscribe(q)
	drive()
	qid, _, _ := reactor.QueryID(q)
	_ = core.Step(&wire.AddQueryOK{QueryID: qid, ProcessedTxID: 1})
	drive()

	t1 := store.MustParseEntityID("00000000-0000-4000-8000-000000000001")
	id, _ := core.Transact([]store.TxOp{{Action: "create", Namespace: "todos", ID: t1, Args: map[string]any{"title": "buy milk"}}})
	drive()
	_ = core.Step(&wire.TransactOK{MutationID: id, TxID: 2})
	drive()
	// Output:
	// dial
	// send init
	// send add-query
	// callback []
	// store mutation 1 tx 0
	// send transact
	// callback [buy milk]
	// store mutation 1 tx 2
	// settled, tx 2
}
