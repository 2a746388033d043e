package wire

import (
	"encoding/json"

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

// Message is any protocol message. Op returns its "op" name.
type Message interface {
	Op() string
	// EventID returns the client-event-id the message carries or echoes.
	EventID() string
}

// Init opens a session. Token is a JWT, or empty for an anonymous session.
type Init struct {
	ClientEventID string `json:"client-event-id,omitempty"`
	Token         string `json:"token,omitempty"`
}

// AddQuery subscribes to a live query. Q is the InstaQL JSON object.
// QueryID names the subscription in later messages; the client chooses it
// (empty: the server derives one from the query's canonical text and
// returns it in add-query-ok). A repeated add-query for the same id replaces
// the subscription and always answers with a full result: this is how a
// client resynchronises after a reconnect.
type AddQuery struct {
	ClientEventID string          `json:"client-event-id,omitempty"`
	QueryID       string          `json:"query-id,omitempty"`
	Q             json.RawMessage `json:"q"`
}

// RemoveQuery ends a subscription.
type RemoveQuery struct {
	ClientEventID string `json:"client-event-id,omitempty"`
	QueryID       string `json:"query-id"`
}

// Transact asks the server to apply tx-steps in one Postgres transaction.
// MutationID is unique per client mutation: a transact whose mutation id the
// server has applied before answers with the original tx-id and applies
// nothing (retries after a lost reply are safe).
type Transact struct {
	ClientEventID string       `json:"client-event-id,omitempty"`
	MutationID    string       `json:"mutation-id"`
	Steps         []store.Step `json:"tx-steps"`
}

// InitOK answers init with the session's id and the attribute registry.
type InitOK struct {
	ClientEventID string       `json:"client-event-id,omitempty"`
	SessionID     string       `json:"session-id"`
	Attrs         []store.Attr `json:"attrs"`
	// AuthID is the authenticated user's id, empty for anonymous sessions
	// and admin sessions.
	AuthID string `json:"auth-id,omitempty"`
}

// AddQueryOK answers add-query with the triples that justify the query's
// result: loading exactly these into a fresh store and running the query
// there gives the server's result. ProcessedTxID is the highest tx-id whose
// WAL the server had handled before the query ran: a client drops a pending
// mutation once a result with ProcessedTxID ≥ the mutation's tx-id arrived.
type AddQueryOK struct {
	ClientEventID string          `json:"client-event-id,omitempty"`
	QueryID       string          `json:"query-id"`
	Q             json.RawMessage `json:"q"`
	Result        Triples         `json:"result"`
	ProcessedTxID store.TxID      `json:"processed-tx-id"`
}

// RemoveQueryOK answers remove-query.
type RemoveQueryOK struct {
	ClientEventID string `json:"client-event-id,omitempty"`
	QueryID       string `json:"query-id"`
}

// TransactOK answers transact with the tx-id Postgres assigned.
type TransactOK struct {
	ClientEventID string     `json:"client-event-id,omitempty"`
	MutationID    string     `json:"mutation-id"`
	TxID          store.TxID `json:"tx-id"`
}

// RefreshOK pushes the queries whose results changed. After it, every
// result the session holds — those in Computations and the others —
// reflects every transaction up to ProcessedTxID; Computations may be empty
// when only that changed (the client's own write touched none of its
// queries). Attrs, when not nil, is the whole attribute registry, sent
// because it changed.
type RefreshOK struct {
	ProcessedTxID store.TxID    `json:"processed-tx-id"`
	Computations  []Computation `json:"computations"`
	Attrs         []store.Attr  `json:"attrs,omitempty"`
}

// Computation is one query's new result: a delta against the last result
// the server sent for it (Added triples, Removed keys), or, when Full is set,
// the whole result in Added. An added triple whose key the client holds
// replaces it (its created-at changed).
type Computation struct {
	QueryID string  `json:"query-id"`
	Full    bool    `json:"full,omitempty"`
	Added   Triples `json:"added"`
	Removed Keys    `json:"removed,omitempty"`
}

// Error reports a failed request. Type is one of the Code constants; Status
// follows HTTP (400 invalid, 401 unauthorized, 403 permission-denied, 404,
// 409 conflict, 413/429 limit, 500 internal). OriginalEvent is the request
// as received (cut to a few KB), when it could be read. QueryID names the
// subscription an error is about, when there is one.
type Error struct {
	ClientEventID string          `json:"client-event-id,omitempty"`
	Status        int             `json:"status"`
	Type          string          `json:"type"`
	Message       string          `json:"message"`
	QueryID       string          `json:"query-id,omitempty"`
	MutationID    string          `json:"mutation-id,omitempty"`
	OriginalEvent json.RawMessage `json:"original-event,omitempty"`
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

// UnmarshalJSON decodes a transact, naming the first malformed step by its
// index (a *store.StepError).
func (m *Transact) UnmarshalJSON(b []byte) error {
	var raw struct {
		ClientEventID string          `json:"client-event-id"`
		MutationID    string          `json:"mutation-id"`
		Steps         json.RawMessage `json:"tx-steps"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	*m = Transact{ClientEventID: raw.ClientEventID, MutationID: raw.MutationID}
	if raw.Steps == nil || string(raw.Steps) == "null" {
		return nil // validate reports the missing steps
	}
	steps, err := store.DecodeSteps(raw.Steps)
	if err != nil {
		return err
	}
	m.Steps = steps
	return nil
}
