package pg

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/triplesync/triplesync/store"
)

// attrColumns are the columns of attrs that make a [store.Attr], in the
// order scanAttr reads them.
const attrColumns = `id, namespace, label, value_type, cardinality, is_unique, is_indexed,
	coalesce(ref_namespace, ''), coalesce(reverse_label, ''), on_delete_cascade`

// selectAttrs reads the whole registry.
const selectAttrs = `select ` + attrColumns + ` from attrs`

// LoadAttrs reads the attrs table into a registry: the one clients receive
// in init-ok and queries are parsed against. A table the registry refuses
// (rows written around triplesync that break [store.NewAttrs]'s rules)
// is an error wrapping [store.ErrInvalidAttr].
func (db *DB) LoadAttrs(ctx context.Context) (*store.Attrs, error) {
	rows, err := db.pool.Query(ctx, selectAttrs)
	if err != nil {
		return nil, fmt.Errorf("load attrs: %w", err)
	}
	return collectAttrs(rows)
}

// collectAttrs builds a registry from the rows of selectAttrs.
func collectAttrs(rows pgx.Rows) (*store.Attrs, error) {
	list, err := pgx.CollectRows(rows, scanAttr)
	if err != nil {
		return nil, fmt.Errorf("load attrs: %w", err)
	}
	attrs, err := store.NewAttrs(list...)
	if err != nil {
		return nil, fmt.Errorf("load attrs: %w", err)
	}
	return attrs, nil
}

func scanAttr(row pgx.CollectableRow) (store.Attr, error) {
	var a store.Attr
	var typ, card string
	if err := row.Scan((*[16]byte)(&a.ID), &a.Namespace, &a.Label, &typ, &card, &a.Unique, &a.Indexed,
		&a.RefNamespace, &a.ReverseLabel, &a.OnDeleteCascade); err != nil {
		return a, err
	}
	var err error
	if a.Type, err = store.ParseValueType(typ); err != nil {
		return a, err
	}
	a.Cardinality, err = store.ParseCardinality(card)
	return a, err
}

// attrArgs are a's values for the columns of insertAttr and updateAttr.
func attrArgs(a *store.Attr) []any {
	null := func(s string) any {
		if s == "" {
			return nil
		}
		return s
	}
	return []any{[16]byte(a.ID), a.Namespace, a.Label, a.Type.String(), a.Cardinality.String(), a.Unique, a.Indexed,
		null(a.RefNamespace), null(a.ReverseLabel), a.OnDeleteCascade}
}

const insertAttr = `insert into attrs (id, namespace, label, value_type, cardinality, is_unique, is_indexed,
	ref_namespace, reverse_label, on_delete_cascade) values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`

const updateAttr = `update attrs set namespace = $2, label = $3, value_type = $4, cardinality = $5, is_unique = $6,
	is_indexed = $7, ref_namespace = $8, reverse_label = $9, on_delete_cascade = $10 where id = $1`

// deleteAttr removes an attribute; its triples go with it (on delete
// cascade), including those of entities a transact did not load.
const deleteAttr = `delete from attrs where id = $1`
