package store

// Triple is one fact: entity E has value V for attribute A. CreatedAt is in
// milliseconds since the Unix epoch and is carried, never compared, by the
// indexes.
type Triple struct {
	E         EntityID `json:"e"`
	A         AttrID   `json:"a"`
	V         Value    `json:"v"`
	CreatedAt int64    `json:"t"`
}

// Key returns the triple's identity: (entity, attribute, value).
func (t Triple) Key() TripleKey { return TripleKey{E: t.E, A: t.A, V: t.V} }

// String shows the triple as [e a v] in errors and test output.
func (t Triple) String() string {
	return "[" + t.E.String() + " " + t.A.String() + " " + t.V.String() + "]"
}

// TripleKey identifies a triple, like the triples table's primary key
// (entity_id, attr_id, value_md5). It is comparable.
type TripleKey struct {
	E EntityID
	A AttrID
	V Value
}

// LSN is a Postgres log sequence number.
type LSN uint64

// TxID is the id of a row of the transactions table: the tx-id clients see.
// Zero means none (a write made straight to the tables).
type TxID int64
