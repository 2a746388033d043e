package query

import (
	"errors"

	"github.com/triplesync/triplesync/internal/errs"
)

var (
	// ErrMalformed is returned for input that is not JSON or not shaped like a
	// query: a namespace that is not an object, a where that is not an
	// object, "and" that is not an array, trailing data, and so on.
	ErrMalformed = errors.New("query: malformed query")

	// ErrUnknownNamespace is returned for a top-level key that names no
	// namespace of the attribute registry.
	ErrUnknownNamespace = errors.New("query: unknown namespace")

	// ErrUnknownAttr is returned for an attribute, link or dotted-path step
	// that the namespace does not have.
	ErrUnknownAttr = errors.New("query: unknown attribute")

	// ErrBadOperator is returned for an unknown "$" operator or option, or an
	// operator the attribute cannot take (a comparison on a link).
	ErrBadOperator = errors.New("query: bad operator")

	// ErrWrongType is returned for a value that does not fit the attribute it
	// is compared with (a string for a number attribute, a non-UUID for a
	// link).
	ErrWrongType = errors.New("query: wrong value type")

	// ErrBadOption is returned for an option with a bad value: a limit that
	// is not a non-negative integer, an order direction other than "asc" or
	// "desc", options that cannot be combined.
	ErrBadOption = errors.New("query: invalid option")

	// ErrBadCursor is returned for a cursor string that is not one this
	// package encoded.
	ErrBadCursor = errors.New("query: invalid cursor")

	// ErrBadScan is returned by a [Source] for a [Scan] that breaks the
	// contract (an EAV scan without entities, an unknown index).
	ErrBadScan = errors.New("query: invalid scan")
)

// Error is a query that could not be parsed. Path names the place in the
// query, as the keys leading to it joined by dots, e.g.
// "todos.$.where.title.$gt" or "todos.owner.$.limit"; array elements are
// their index ("todos.$.where.or.1.done"). Err wraps one of the sentinels of
// this package.
type Error struct {
	Path string
	Err  error
}

// Error returns the path and the cause.
func (e *Error) Error() string {
	if e.Path == "" {
		return e.Err.Error()
	}
	if e.Err == nil {
		return e.Path + ": <nil>" // as fmt's %v printed it
	}
	return e.Path + ": " + e.Err.Error()
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// errorAt returns an *Error at path wrapping sentinel, with the message
// "<sentinel>: <msg>".
func errorAt(path string, sentinel error, msg string) *Error {
	return &Error{Path: path, Err: wrapSentinel(sentinel, msg)}
}

// wrapSentinel returns an error "<sentinel>: <msg>" wrapping sentinel.
func wrapSentinel(sentinel error, msg string) error {
	return errs.With(sentinel.Error()+": "+msg, sentinel)
}

// assert panics on a broken invariant of this package: a bug, never bad
// input.
func assert(cond bool, msg string) {
	if !cond {
		panic("query: assertion failed: " + msg)
	}
}
