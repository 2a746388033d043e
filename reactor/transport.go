package reactor

import (
	"context"

	"github.com/triplesync/triplesync/query"
)

// Transport opens connections to the server. The native one is
// reactor/wsconn (gorilla/websocket); the browser's wraps the JS
// WebSocket; tests use in-memory pipes.
type Transport interface {
	// Dial opens a connection, or fails with the context's error or the
	// transport's. The connection outlives ctx.
	Dial(ctx context.Context) (Conn, error)
}

// Conn is one connection: a stream of frames in each direction, each
// frame one JSON message. The [Client] reads from one goroutine and writes
// from another; Close may come from either, or a third, and makes blocked
// reads and writes return.
type Conn interface {
	// ReadFrame returns the next frame, which the caller owns, or the
	// error that ended the connection.
	ReadFrame(ctx context.Context) ([]byte, error)
	// WriteFrame sends one frame; frame may be reused once it returns.
	WriteFrame(ctx context.Context, frame []byte) error
	// Close closes the connection; further calls return errors.
	Close() error
}

// QueryResult is what a subscription's callback receives.
type QueryResult struct {
	// Data is the result tree (query.Result.Tree) without its top-level
	// "$pageInfo": {"todos": [{"id": ..., "title": ...}], ...}. The
	// callback owns it.
	Data map[string]any
	// PageInfo is the top-level "$pageInfo": per top-level namespace,
	// startCursor, endCursor, hasNextPage, hasPreviousPage.
	PageInfo map[string]any
	// Error is set instead of Data when the query has no result: the
	// server refused it, or it does not fit the client's schema.
	Error error
	// FromCache says the result comes from storage and the server has not
	// answered yet.
	FromCache bool
	// Result is the typed result, shared: read it, never modify it.
	Result *query.Result
}

// QueryResult converts the notification to what callbacks receive.
func (n Notification) QueryResult() QueryResult {
	r := QueryResult{Error: n.Err, FromCache: n.FromCache, Result: n.Result}
	if n.Result != nil {
		r.Data = n.Result.Tree()
		if pi, ok := r.Data["$pageInfo"].(map[string]any); ok {
			r.PageInfo = pi
		}
		delete(r.Data, "$pageInfo")
	}
	return r
}
