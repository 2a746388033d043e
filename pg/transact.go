package pg

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/triplesync/triplesync/store"
)

// TransactRequest is one mutation for [DB.Transact].
type TransactRequest struct {
	// MutationID is the client's id of the mutation, unique per mutation:
	// a request whose id was seen before applies nothing and returns the
	// original tx-id. "" means no idempotency (admin writes).
	MutationID string
	// Steps are applied in order, atomically, with the semantics of
	// [store.Snapshot.Apply].
	Steps []store.Step
	// Now is the CreatedAt (ms since the epoch) of the triples the steps
	// add; zero means the clock's.
	Now int64
	// Check, when set, is called inside the Postgres transaction once per
	// entity and namespace the steps change (and once per link added or
	// removed), in a fixed order, before anything is written; an error
	// rolls everything back and is returned wrapped in a [CheckError].
	Check func(c WriteCheck) error
}

// Actions of a [WriteCheck], named like the permission rules' actions.
const (
	ActionCreate = "create" // the entity had no triples in the namespace
	ActionUpdate = "update" // it had and keeps some, and a value changed
	ActionDelete = "delete" // it had triples in the namespace and has none left
	ActionLink   = "link"   // a link from an entity that exists before and after was added
	ActionUnlink = "unlink" // ...or removed (also when its target is deleted)
)

// WriteCheck describes one entity's change for a permission check.
//
// Per (entity, namespace) the steps change, there is one create, update or
// delete, judged by the entity's triples of that namespace before and
// after the steps. A link attribute's triple belongs to its source entity's
// namespace; links added or removed on an entity that exists before and
// after are reported one by one as link and unlink (Label the link's
// forward label, Target the entity it points at), besides an update if
// other values changed too; links written as part of a create or removed
// by a delete are covered by that check and its After or Before.
//
// Before and After are the entity's attributes in the namespace as
// {label: value}, with "id" (the entity's id as a string): a value for
// cardinality one, a list in value order for cardinality many; link
// values are target ids. Before is nil on create, After nil on delete.
//
// Changes made by attribute steps (update-attr re-checking values,
// delete-attr removing an attribute's triples) to entities the triple
// steps do not touch are not checked: they are schema changes, for the
// admin API.
type WriteCheck struct {
	Namespace     string
	Entity        store.EntityID
	Action        string
	Before, After map[string]any
	Label         string
	Target        store.EntityID
}

// TransactResult is what [DB.Transact] did.
type TransactResult struct {
	// TxID is the id of the transactions row: of this transact, or of the
	// original one when Duplicate.
	TxID store.TxID
	// Duplicate reports that the mutation id was seen before: nothing was
	// applied.
	Duplicate bool
}

// maxAttempts bounds the attempts of one transact; every retry is caused
// by a concurrent transact (a deadlock, a lock another transact holds, a
// unique value committed under it).
const maxAttempts = 10

// Transact applies req.Steps in one Postgres transaction and records it in
// the transactions table, returning the tx-id.
//
// The steps mean exactly what [store.Snapshot.Apply] makes of them, because
// Apply computes the change: Transact loads into a store.Snapshot every
// row the steps can read (the entities they name, resolve by lookup or
// cascade to, the holders of the unique values they write, the links into
// the entities they delete), applies the steps to that partial snapshot,
// and writes the difference (deletes, inserts, and updates of created_at
// or index flags), with each triple's flags from its attribute. Which rows
// are needed is settled by rounds: a round locks and loads what the steps
// name, Apply runs, and whatever it touched that was not loaded (a
// cascade's next entity, a merged unique value's holder) is loaded in the
// next round, until Apply touches nothing new. Usually one round does.
//
// Concurrency: each entity whose triples are read or written, and each
// entity a written or removed link points at, is locked with a
// transaction-scoped advisory lock before its rows are read, in READ
// COMMITTED, so the read sees everything committed by the transact that
// held the lock before. That serialises transacts exactly where they
// conflict (one entity) and nowhere else, where SERIALIZABLE would abort
// and retry on predicate-lock false positives across the shared indexes.
// The first round takes its locks in one global order; later rounds only
// try theirs, and if one is taken the transaction restarts with all the
// locks it has learnt it needs in the first round, so transacts never wait
// in a cycle. A unique value nobody held when read may be taken by a
// concurrent transact before commit: Postgres's unique indexes (av, ea)
// refuse the second insert and the transact is retried, and then Apply
// reports the violation itself. Attribute steps take a schema lock
// exclusively (every other transact takes it shared): they reach triples
// of entities nobody locked.
//
// Round trips: usually two. The first carries BEGIN, the mutation id's
// lock and lookup, the schema lock, the attrs table, the entities' locks
// and rows; the second the writes, the transactions row and COMMIT.
//
// A mutation id seen before returns the original tx-id with Duplicate set
// and writes nothing; the id is locked before it is looked up, so a
// concurrent resend waits for the first and then finds it. A transact
// that fails records nothing, so its id stays free for a retry. If the
// connection fails during COMMIT the outcome is unknown to the caller: the
// client resends with the same mutation id and learns it.
//
// Values holding U+0000, which jsonb cannot store, are refused as
// store.ErrInvalidValue.
//
// Errors: a step that cannot apply is a *[store.StepError] wrapping the
// store's sentinel (store.ErrUnknownAttr, ErrWrongType,
// ErrUniqueViolation, ErrNotFound, ErrExists, ErrMalformedStep, ...); a
// Check error is a *[CheckError]; nothing is written on any error.
func (db *DB) Transact(ctx context.Context, req TransactRequest) (TransactResult, error) {
	if req.Now == 0 {
		req.Now = time.Now().UnixMilli()
	}
	if err := storable(req.Steps); err != nil {
		return TransactResult{}, err
	}
	var hint []store.EntityID
	for attempt := 1; ; attempt++ {
		res, err := db.attempt(ctx, &req, hint)
		if err == nil {
			return res, nil
		}
		var restart *restartError
		if errors.As(err, &restart) {
			hint = restart.lock
		}
		if attempt >= maxAttempts || !retryable(err) {
			return TransactResult{}, db.finalError(err, &req)
		}
		db.logger.DebugContext(ctx, "pg: transact retried", logAttempt, attempt, logMutationID, req.MutationID, logError, err)
	}
}

// storable refuses values Postgres cannot hold: jsonb has no U+0000 in
// strings, which the store allows. Without this check the steps would fail
// somewhere inside the transaction with Postgres's error instead of a
// *store.StepError naming them.
func storable(steps []store.Step) error {
	for i, st := range steps {
		vals := []store.Value{st.V}
		for _, l := range []*store.LookupRef{st.Lookup, st.ValueLookup} {
			if l != nil {
				vals = append(vals, l.V)
			}
		}
		for _, v := range vals {
			if hasNUL(v.Any()) {
				return &store.StepError{Index: i, Op: st.Op,
					Err: fmt.Errorf("%w: Postgres cannot store the character U+0000", store.ErrInvalidValue)}
			}
		}
	}
	return nil
}

// hasNUL reports whether a decoded JSON value holds U+0000 in a string or
// an object key.
func hasNUL(x any) bool {
	switch t := x.(type) {
	case string:
		return strings.IndexByte(t, 0) >= 0
	case []any:
		for _, e := range t {
			if hasNUL(e) {
				return true
			}
		}
	case map[string]any:
		for k, e := range t {
			if strings.IndexByte(k, 0) >= 0 || hasNUL(e) {
				return true
			}
		}
	}
	return false
}

// restartError asks for a fresh attempt that locks lock in its first
// round: a later round found one of its locks taken.
type restartError struct{ lock []store.EntityID }

// Error implements error.
func (e *restartError) Error() string { return "pg: restart transact: a lock is taken" }

// retryable reports whether another attempt may succeed: the failure came
// from a concurrent transact.
func retryable(err error) bool {
	var restart *restartError
	if errors.As(err, &restart) {
		return true
	}
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) {
		return false
	}
	switch pgErr.Code {
	case "40P01", "40001": // deadlock_detected, serialization_failure
		return true
	case "23505": // unique_violation
		return strings.HasPrefix(pgErr.ConstraintName, "triples_")
	}
	return false
}

// finalError maps a Postgres unique violation that survived the retries
// to the store's error, naming the first step writing that attribute.
func (db *DB) finalError(err error, req *TransactRequest) error {
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) || pgErr.Code != "23505" || !strings.HasPrefix(pgErr.ConstraintName, "triples_") {
		return err
	}
	index, op := 0, store.StepOp("")
	for i, st := range req.Steps {
		if st.Op == store.OpAddTriple || st.Op == store.OpDeepMergeTriple {
			if strings.Contains(pgErr.Detail, st.A.String()) {
				index, op = i, st.Op
				break
			}
		}
	}
	return &store.StepError{Index: index, Op: op, Err: fmt.Errorf("%w: %s", store.ErrUniqueViolation, pgErr.Detail)}
}

// CheckError is a [TransactRequest.Check] refusal: the check it refused and
// the error Check returned.
type CheckError struct {
	Check WriteCheck
	Err   error
}

// Error names the refused check.
func (e *CheckError) Error() string {
	return fmt.Sprintf("pg: check %s %s %s: %v", e.Check.Action, e.Check.Namespace, e.Check.Entity, e.Err)
}

// Unwrap returns Check's error.
func (e *CheckError) Unwrap() error { return e.Err }

// attempt is one try of Transact in one Postgres transaction.
func (db *DB) attempt(ctx context.Context, req *TransactRequest, hint []store.EntityID) (TransactResult, error) {
	conn, err := db.pool.Acquire(ctx)
	if err != nil {
		return TransactResult{}, fmt.Errorf("transact: %w", err)
	}
	defer conn.Release() // pgxpool closes a connection left inside a transaction
	committed := false
	defer func() {
		if !committed {
			conn.Exec(context.WithoutCancel(ctx), "rollback") // a warning only, if nothing began
		}
	}()

	w := newWork(conn, req)
	dup, err := w.load(ctx, hint) // begins the transaction
	if err != nil || dup != 0 {
		return TransactResult{TxID: dup, Duplicate: dup != 0}, err
	}
	if req.Check != nil {
		for _, c := range w.checks() {
			if err := req.Check(c); err != nil {
				return TransactResult{}, &CheckError{Check: c, Err: err}
			}
		}
	}
	b := w.writes()
	// Tx-ids must increase in commit order: a client told "processed
	// tx-id N" drops every pending mutation with a tx-id up to N, so no
	// transaction may commit with a smaller id after N is seen. bigserial
	// alone gives ids in insert order, not commit order. Taking one global
	// lock just before the insert, and holding it through COMMIT, makes
	// "got an id" and "committed" one critical section, so ids are
	// assigned in commit order. The lock is held only for the insert and
	// the commit, which travel with the writes in one batch: one round trip.
	b.Queue("select pg_advisory_xact_lock($1)", txIDLock)
	var mid any
	if req.MutationID != "" {
		mid = req.MutationID
	}
	var id int64
	b.Queue("insert into transactions (mutation_id) values ($1) returning id", mid).QueryRow(func(row pgx.Row) error {
		return row.Scan(&id)
	})
	// A failing statement makes Postgres skip the rest of the batch, COMMIT
	// included; the deferred ROLLBACK then ends the aborted transaction.
	b.Queue("commit")
	if err := conn.SendBatch(ctx, b).Close(); err != nil {
		return TransactResult{}, fmt.Errorf("transact: write: %w", err)
	}
	committed = true
	return TransactResult{TxID: store.TxID(id)}, nil
}
