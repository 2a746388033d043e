package wal_test

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/triplesync/triplesync/store"
	"github.com/triplesync/triplesync/wal"
)

const (
	e1 = "6f1c1d2a-0000-4000-8000-000000000001"
	e2 = "6f1c1d2a-0000-4000-8000-000000000002"
	a1 = "a77e0000-0000-4000-8000-000000000001"
	a2 = "a77e0000-0000-4000-8000-000000000002"
)

// feed decodes msgs in order and returns the transactions they completed.
func feed(t *testing.T, d *wal.Decoder, msgs ...[]byte) []*wal.Transaction {
	t.Helper()
	var out []*wal.Transaction
	for i, m := range msgs {
		tx, err := d.Decode(store.LSN(1000+i), m)
		require.NoError(t, err, "message %d (%q)", i, m[0])
		if tx != nil {
			out = append(out, tx)
		}
	}
	return out
}

func withSchema(msgs ...[]byte) [][]byte { return append(schemaMsgs(), msgs...) }

func triple(e, a string, v store.Value, createdAt int64) store.Triple {
	return store.Triple{E: store.MustParseEntityID(e), A: store.MustParseEntityID(a), V: v, CreatedAt: createdAt}
}

func mustValue(t *testing.T, s string) store.Value {
	t.Helper()
	v, err := store.ParseValue([]byte(s))
	require.NoError(t, err)
	return v
}

func TestDecodeTriples(t *testing.T) {
	var d wal.Decoder
	txs := feed(t, &d, withSchema(
		beginMsg(0x500, 700),
		insertMsg(nil, relTx, txRow("42")...),
		insertMsg(nil, relTriples, tripleRow(e1, a1, `"hello"`, "tffff", "1700000000001")...),
		insertMsg(nil, relTriples, tripleRow(e1, a2, `{"b": [1, 2.50], "a": null}`, "ffftf", "1700000000002")...),
		updateMsg(nil, relTriples, 'O',
			tripleRow(e1, a1, `"hello"`, "tffff", "1700000000001"),
			tripleRow(e1, a1, `"bye"`, "tfftf", "1700000000003")),
		deleteMsg(nil, relTriples, 'O', tripleRow(e2, a2, `7`, "ftfff", "5")),
		insertMsg(nil, relOther, text("1"), text("ignored")),
		originMsg(), typeMsg(), logicalMsg(),
		commitMsg(0x500, 0x530),
	)...)
	require.Len(t, txs, 1)
	tx := txs[0]
	assert.Equal(t, store.TxID(42), tx.TxID)
	assert.Equal(t, store.LSN(0x500), tx.LSN)
	assert.Equal(t, store.LSN(0x530), tx.EndLSN)
	assert.Equal(t, uint32(700), tx.Xid)
	assert.True(t, tx.CommitTime.Equal(commitTime), "CommitTime=%v", tx.CommitTime)
	assert.False(t, tx.Reset, tx.ResetReason)
	assert.Empty(t, tx.Attrs)
	want := []store.TripleChange{
		{Op: store.OpInsert, New: triple(e1, a1, store.String("hello"), 1700000000001), NewFlags: store.FlagEA},
		{Op: store.OpInsert, New: triple(e1, a2, mustValue(t, `{"a":null,"b":[1,2.5]}`), 1700000000002), NewFlags: store.FlagAVE},
		{Op: store.OpUpdate,
			Old: triple(e1, a1, store.String("hello"), 1700000000001), OldFlags: store.FlagEA,
			New: triple(e1, a1, store.String("bye"), 1700000000003), NewFlags: store.FlagEA | store.FlagAVE},
		{Op: store.OpDelete, Old: triple(e2, a2, store.Number(7), 5), OldFlags: store.FlagEAV},
	}
	assert.Equal(t, want, tx.Triples)
}

func TestDecodeAttrs(t *testing.T) {
	var d wal.Decoder
	txs := feed(t, &d, withSchema(
		beginMsg(0x600, 1),
		insertMsg(nil, relAttrs, attrRow(a1, "todos", "owner", "ref", "one", false, true, "users", "todos")...),
		updateMsg(nil, relAttrs, 'O',
			attrRow(a2, "todos", "title", "string", "one", false, false, "", ""),
			attrRow(a2, "todos", "title", "string", "many", true, true, "", "")),
		deleteMsg(nil, relAttrs, 'O', attrRow(a2, "todos", "title", "string", "many", true, true, "", "")),
		commitMsg(0x600, 0x640),
	)...)
	require.Len(t, txs, 1)
	tx := txs[0]
	assert.Zero(t, tx.TxID, "a write made straight to the tables has no tx-id")
	assert.False(t, tx.Reset, tx.ResetReason)
	owner := store.Attr{ID: store.MustParseEntityID(a1), Namespace: "todos", Label: "owner", Type: store.TypeRef,
		Cardinality: store.CardinalityOne, Indexed: true, RefNamespace: "users", ReverseLabel: "todos"}
	title := store.Attr{ID: store.MustParseEntityID(a2), Namespace: "todos", Label: "title", Type: store.TypeString}
	title2 := title
	title2.Cardinality, title2.Unique, title2.Indexed = store.CardinalityMany, true, true
	assert.Equal(t, []store.AttrChange{
		{Op: store.OpInsert, New: owner},
		{Op: store.OpUpdate, Old: title, New: title2},
		{Op: store.OpDelete, Old: title2},
	}, tx.Attrs)
}

// Postgres sends an unchanged TOASTed column as 'u' with no data; under
// REPLICA IDENTITY FULL the old row has it.
func TestDecodeUnchangedToast(t *testing.T) {
	big := `"` + string(make([]byte, 0)) + "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx" + `"`
	oldRow := tripleRow(e1, a1, big, "tffff", "1")
	newRow := tripleRow(e1, a1, "", "tfftf", "1")
	newRow[2] = unchanged

	var d wal.Decoder
	txs := feed(t, &d, withSchema(
		beginMsg(0x700, 1),
		updateMsg(nil, relTriples, 'O', oldRow, newRow),
		commitMsg(0x700, 0x740),
	)...)
	require.Len(t, txs, 1)
	require.False(t, txs[0].Reset, txs[0].ResetReason)
	require.Len(t, txs[0].Triples, 1)
	c := txs[0].Triples[0]
	assert.Equal(t, mustValue(t, big), c.New.V)
	assert.Equal(t, c.Old.V, c.New.V)
	assert.Equal(t, store.FlagEA|store.FlagAVE, c.NewFlags)
}

// Columns are found by name: a schema that orders them differently, adds
// some and leaves optional ones out decodes the same.
func TestDecodeColumnsByName(t *testing.T) {
	var d wal.Decoder
	txs := feed(t, &d,
		relationMsg(nil, 1, "triples", 'f', "app_id", "created_at", "value", "ave", "attr_id", "entity_id", "ea"),
		relationMsg(nil, 2, "transactions", 'd', "created_at", "mutation_id", "id"),
		beginMsg(0x10, 1),
		insertMsg(nil, 2, text("5"), text("m"), text("77")),
		insertMsg(nil, 1, text("app"), text("9"), text("true"), text("t"), text(a1), text(e1), null),
		commitMsg(0x10, 0x20),
	)
	require.Len(t, txs, 1)
	assert.Equal(t, store.TxID(77), txs[0].TxID)
	require.False(t, txs[0].Reset, txs[0].ResetReason)
	assert.Equal(t, []store.TripleChange{{Op: store.OpInsert, New: triple(e1, a1, store.Bool(true), 9), NewFlags: store.FlagAVE}}, txs[0].Triples)
}

// Whatever cannot be listed row by row marks the transaction Reset; the
// stream goes on.
func TestDecodeReset(t *testing.T) {
	tests := []struct {
		name   string
		msgs   [][]byte
		reason string
	}{
		{"truncate triples", [][]byte{truncateMsg(nil, relOther, relTriples)}, "truncate public.triples"},
		{"truncate attrs", [][]byte{truncateMsg(nil, relAttrs)}, "truncate public.attrs"},
		{"bad jsonb", [][]byte{insertMsg(nil, relTriples, tripleRow(e1, a1, `{"x":`, "fffff", "1")...)}, "triples.value"},
		{"bad uuid", [][]byte{insertMsg(nil, relTriples, tripleRow("nope", a1, `1`, "fffff", "1")...)}, "triples.entity_id"},
		{"bad bool", [][]byte{insertMsg(nil, relTriples, tripleRow(e1, a1, `1`, "fxfff", "1")...)}, "triples.eav"},
		{"bad value type", [][]byte{insertMsg(nil, relAttrs, attrRow(a1, "t", "x", "blob", "one", false, false, "", "")...)}, "attrs.value_type"},
		{"bad cardinality", [][]byte{insertMsg(nil, relAttrs, attrRow(a1, "t", "x", "string", "two", false, false, "", "")...)}, "attrs.cardinality"},
		{"update without old row", [][]byte{updateMsg(nil, relTriples, 0, nil, tripleRow(e1, a1, `1`, "fffff", "1"))}, "REPLICA IDENTITY"},
		{"delete with key only", [][]byte{deleteMsg(nil, relTriples, 'K', tripleRow(e1, a1, `1`, "fffff", "1"))}, "REPLICA IDENTITY"},
		{"toast without old row", [][]byte{updateMsg(nil, relTriples, 'K', tripleRow(e1, a1, `1`, "fffff", "1"),
			append(tripleRow(e1, a1, `1`, "fffff", "1")[:2], append([]col{unchanged}, tripleRow(e1, a1, `1`, "fffff", "1")[3:]...)...))}, "REPLICA IDENTITY"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var d wal.Decoder
			msgs := withSchema(beginMsg(0x10, 1), insertMsg(nil, relTx, txRow("9")...))
			msgs = append(msgs, tt.msgs...)
			msgs = append(msgs, insertMsg(nil, relTriples, tripleRow(e2, a2, `2`, "fffff", "1")...), commitMsg(0x10, 0x20))
			txs := feed(t, &d, msgs...)
			require.Len(t, txs, 1)
			assert.True(t, txs[0].Reset)
			assert.Contains(t, txs[0].ResetReason, tt.reason)
			assert.Equal(t, store.TxID(9), txs[0].TxID)
			assert.NotEmpty(t, txs[0].Triples, "rows that decoded are kept")

			// The next transaction is unaffected.
			txs = feed(t, &d, beginMsg(0x30, 2), insertMsg(nil, relTriples, tripleRow(e2, a2, `3`, "fffff", "1")...), commitMsg(0x30, 0x40))
			require.Len(t, txs, 1)
			assert.False(t, txs[0].Reset)
		})
	}
}

func TestDecodeStreaming(t *testing.T) {
	const top, sub, sub2 = 900, 901, 902
	x := func(v uint32) *uint32 { return &v }
	var d wal.Decoder
	txs := feed(t, &d, withSchema(
		streamStartMsg(top, true),
		// Inside a stream the relation is described for this transaction.
		relationMsg(x(top), relTriples, "triples", 'f', tripleCols...),
		insertMsg(x(top), relTriples, tripleRow(e1, a1, `1`, "fffff", "1")...),
		insertMsg(x(top), relTx, txRow("5")...),
		insertMsg(x(sub), relTriples, tripleRow(e1, a1, `2`, "fffff", "1")...),
		streamStopMsg(),
		// An ordinary transaction between two segments.
		beginMsg(0x50, 10),
		insertMsg(nil, relTriples, tripleRow(e2, a2, `"between"`, "fffff", "1")...),
		commitMsg(0x50, 0x60),
		streamStartMsg(top, false),
		insertMsg(x(sub2), relTriples, tripleRow(e1, a1, `3`, "fffff", "1")...),
		truncateMsg(x(sub2), relTriples),
		insertMsg(x(top), relTriples, tripleRow(e1, a1, `4`, "fffff", "1")...),
		streamStopMsg(),
		// A second streamed transaction that aborts whole.
		streamStartMsg(950, true),
		insertMsg(x(950), relTriples, tripleRow(e1, a1, `"aborted"`, "fffff", "1")...),
		streamStopMsg(),
		streamAbortMsg(950, 950),
		streamAbortMsg(top, sub2),
		streamCommitMsg(top, 0x90, 0xa0),
	)...)
	require.Len(t, txs, 2)
	assert.Equal(t, "between", func() string { s, _ := txs[0].Triples[0].New.V.AsString(); return s }())
	tx := txs[1]
	assert.Equal(t, store.LSN(0x90), tx.LSN)
	assert.Equal(t, store.LSN(0xa0), tx.EndLSN)
	assert.Equal(t, uint32(top), tx.Xid)
	assert.Equal(t, store.TxID(5), tx.TxID)
	assert.False(t, tx.Reset, "the truncate was in the aborted subtransaction: %s", tx.ResetReason)
	var got []store.Value
	for _, c := range tx.Triples {
		got = append(got, c.New.V)
	}
	assert.Equal(t, []store.Value{store.Number(1), store.Number(2), store.Number(4)}, got)

	// A stream commit for a transaction never seen cannot be trusted.
	txs = feed(t, &d, streamCommitMsg(999, 0xb0, 0xc0))
	require.Len(t, txs, 1)
	assert.True(t, txs[0].Reset)
}

func TestDecodeErrors(t *testing.T) {
	tests := []struct {
		name string
		msgs [][]byte
		want error
	}{
		{"empty", [][]byte{{}}, wal.ErrMalformed},
		{"unknown type", [][]byte{{'Z', 1, 2}}, wal.ErrMalformed},
		{"truncated begin", [][]byte{beginMsg(1, 1)[:10]}, wal.ErrMalformed},
		{"truncated tuple", [][]byte{beginMsg(1, 1), insertMsg(nil, relTriples, text("abc"))[:12]}, wal.ErrMalformed},
		{"huge truncate", [][]byte{msg{'T'}.u32(0xffffffff).u8(0).u32(1)}, wal.ErrMalformed},
		{"commit without begin", [][]byte{commitMsg(1, 2)}, wal.ErrProtocol},
		{"begin twice", [][]byte{beginMsg(1, 1), beginMsg(2, 2)}, wal.ErrProtocol},
		{"row outside transaction", [][]byte{insertMsg(nil, relTriples, tripleRow(e1, a1, `1`, "fffff", "1")...)}, wal.ErrProtocol},
		{"unknown relation", [][]byte{beginMsg(1, 1), insertMsg(nil, 77, text("1"))}, wal.ErrProtocol},
		{"wrong column count", [][]byte{beginMsg(1, 1), insertMsg(nil, relTriples, text("1"))}, wal.ErrProtocol},
		{"stream stop outside stream", [][]byte{streamStopMsg()}, wal.ErrProtocol},
		{"begin inside stream", [][]byte{streamStartMsg(1, true), beginMsg(1, 1)}, wal.ErrProtocol},
		{"stream commit inside stream", [][]byte{streamStartMsg(1, true), streamCommitMsg(1, 1, 2)}, wal.ErrProtocol},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var d wal.Decoder
			msgs := withSchema(tt.msgs...)
			var err error
			for i, m := range msgs {
				if _, err = d.Decode(store.LSN(0x100+i), m); err != nil {
					break
				}
			}
			require.Error(t, err)
			assert.ErrorIs(t, err, tt.want)
			var de *wal.DecodeError
			require.True(t, errors.As(err, &de), "%T", err)
			assert.Equal(t, store.LSN(0x100+len(msgs)-1), de.LSN)
			assert.NotEmpty(t, de.Op)
			assert.False(t, wal.Retryable(err))
		})
	}
}

func TestDecoderReset(t *testing.T) {
	var d wal.Decoder
	feed(t, &d, withSchema(beginMsg(1, 1))...)
	d.Reset()
	_, err := d.Decode(5, insertMsg(nil, relTriples, tripleRow(e1, a1, `1`, "fffff", "1")...))
	assert.ErrorIs(t, err, wal.ErrProtocol, "Reset forgets the open transaction")
	feed(t, &d, streamStartMsg(3, true))
	assert.True(t, d.InStream())
	d.Reset()
	assert.False(t, d.InStream())
}
