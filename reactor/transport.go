package reactor

import (
	"context"

	"github.com/triplesync/triplesync/internal/jsonlite"
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
	// Error is set instead of Result when the query has no result: the
	// server refused it, or it does not fit the client's schema.
	Error error
	// FromCache says the result comes from storage and the server has not
	// answered yet.
	FromCache bool
	// Result is the typed result, shared: read it, never modify it. An
	// update to a large result shares the rows it did not change with the
	// previous one (query.Update), so comparing row pointers finds what
	// changed; such a result carries no Triples (they are nil).
	Result *query.Result
}

// QueryResult converts the notification to what callbacks receive.
func (n Notification) QueryResult() QueryResult {
	return QueryResult{Error: n.Err, FromCache: n.FromCache, Result: n.Result}
}

// Data returns the result tree (query.Result.Tree) without its top-level
// "$pageInfo": {"todos": [{"id": ..., "title": ...}], ...}; nil when
// Error is set. It is built on each call, at a cost in the size of the
// result, and the caller owns it; callbacks that read Result, or only
// part of the tree, never pay for it.
func (r QueryResult) Data() map[string]any {
	if r.Result == nil {
		return nil
	}
	data := r.Result.Tree()
	delete(data, "$pageInfo")
	return data
}

// PageInfo returns the top-level "$pageInfo": per top-level namespace,
// startCursor, endCursor, hasNextPage, hasPreviousPage. It is built on
// each call, at a cost in the number of top levels; the caller owns it.
func (r QueryResult) PageInfo() map[string]any {
	if r.Result == nil {
		return nil
	}
	out := map[string]any{}
	for _, p := range r.Result.Tops {
		if p.Level.Count {
			continue
		}
		// The text holds strings, booleans and nulls: no numbers whose
		// type would differ (jsonlite.Num, not float64).
		v, err := jsonlite.Decode(p.Info.AppendJSON(nil))
		if m, ok := v.(map[string]any); err == nil && ok {
			out[p.Level.Label] = m
		}
	}
	return out
}
