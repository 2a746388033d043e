package wasm

import (
	"errors"
	"slices"
	"strconv"

	"github.com/triplesync/triplesync/internal/errs"
)

var (
	// ErrQuotaExceeded is wrapped by storage errors caused by the browser
	// refusing to store more (IndexedDB's QuotaExceededError). The write is
	// not applied; the client keeps it in memory and retries.
	ErrQuotaExceeded = errors.New("wasm: storage quota exceeded")

	// ErrDBClosed is wrapped by errors of a database connection the browser
	// closed (IndexedDB's close event, InvalidStateError, a versionchange
	// from another tab). [Storage] reopens the database and retries once.
	ErrDBClosed = errors.New("wasm: database connection closed")

	// ErrNoIndexedDB is returned by [OpenIndexedDB] where the environment
	// has no indexedDB (a worker without it, Node, some private modes).
	ErrNoIndexedDB = errors.New("wasm: indexedDB is not available")

	// ErrClosed is returned by a [Storage] used after Close.
	ErrClosed = errors.New("wasm: storage closed")

	// ErrConnClosed is returned by reads and writes on a closed browser
	// WebSocket connection; the close code and reason are in the
	// *[CloseError] that wraps it when the server or the network closed it.
	ErrConnClosed = errors.New("wasm: websocket closed")

	// ErrBadOp is wrapped by [DecodeOps] errors: a transaction op that is
	// not an object of the documented shape.
	ErrBadOp = errors.New("wasm: malformed transaction op")
)

// DBError is a failed database operation: which database and object store,
// what was done, and the browser's error (a DOMException's name and
// message). Err wraps [ErrQuotaExceeded] or [ErrDBClosed] when the name
// says so.
type DBError struct {
	DB    string // the database name
	Op    string // "open", "read", "write", "delete", "list"
	Store string // the object store, when one is concerned
	Name  string // the DOMException's name ("QuotaExceededError", ...), when known
	Err   error
}

// Error implements error.
func (e *DBError) Error() string {
	where := e.DB
	if e.Store != "" {
		where += "/" + e.Store
	}
	return "wasm: indexeddb " + e.Op + " " + where + ": " + formatAny(e.Err)
}

// Unwrap returns the cause.
func (e *DBError) Unwrap() error { return e.Err }

// domError turns a DOMException's name and message into an error wrapping
// the sentinel the name stands for.
func domError(name, message string) error {
	if message == "" {
		message = name
	}
	switch name {
	case "QuotaExceededError":
		return wrapSentinel(ErrQuotaExceeded, message)
	case "InvalidStateError":
		return wrapSentinel(ErrDBClosed, message)
	}
	if name == "" {
		return errors.New(message)
	}
	return errors.New(name + ": " + message)
}

// CloseError is why the browser's WebSocket closed: its close event's code
// and reason (1006 for a connection lost or never established).
type CloseError struct {
	Code   int
	Reason string
}

// Error implements error.
func (e *CloseError) Error() string {
	if e.Reason != "" {
		return "wasm: websocket closed: " + strconv.Itoa(e.Code) + " " + e.Reason
	}
	return "wasm: websocket closed: " + strconv.Itoa(e.Code)
}

// Unwrap returns [ErrConnClosed].
func (e *CloseError) Unwrap() error { return ErrConnClosed }

// wrapSentinel returns an error reading sentinel's message, ": " and
// detail that wraps sentinel: fmt.Errorf("%w: %s", sentinel, detail).
func wrapSentinel(sentinel error, detail string) error {
	return errs.With(sentinel.Error()+": "+detail, sentinel)
}

// formatAny formats x as fmt's %v does, for the values error messages
// show: nil, errors, strings and Stringers (jsonlite.Num), bools, and what
// JSON decodes to ([]any, map[string]any with sorted keys). Anything else,
// which these packages never format, shows as "(unformatted value)".
func formatAny(x any) string {
	switch v := x.(type) {
	case nil:
		return "<nil>"
	case error:
		return v.Error()
	case string:
		return v
	case interface{ String() string }:
		return v.String()
	case bool:
		return strconv.FormatBool(v)
	case []any:
		b := []byte{'['}
		for i, e := range v {
			if i > 0 {
				b = append(b, ' ')
			}
			b = append(b, formatAny(e)...)
		}
		return string(append(b, ']'))
	case map[string]any:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		b := []byte("map[")
		for i, k := range keys {
			if i > 0 {
				b = append(b, ' ')
			}
			b = append(b, k...)
			b = append(b, ':')
			b = append(b, formatAny(v[k])...)
		}
		return string(append(b, ']'))
	}
	return "(unformatted value)"
}
