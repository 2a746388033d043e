package wal

import (
	"fmt"
	"strconv"

	"github.com/jackc/pglogrepl"

	"github.com/triplesync/triplesync/store"
)

// Table names the decoder recognises, in any schema. Rows of every other
// relation the publication carries are skipped.
const (
	TableTriples      = "triples"
	TableAttrs        = "attrs"
	TableTransactions = "transactions"
)

// table is what a relation holds, as far as the decoder cares.
type table uint8

const (
	tableOther table = iota
	tableTriples
	tableAttrs
	tableTransactions
)

func tableOf(name string) table {
	switch name {
	case TableTriples:
		return tableTriples
	case TableAttrs:
		return tableAttrs
	case TableTransactions:
		return tableTransactions
	}
	return tableOther
}

// Column names, per table. Columns are found by name in each Relation
// message, never by position, so a migration that adds or reorders columns
// changes nothing here.
const (
	colTripleEntity    = "entity_id"
	colTripleAttr      = "attr_id"
	colTripleValue     = "value"
	colTripleCreatedAt = "created_at"
	colTripleEA        = "ea"
	colTripleEAV       = "eav"
	colTripleAV        = "av"
	colTripleAVE       = "ave"
	colTripleVAE       = "vae"

	colAttrID           = "id"
	colAttrNamespace    = "namespace"
	colAttrLabel        = "label"
	colAttrValueType    = "value_type"
	colAttrCardinality  = "cardinality"
	colAttrUnique       = "is_unique"
	colAttrIndexed      = "is_indexed"
	colAttrRefNamespace = "ref_namespace"
	colAttrReverseLabel = "reverse_label"
	colAttrOnDelete     = "on_delete_cascade"

	colTxID = "id"
)

// Field slots in relation.idx. Triples, attrs and transactions reuse the
// same slot numbers; only the table's own are looked up.
const (
	fTripleEntity = iota
	fTripleAttr
	fTripleValue
	fTripleCreatedAt
	fTripleEA
	fTripleEAV
	fTripleAV
	fTripleAVE
	fTripleVAE
)

const (
	fAttrID = iota
	fAttrNamespace
	fAttrLabel
	fAttrValueType
	fAttrCardinality
	fAttrUnique
	fAttrIndexed
	fAttrRefNamespace
	fAttrReverseLabel
	fAttrOnDelete
	nFields // the widest table's field count
)

const fTxID = 0

var tableColumns = [...][]string{
	tableTriples: {colTripleEntity, colTripleAttr, colTripleValue, colTripleCreatedAt,
		colTripleEA, colTripleEAV, colTripleAV, colTripleAVE, colTripleVAE},
	tableAttrs: {colAttrID, colAttrNamespace, colAttrLabel, colAttrValueType, colAttrCardinality,
		colAttrUnique, colAttrIndexed, colAttrRefNamespace, colAttrReverseLabel, colAttrOnDelete},
	tableTransactions: {colTxID},
}

// relation is a Relation message reduced to what decoding rows needs.
type relation struct {
	id          uint32
	namespace   string
	name        string
	table       table
	replicaFull bool // REPLICA IDENTITY FULL: updates and deletes carry the whole old row
	ncols       int
	idx         [nFields]int // column position of each field of the table, -1 when absent
}

func newRelation(m *pglogrepl.RelationMessage) *relation {
	r := &relation{
		id:          m.RelationID,
		namespace:   m.Namespace,
		name:        m.RelationName,
		table:       tableOf(m.RelationName),
		replicaFull: m.ReplicaIdentity == 'f',
		ncols:       len(m.Columns),
	}
	for i := range r.idx {
		r.idx[i] = -1
	}
	if r.table == tableOther {
		return r
	}
	for f, name := range tableColumns[r.table] {
		for pos, c := range m.Columns {
			if c.Name == name {
				r.idx[f] = pos
				break
			}
		}
	}
	return r
}

func (r *relation) qualified() string { return r.namespace + "." + r.name }

// row reads the columns of one tuple by field, taking columns the new
// tuple marks unchanged-TOAST from the old tuple.
type row struct {
	rel *relation
	tup *pglogrepl.TupleData
	old *pglogrepl.TupleData // for unchanged TOAST values in an update's new tuple; may be nil
}

// text returns field f's text, whether it is SQL NULL, or an error wrapping
// ErrRow when the column is absent, binary, or unchanged TOAST with no old
// row to take it from.
func (w row) text(f int, table string) (data []byte, null bool, err error) {
	pos := w.rel.idx[f]
	name := tableColumns[w.rel.table][f]
	if pos < 0 {
		return nil, false, fmt.Errorf("%w: %s has no column %q", ErrRow, table, name)
	}
	col := w.tup.Columns[pos]
	if col.DataType == pglogrepl.TupleDataTypeToast {
		if w.old == nil || w.old.Columns[pos].DataType == pglogrepl.TupleDataTypeToast {
			return nil, false, fmt.Errorf("%w: %s.%s is unchanged TOAST and the old row is missing", ErrRow, table, name)
		}
		col = w.old.Columns[pos]
	}
	switch col.DataType {
	case pglogrepl.TupleDataTypeNull:
		return nil, true, nil
	case pglogrepl.TupleDataTypeText:
		return col.Data, false, nil
	}
	return nil, false, fmt.Errorf("%w: %s.%s has data kind %q", ErrRow, table, name, col.DataType)
}

func (w row) str(f int, table string) (string, error) {
	b, _, err := w.text(f, table)
	return string(b), err
}

func (w row) id(f int, table string) (store.EntityID, error) {
	b, null, err := w.text(f, table)
	if err != nil {
		return store.EntityID{}, err
	}
	if null {
		return store.EntityID{}, fmt.Errorf("%w: %s.%s is null", ErrRow, table, tableColumns[w.rel.table][f])
	}
	id, err := store.ParseEntityID(string(b))
	if err != nil {
		return store.EntityID{}, fmt.Errorf("%w: %s.%s: %w", ErrRow, table, tableColumns[w.rel.table][f], err)
	}
	return id, nil
}

// flag reads a boolean column; an absent or null column reads false so a
// schema without, say, the vae column still decodes.
func (w row) flag(f int, table string) (bool, error) {
	if w.rel.idx[f] < 0 {
		return false, nil
	}
	b, null, err := w.text(f, table)
	switch {
	case err != nil:
		return false, err
	case null:
		return false, nil
	case len(b) == 1 && b[0] == 't':
		return true, nil
	case len(b) == 1 && b[0] == 'f':
		return false, nil
	}
	return false, fmt.Errorf("%w: %s.%s: bool %q", ErrRow, table, tableColumns[w.rel.table][f], b)
}

func (w row) int64(f int, table string) (int64, error) {
	b, null, err := w.text(f, table)
	if err != nil || null {
		return 0, err
	}
	n, err := strconv.ParseInt(string(b), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%w: %s.%s: %w", ErrRow, table, tableColumns[w.rel.table][f], err)
	}
	return n, nil
}

// triple decodes a row of triples and its index flags.
func (w row) triple() (store.Triple, store.IndexFlags, error) {
	const tbl = TableTriples
	var t store.Triple
	var err error
	if t.E, err = w.id(fTripleEntity, tbl); err != nil {
		return t, 0, err
	}
	if t.A, err = w.id(fTripleAttr, tbl); err != nil {
		return t, 0, err
	}
	v, null, err := w.text(fTripleValue, tbl)
	if err != nil {
		return t, 0, err
	}
	if !null { // SQL NULL reads as JSON null
		if t.V, err = store.ParseValue(v); err != nil {
			return t, 0, fmt.Errorf("%w: %s.%s: %w", ErrRow, tbl, colTripleValue, err)
		}
	}
	if w.rel.idx[fTripleCreatedAt] >= 0 {
		if t.CreatedAt, err = w.int64(fTripleCreatedAt, tbl); err != nil {
			return t, 0, err
		}
	}
	var flags store.IndexFlags
	for f, bit := range [...]store.IndexFlags{
		fTripleEA: store.FlagEA, fTripleEAV: store.FlagEAV, fTripleAV: store.FlagAV,
		fTripleAVE: store.FlagAVE, fTripleVAE: store.FlagVAE,
	} {
		if bit == 0 {
			continue
		}
		on, err := w.flag(f, tbl)
		if err != nil {
			return t, 0, err
		}
		if on {
			flags |= bit
		}
	}
	return t, flags, nil
}

// attr decodes a row of attrs.
func (w row) attr() (store.Attr, error) {
	const tbl = TableAttrs
	var a store.Attr
	var err error
	if a.ID, err = w.id(fAttrID, tbl); err != nil {
		return a, err
	}
	if a.Namespace, err = w.str(fAttrNamespace, tbl); err != nil {
		return a, err
	}
	if a.Label, err = w.str(fAttrLabel, tbl); err != nil {
		return a, err
	}
	s, err := w.str(fAttrValueType, tbl)
	if err != nil {
		return a, err
	}
	if a.Type, err = store.ParseValueType(s); err != nil {
		return a, fmt.Errorf("%w: %s.%s: %w", ErrRow, tbl, colAttrValueType, err)
	}
	if s, err = w.str(fAttrCardinality, tbl); err != nil {
		return a, err
	}
	if a.Cardinality, err = store.ParseCardinality(s); err != nil {
		return a, fmt.Errorf("%w: %s.%s: %w", ErrRow, tbl, colAttrCardinality, err)
	}
	if a.Unique, err = w.flag(fAttrUnique, tbl); err != nil {
		return a, err
	}
	if a.Indexed, err = w.flag(fAttrIndexed, tbl); err != nil {
		return a, err
	}
	if w.rel.idx[fAttrRefNamespace] >= 0 {
		if a.RefNamespace, err = w.str(fAttrRefNamespace, tbl); err != nil {
			return a, err
		}
	}
	if w.rel.idx[fAttrReverseLabel] >= 0 {
		if a.ReverseLabel, err = w.str(fAttrReverseLabel, tbl); err != nil {
			return a, err
		}
	}
	if a.OnDeleteCascade, err = w.flag(fAttrOnDelete, tbl); err != nil {
		return a, err
	}
	return a, nil
}

// txID decodes the id of a row of transactions.
func (w row) txID() (store.TxID, error) {
	n, err := w.int64(fTxID, TableTransactions)
	return store.TxID(n), err
}
