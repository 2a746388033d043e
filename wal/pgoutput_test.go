package wal_test

import (
	"encoding/binary"
	"time"
)

// This file builds pgoutput protocol 2 messages byte by byte, following
// the layouts in the Postgres documentation ("Logical Replication Message
// Formats"), so the decoder is tested without a server. The Postgres tests
// check the same decoder against real messages.

// col is one column of a TupleData: kind 'n' (null), 'u' (unchanged TOAST)
// or 't' (text).
type col struct {
	kind byte
	data string
}

func text(s string) col { return col{kind: 't', data: s} }

var (
	null      = col{kind: 'n'}
	unchanged = col{kind: 'u'}
)

type msg []byte

func (m msg) u8(v byte) msg     { return append(m, v) }
func (m msg) u16(v uint16) msg  { return binary.BigEndian.AppendUint16(m, v) }
func (m msg) u32(v uint32) msg  { return binary.BigEndian.AppendUint32(m, v) }
func (m msg) u64(v uint64) msg  { return binary.BigEndian.AppendUint64(m, v) }
func (m msg) str(s string) msg  { return append(append(m, s...), 0) }
func (m msg) xid(x *uint32) msg { return m.when(x != nil, func(m msg) msg { return m.u32(*x) }) }
func (m msg) pgTime(t time.Time) msg {
	return m.u64(uint64(t.Sub(time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)).Microseconds()))
}

func (m msg) when(ok bool, f func(msg) msg) msg {
	if ok {
		return f(m)
	}
	return m
}

func (m msg) tuple(cols []col) msg {
	m = m.u16(uint16(len(cols)))
	for _, c := range cols {
		m = m.u8(c.kind)
		if c.kind == 't' || c.kind == 'b' {
			m = m.u32(uint32(len(c.data)))
			m = append(m, c.data...)
		}
	}
	return m
}

var commitTime = time.Date(2025, 5, 1, 12, 0, 0, 0, time.UTC)

func beginMsg(final uint64, xid uint32) []byte {
	return msg{'B'}.u64(final).pgTime(commitTime).u32(xid)
}

func commitMsg(commit, end uint64) []byte {
	return msg{'C'}.u8(0).u64(commit).u64(end).pgTime(commitTime)
}

// relationMsg describes relation id; stream is the subtransaction xid when
// sent inside a stream, else nil.
func relationMsg(stream *uint32, id uint32, name string, replident byte, cols ...string) []byte {
	m := msg{'R'}.xid(stream).u32(id).str("public").str(name).u8(replident).u16(uint16(len(cols)))
	for _, c := range cols {
		m = m.u8(0).str(c).u32(25).u32(0xffffffff)
	}
	return m
}

func insertMsg(stream *uint32, rel uint32, cols ...col) []byte {
	return msg{'I'}.xid(stream).u32(rel).u8('N').tuple(cols)
}

// updateMsg sends an old tuple of kind oldKind ('O', 'K') when old is not
// nil.
func updateMsg(stream *uint32, rel uint32, oldKind byte, old, new []col) []byte {
	m := msg{'U'}.xid(stream).u32(rel)
	if old != nil {
		m = m.u8(oldKind).tuple(old)
	}
	return m.u8('N').tuple(new)
}

func deleteMsg(stream *uint32, rel uint32, oldKind byte, old []col) []byte {
	return msg{'D'}.xid(stream).u32(rel).u8(oldKind).tuple(old)
}

func truncateMsg(stream *uint32, rels ...uint32) []byte {
	m := msg{'T'}.xid(stream).u32(uint32(len(rels))).u8(0)
	for _, r := range rels {
		m = m.u32(r)
	}
	return m
}

func streamStartMsg(xid uint32, first bool) []byte {
	f := byte(0)
	if first {
		f = 1
	}
	return msg{'S'}.u32(xid).u8(f)
}

func streamStopMsg() []byte { return msg{'E'} }

func streamCommitMsg(xid uint32, commit, end uint64) []byte {
	return msg{'c'}.u32(xid).u8(0).u64(commit).u64(end).pgTime(commitTime)
}

func streamAbortMsg(xid, sub uint32) []byte { return msg{'A'}.u32(xid).u32(sub) }

func originMsg() []byte { return msg{'O'}.u64(1).str("node") }

func typeMsg() []byte { return msg{'Y'}.u32(1234).str("public").str("mood") }

func logicalMsg() []byte { return append(msg{'M'}.u8(1).u64(99).str("triplesync").u32(2), "hi"...) }

// Relation ids and column layouts of the fixture schema.
const (
	relTriples = 16390
	relAttrs   = 16400
	relTx      = 16410
	relOther   = 16420
)

var (
	tripleCols = []string{"entity_id", "attr_id", "value", "value_md5", "ea", "eav", "av", "ave", "vae", "created_at"}
	attrCols   = []string{"id", "namespace", "label", "value_type", "cardinality", "is_unique", "is_indexed",
		"ref_namespace", "reverse_label", "on_delete_cascade", "created_at"}
	txCols = []string{"id", "mutation_id", "created_at"}
)

// tripleRow returns the columns of a triples row in tripleCols order;
// flags is five letters t/f for ea, eav, av, ave, vae.
func tripleRow(e, a, v, flags string, createdAt string) []col {
	c := []col{text(e), text(a), text(v), text("md5")}
	for _, f := range flags {
		c = append(c, text(string(f)))
	}
	return append(c, text(createdAt))
}

func attrRow(id, ns, label, typ, card string, unique, indexed bool, refNS, rev string) []col {
	b := func(x bool) col {
		if x {
			return text("t")
		}
		return text("f")
	}
	s := func(x string) col {
		if x == "" {
			return null
		}
		return text(x)
	}
	return []col{text(id), text(ns), text(label), text(typ), text(card), b(unique), b(indexed), s(refNS), s(rev), b(false), text("1700000000000")}
}

func txRow(id string) []col { return []col{text(id), text("m-" + id), text("1700000000000")} }

// schemaMsgs describes the fixture tables, as Postgres does before the
// first row of each.
func schemaMsgs() [][]byte {
	return [][]byte{
		relationMsg(nil, relTriples, "triples", 'f', tripleCols...),
		relationMsg(nil, relAttrs, "attrs", 'f', attrCols...),
		relationMsg(nil, relTx, "transactions", 'd', txCols...),
		relationMsg(nil, relOther, "audit", 'd', "id", "what"),
	}
}
