package wire

import "errors"

var (
	// ErrMalformed is returned for a frame that is not a JSON object of the
	// shape its op requires.
	ErrMalformed = errors.New("wire: malformed message")

	// ErrUnknownOp is returned for a message whose op this side does not know.
	ErrUnknownOp = errors.New("wire: unknown op")

	// ErrTooLarge is returned for a frame over the size limit.
	ErrTooLarge = errors.New("wire: message too large")
)

// Error codes carried by error messages (STYLE.md E4). Clients branch on
// these, never on message text.
const (
	CodeInvalid          = "invalid"           // the message or its content is malformed or violates the schema
	CodeNotFound         = "not_found"         // the query or entity named does not exist
	CodeUnauthorized     = "unauthorized"      // no valid token where one is needed
	CodePermissionDenied = "permission-denied" // a rule refused the read or write
	CodeConflict         = "conflict"          // a unique value is taken, or a create found the entity
	CodeLimit            = "limit"             // a per-session limit was reached (queries, frame size, rate)
	CodeInternal         = "internal"          // anything else; logged on the server
)
