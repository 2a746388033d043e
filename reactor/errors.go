package reactor

import (
	"errors"

	"github.com/triplesync/triplesync/internal/wire"
)

var (
	// ErrNotLoaded is returned by [Core.Transact] before [Core.Load]: a
	// mutation made before the stored ones are known could be ordered
	// before them.
	ErrNotLoaded = errors.New("reactor: storage not loaded")

	// ErrClosed is returned by calls on a closed [Core] or [Client], and by
	// [Tx.Wait] when the client closed before the server answered (the
	// mutation stays stored and is sent when a client opens the same
	// storage again).
	ErrClosed = errors.New("reactor: closed")

	// ErrNotOpen is returned by calls on a [Client] before [Client.Open].
	ErrNotOpen = errors.New("reactor: client not open")

	// ErrEmptyTransaction is returned for a transaction without steps.
	ErrEmptyTransaction = errors.New("reactor: empty transaction")

	// ErrRejected is wrapped by every [ServerError]: the server refused a
	// request (a mutation, a query, the session).
	ErrRejected = errors.New("reactor: rejected by the server")

	// ErrDisconnected is the cause [Status.Err] carries when the client
	// itself closed the connection (the server refused the session, or a
	// connection's send queue overflowed).
	ErrDisconnected = errors.New("reactor: disconnected")

	// ErrUnexpected is returned by [Core.Step] for a message a server does
	// not send (a client request).
	ErrUnexpected = errors.New("reactor: unexpected message")

	// ErrTooLarge is returned by [Core.Transact] for a mutation whose
	// transact message would exceed [Config.MaxMessageBytes]: the server
	// would refuse the frame without reading its mutation-id, so it could
	// never be settled.
	ErrTooLarge = errors.New("reactor: mutation too large")

	// ErrCorrupt is returned by storages for a record that cannot be
	// decoded.
	ErrCorrupt = errors.New("reactor: corrupt record")
)

// ServerError is an error message from the server about one request: the
// mutation it rejected, the query it refused, or the init it did not
// accept. Clients branch on Type (one of the wire Code constants:
// "invalid", "permission-denied", "conflict", ...), never on Message.
type ServerError struct {
	Op         string // the request's op: "transact", "add-query", "init", or "" when unknown
	Status     int    // HTTP-like status
	Type       string // error code
	Message    string
	QueryID    string // set for add-query errors
	MutationID string // set for transact errors
}

func newServerError(op string, m *wire.Error) *ServerError {
	return &ServerError{Op: op, Status: m.Status, Type: m.Type, Message: m.Message, QueryID: m.QueryID, MutationID: m.MutationID}
}

// Error implements error.
func (e *ServerError) Error() string {
	switch {
	case e.MutationID != "":
		return "reactor: mutation " + e.MutationID + " rejected: " + e.Type + ": " + e.Message
	case e.QueryID != "":
		return "reactor: query " + e.QueryID + " refused: " + e.Type + ": " + e.Message
	case e.Op != "":
		return "reactor: " + e.Op + " refused: " + e.Type + ": " + e.Message
	}
	return "reactor: server error: " + e.Type + ": " + e.Message
}

// Unwrap returns [ErrRejected], so errors.Is(err, ErrRejected) holds for
// every server error.
func (e *ServerError) Unwrap() error { return ErrRejected }

// StorageError is a failed storage write the [Client] reports through
// [ClientConfig.OnError]. The core goes on: the writes stay in memory and
// are retried with the next batch that touches the same records.
type StorageError struct {
	Op  string // "load" or "write"
	Err error
}

// Error implements error.
func (e *StorageError) Error() string { return "reactor: storage " + e.Op + ": " + errString(e.Err) }

// errString is err's message as %v shows it: "<nil>" for nil.
func errString(err error) string {
	if err == nil {
		return "<nil>"
	}
	return err.Error()
}

// Unwrap returns the storage's error.
func (e *StorageError) Unwrap() error { return e.Err }
