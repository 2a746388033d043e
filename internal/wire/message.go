package wire

import (
	"github.com/triplesync/triplesync/internal/jsonlite"
	"github.com/triplesync/triplesync/store"
)

// Op names, as they appear in the "op" field.
const (
	OpInit          = "init"
	OpAddQuery      = "add-query"
	OpRemoveQuery   = "remove-query"
	OpTransact      = "transact"
	OpInitOK        = "init-ok"
	OpAddQueryOK    = "add-query-ok"
	OpRemoveQueryOK = "remove-query-ok"
	OpTransactOK    = "transact-ok"
	OpRefreshOK     = "refresh-ok"
	OpError         = "error"
)

// Message is any protocol message. Op returns its "op" name. The JSON
// names of the fields are in encode.go and docs/protocol.md (the types
// carry no struct tags: Encode and Parse are written by hand, and
// encoding/json would write their []byte fields as base64).
type Message interface {
	Op() string
	// EventID returns the client-event-id the message carries or echoes.
	EventID() string
}

// Init opens a session. Token is a JWT, or empty for an anonymous session.
type Init struct {
	ClientEventID string
	Token         string
}

// AddQuery subscribes to a live query. Q is the InstaQL JSON object.
// QueryID names the subscription in later messages; the client chooses it
// (empty: the server derives one from the query's canonical text and
// returns it in add-query-ok). A repeated add-query for the same id replaces
// the subscription and always answers with a full result: this is how a
// client resynchronises after a reconnect.
type AddQuery struct {
	ClientEventID string
	QueryID       string
	Q             []byte
}

// RemoveQuery ends a subscription.
type RemoveQuery struct {
	ClientEventID string
	QueryID       string
}

// Transact asks the server to apply tx-steps in one Postgres transaction.
// MutationID is unique per client mutation: a transact whose mutation id the
// server has applied before answers with the original tx-id and applies
// nothing (retries after a lost reply are safe).
type Transact struct {
	ClientEventID string
	MutationID    string
	Steps         []store.Step
}

// InitOK answers init with the session's id and the attribute registry.
type InitOK struct {
	ClientEventID string
	SessionID     string
	Attrs         []store.Attr
	// AuthID is the authenticated user's id, empty for anonymous sessions
	// and admin sessions.
	AuthID string
}

// AddQueryOK answers add-query with the triples that justify the query's
// result: loading exactly these into a fresh store and running the query
// there gives the server's result. ProcessedTxID is the highest tx-id whose
// WAL the server had handled before the query ran: a client drops a pending
// mutation once a result with ProcessedTxID ≥ the mutation's tx-id arrived.
type AddQueryOK struct {
	ClientEventID string
	QueryID       string
	Q             []byte
	Result        Triples
	ProcessedTxID store.TxID
}

// RemoveQueryOK answers remove-query.
type RemoveQueryOK struct {
	ClientEventID string
	QueryID       string
}

// TransactOK answers transact with the tx-id Postgres assigned.
type TransactOK struct {
	ClientEventID string
	MutationID    string
	TxID          store.TxID
}

// RefreshOK pushes the queries whose results changed. After it, every
// result the session holds — those in Computations and the others —
// reflects every transaction up to ProcessedTxID; Computations may be empty
// when only that changed (the client's own write touched none of its
// queries). Attrs, when not nil, is the whole attribute registry, sent
// because it changed.
type RefreshOK struct {
	ProcessedTxID store.TxID
	Computations  []Computation
	Attrs         []store.Attr
}

// Computation is one query's new result: a delta against the last result
// the server sent for it (Added triples, Removed keys), or, when Full is set,
// the whole result in Added. An added triple whose key the client holds
// replaces it (its created-at changed).
type Computation struct {
	QueryID string
	Full    bool
	Added   Triples
	Removed Keys
}

// Error reports a failed request. Type is one of the Code constants; Status
// follows HTTP (400 invalid, 401 unauthorized, 403 permission-denied, 404,
// 409 conflict, 413/429 limit, 500 internal). OriginalEvent is the request
// as received (cut to a few KB), when it could be read. QueryID names the
// subscription an error is about, when there is one.
type Error struct {
	ClientEventID string
	Status        int
	Type          string
	Message       string
	QueryID       string
	MutationID    string
	OriginalEvent []byte
}

func (*Init) Op() string          { return OpInit }
func (*AddQuery) Op() string      { return OpAddQuery }
func (*RemoveQuery) Op() string   { return OpRemoveQuery }
func (*Transact) Op() string      { return OpTransact }
func (*InitOK) Op() string        { return OpInitOK }
func (*AddQueryOK) Op() string    { return OpAddQueryOK }
func (*RemoveQueryOK) Op() string { return OpRemoveQueryOK }
func (*TransactOK) Op() string    { return OpTransactOK }
func (*RefreshOK) Op() string     { return OpRefreshOK }
func (*Error) Op() string         { return OpError }

func (m *Init) EventID() string          { return m.ClientEventID }
func (m *AddQuery) EventID() string      { return m.ClientEventID }
func (m *RemoveQuery) EventID() string   { return m.ClientEventID }
func (m *Transact) EventID() string      { return m.ClientEventID }
func (m *InitOK) EventID() string        { return m.ClientEventID }
func (m *AddQueryOK) EventID() string    { return m.ClientEventID }
func (m *RemoveQueryOK) EventID() string { return m.ClientEventID }
func (m *TransactOK) EventID() string    { return m.ClientEventID }
func (*RefreshOK) EventID() string       { return "" }
func (m *Error) EventID() string         { return m.ClientEventID }

// UnmarshalJSON decodes a transact as Parse does, naming the first
// malformed step by its index (a *store.StepError). It keeps nothing of b.
func (m *Transact) UnmarshalJSON(b []byte) error {
	p := parser{data: b}
	p.d.Reset(b)
	if err := p.transact(m); err != nil {
		if serr := jsonlite.Check(b); serr != nil {
			return serr
		}
		return err
	}
	return nil
}
