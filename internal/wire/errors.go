package wire

import (
	"errors"

	"github.com/triplesync/triplesync/internal/errs"
)

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

// malformed returns an error reading "wire: malformed message: " + msg that
// wraps ErrMalformed.
//
//go:noinline
func malformed(msg string) error {
	return errs.With(ErrMalformed.Error()+": "+msg, ErrMalformed)
}

// malformedWrap returns an error reading "wire: malformed message: " +
// prefix + ": " + err that wraps both ErrMalformed and err.
//
//go:noinline
func malformedWrap(prefix string, err error) error {
	return &wrap2{msg: ErrMalformed.Error() + ": " + prefix + ": " + err.Error(), errs: [2]error{ErrMalformed, err}}
}

// wrap2 is fmt.Errorf's error for a format with two %w.
type wrap2 struct {
	msg  string
	errs [2]error
}

func (e *wrap2) Error() string   { return e.msg }
func (e *wrap2) Unwrap() []error { return e.errs[:] }
