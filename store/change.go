package store

// Op says what happened to a row.
type Op uint8

const (
	OpInsert Op = iota + 1
	OpUpdate
	OpDelete
)

// String returns "insert", "update" or "delete".
func (o Op) String() string {
	switch o {
	case OpInsert:
		return "insert"
	case OpUpdate:
		return "update"
	case OpDelete:
		return "delete"
	}
	return "Op(?)"
}

// TripleChange is one committed change to a row of the triples table. Old is
// set for updates and deletes, New for inserts and updates. OldFlags and
// NewFlags are the row's true index flags before and after.
type TripleChange struct {
	Op       Op
	Old, New Triple
	OldFlags IndexFlags
	NewFlags IndexFlags
}

// AttrChange is one committed change to a row of the attrs table.
type AttrChange struct {
	Op       Op
	Old, New Attr
}

// Change is one committed Postgres transaction as the WAL reader decodes it:
// the transactions row's id when the writer inserted one (zero otherwise),
// the commit LSN, and every triple and attr change in commit order.
type Change struct {
	TxID    TxID
	LSN     LSN
	Triples []TripleChange
	Attrs   []AttrChange
}
