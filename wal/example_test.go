package wal_test

import (
	"fmt"

	"github.com/triplesync/triplesync/store"
	"github.com/triplesync/triplesync/wal"
)

// The Decoder takes the WAL data of each XLogData message in order and
// returns a transaction at each commit. (The messages here are built by
// hand; a Reader feeds it the server's.)
func ExampleDecoder() {
	var d wal.Decoder
	msgs := append(schemaMsgs(),
		beginMsg(0x16B3748, 731),
		insertMsg(nil, relTx, txRow("42")...),
		insertMsg(nil, relTriples, tripleRow(e1, a1, `"buy milk"`, "tfftf", "1700000000000")...),
		commitMsg(0x16B3748, 0x16B3778),
	)
	for i, m := range msgs {
		tx, err := d.Decode(store.LSN(i), m)
		if err != nil {
			fmt.Println(err)
			return
		}
		if tx != nil {
			fmt.Printf("tx-id %d at %X: %d change(s)\n", tx.TxID, uint64(tx.LSN), len(tx.Triples))
			for _, c := range tx.Triples {
				fmt.Println(c.Op, c.New.V, c.NewFlags)
			}
		}
	}
	// Output:
	// tx-id 42 at 16B3748: 1 change(s)
	// insert "buy milk" ea|ave
}
