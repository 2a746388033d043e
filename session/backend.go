package session

import (
	"context"

	"github.com/triplesync/triplesync/query"
	"github.com/triplesync/triplesync/store"
)

// Backend is what a Server needs from Postgres. Package pg's DB provides it
// through a small adapter in internal/server (edges do not import each
// other, STYLE.md L1); tests use a fake over a store.Snapshot.
type Backend interface {
	// Read runs fn with a query.Source over one consistent snapshot of the
	// data; src is valid only inside fn. It returns fn's error, or the
	// error of opening or closing the snapshot.
	Read(ctx context.Context, fn func(src query.Source) error) error

	// LoadAttrs returns the attribute registry as committed now.
	LoadAttrs(ctx context.Context) (*store.Attrs, error)

	// Transact applies req.Steps in one transaction and returns its tx-id.
	// A step that cannot apply is a *store.StepError wrapping a store
	// sentinel; an error of req.Check is returned wrapped (errors.Is works);
	// nothing is written on any error.
	Transact(ctx context.Context, req TransactRequest) (TransactResult, error)
}

// TransactRequest is one write. It mirrors pg.TransactRequest.
type TransactRequest struct {
	// MutationID is the client's id for the mutation, unique per mutation:
	// a retried request with a known id applies nothing and returns the
	// original tx-id. Empty for admin writes, which are not deduplicated.
	MutationID string
	// Steps are the tx-steps to apply, in order.
	Steps []store.Step
	// Now is the created-at of new triples, in ms since the Unix epoch.
	Now int64
	// Check, when not nil, is called inside the database transaction once
	// per entity written, before commit; an error rolls everything back and
	// is returned wrapped.
	Check func(c WriteCheck) error
}

// WriteCheck describes one entity a transaction writes, for a permission
// check. It mirrors pg.WriteCheck.
type WriteCheck struct {
	// Namespace and Entity name the entity written.
	Namespace string
	Entity    store.EntityID
	// Action is "create", "update", "delete", "link" or "unlink".
	Action string
	// Before and After are the entity's attributes as {label: value} with
	// "id", before and after the write; Before is nil on create, After nil
	// on delete.
	Before, After map[string]any
	// Label and Target name the link for link and unlink: its forward label
	// and the entity it points to.
	Label  string
	Target store.EntityID
}

// TransactResult is the outcome of a successful Transact.
type TransactResult struct {
	// TxID is the transaction's id (the original one for a duplicate).
	TxID store.TxID
	// Duplicate reports that the mutation id was seen before and nothing
	// was applied.
	Duplicate bool
}
