package session

import (
	"errors"
	"net/http"

	"github.com/triplesync/triplesync/internal/perm"
	"github.com/triplesync/triplesync/internal/wire"
	"github.com/triplesync/triplesync/query"
	"github.com/triplesync/triplesync/store"
)

var (
	// ErrSlowConsumer is the reason a session was closed because its
	// outbound queue filled: the client did not read what the server sent
	// fast enough (STYLE.md C5).
	ErrSlowConsumer = errors.New("session: slow consumer")

	// ErrUnauthorized is returned for a request before init, an invalid
	// token, or an admin request without the admin token.
	ErrUnauthorized = errors.New("session: unauthorized")

	// ErrAlreadyInitialized is returned for a second init on one session.
	ErrAlreadyInitialized = errors.New("session: already initialized")

	// ErrMessageTooLarge is returned for a frame or request body over the
	// configured size limit.
	ErrMessageTooLarge = errors.New("session: message too large")

	// ErrTooManyQueries is returned for an add-query past the per-session
	// query limit.
	ErrTooManyQueries = errors.New("session: too many queries")

	// ErrQueryTooLarge is returned for a query whose text is over the size
	// limit.
	ErrQueryTooLarge = errors.New("session: query too large")

	// ErrSchemaChange is returned for a transact that changes attributes
	// from a session that is neither admin nor in dev mode.
	ErrSchemaChange = errors.New("session: schema changes need the admin token or dev mode")

	// ErrBinaryFrame is returned for a binary WebSocket frame: the protocol
	// is JSON text.
	ErrBinaryFrame = errors.New("session: binary frames are not supported")

	// ErrClosed is returned by Open on a server that was opened or closed
	// before, and for requests a closing server no longer takes.
	ErrClosed = errors.New("session: server closed")

	// ErrInvalidConfig is returned by NewServer for a Config that cannot
	// work.
	ErrInvalidConfig = errors.New("session: invalid config")

	// ErrBadRequest is returned for an admin request whose body is not of
	// the documented shape.
	ErrBadRequest = errors.New("session: bad request")
)

// classify maps an error to the code and HTTP-like status a client sees
// (STYLE.md E4). ok is false for errors no rule covers: they go out as
// internal and are logged.
func classify(err error) (code string, status int, ok bool) {
	var qe *query.Error
	switch {
	case errors.Is(err, ErrUnauthorized), errors.Is(err, perm.ErrInvalidToken):
		return wire.CodeUnauthorized, http.StatusUnauthorized, true
	case errors.Is(err, perm.ErrDenied), errors.Is(err, ErrSchemaChange):
		return wire.CodePermissionDenied, http.StatusForbidden, true
	case errors.Is(err, ErrMessageTooLarge), errors.Is(err, ErrQueryTooLarge):
		return wire.CodeLimit, http.StatusRequestEntityTooLarge, true
	case errors.Is(err, ErrTooManyQueries):
		return wire.CodeLimit, http.StatusTooManyRequests, true
	case errors.Is(err, store.ErrUniqueViolation), errors.Is(err, store.ErrExists):
		return wire.CodeConflict, http.StatusConflict, true
	case errors.Is(err, store.ErrNotFound):
		return wire.CodeNotFound, http.StatusNotFound, true
	case errors.Is(err, wire.ErrMalformed), errors.Is(err, wire.ErrUnknownOp),
		errors.Is(err, ErrAlreadyInitialized), errors.Is(err, ErrBinaryFrame),
		errors.Is(err, ErrBadRequest), errors.As(err, &qe),
		errors.Is(err, store.ErrMalformedStep), errors.Is(err, store.ErrUnknownAttr),
		errors.Is(err, store.ErrWrongType), errors.Is(err, store.ErrInvalidValue),
		errors.Is(err, store.ErrInvalidID), errors.Is(err, store.ErrInvalidAttr),
		errors.Is(err, store.ErrInvalidLookup), errors.Is(err, store.ErrCardinality):
		return wire.CodeInvalid, http.StatusBadRequest, true
	}
	return wire.CodeInternal, http.StatusInternalServerError, false
}

// Code returns the error code a client is sent for err: one of the
// wire.Code constants, wire.CodeInternal for anything unrecognised.
func Code(err error) string {
	code, _, _ := classify(err)
	return code
}
