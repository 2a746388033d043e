package wire_test

import (
	"strconv"
	"testing"

	"github.com/triplesync/triplesync/internal/wire"
	"github.com/triplesync/triplesync/store"
)

func benchMessages() map[string]wire.Message {
	a := store.MustParseEntityID(idA)
	e := store.MustParseEntityID(idE)
	var ts wire.Triples
	for i := range 100 {
		ts = append(ts, store.Triple{E: e, A: a, V: store.String("title " + strconv.Itoa(i)), CreatedAt: int64(i)},
			store.Triple{E: e, A: a, V: store.Number(float64(i)), CreatedAt: int64(i)})
	}
	var attrs []store.Attr
	for i := range 20 {
		attrs = append(attrs, store.Attr{ID: a, Namespace: "todos", Label: "label" + strconv.Itoa(i), Type: store.TypeString, Indexed: i%2 == 0})
	}
	steps := []store.Step{
		{Op: store.OpAddTriple, E: e, A: a, V: store.String("x")},
		{Op: store.OpAddTriple, E: e, A: a, V: store.Number(2), Mode: store.ModeCreate},
		{Op: store.OpDeleteEntity, E: e, Namespace: "todos"},
	}
	return map[string]wire.Message{
		"Init":       &wire.Init{ClientEventID: "1", Token: "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1In0.sig"},
		"AddQuery":   &wire.AddQuery{ClientEventID: "2", QueryID: "q1", Q: []byte(`{"todos":{"$":{"where":{"done":false}}}}`)},
		"Transact":   &wire.Transact{ClientEventID: "4", MutationID: "m1", Steps: steps},
		"InitOK":     &wire.InitOK{ClientEventID: "1", SessionID: "s", Attrs: attrs},
		"AddQueryOK": &wire.AddQueryOK{ClientEventID: "2", QueryID: "q1", Q: []byte(`{"todos":{}}`), Result: ts, ProcessedTxID: 9},
		"RefreshOK": &wire.RefreshOK{ProcessedTxID: 10, Computations: []wire.Computation{
			{QueryID: "q1", Added: ts[:20], Removed: wire.Keys{{E: e, A: a, V: store.Bool(true)}}},
			{QueryID: "q2", Full: true, Added: ts},
		}},
		"TransactOK": &wire.TransactOK{ClientEventID: "4", MutationID: "m1", TxID: 10},
		"Error":      &wire.Error{ClientEventID: "5", Status: 400, Type: wire.CodeInvalid, Message: "bad <thing>", OriginalEvent: []byte(`{"op":"x"}`)},
	}
}

var benchNames = []string{"Init", "AddQuery", "Transact", "InitOK", "AddQueryOK", "RefreshOK", "TransactOK", "Error"}

func BenchmarkEncode(b *testing.B) {
	msgs := benchMessages()
	for _, name := range benchNames {
		m := msgs[name]
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			var buf []byte
			for b.Loop() {
				var err error
				if buf, err = wire.Encode(buf[:0], m); err != nil {
					b.Fatal(err)
				}
			}
			b.SetBytes(int64(len(buf)))
		})
	}
}

func BenchmarkParse(b *testing.B) {
	msgs := benchMessages()
	for _, name := range benchNames {
		frame, err := wire.Encode(nil, msgs[name])
		if err != nil {
			b.Fatal(err)
		}
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(frame)))
			for b.Loop() {
				if _, err := wire.Parse(frame); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
