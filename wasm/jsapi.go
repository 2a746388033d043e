package wasm

import (
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/triplesync/triplesync/internal/errs"
	"github.com/triplesync/triplesync/reactor"
)

// Options are the client options the JS API's init takes, as JSON:
//
//	{"url": "ws://127.0.0.1:8888/runtime/session", "token": "...",
//	 "appId": "todos", "createMissingAttrs": true, "storage": "indexeddb"}
type Options struct {
	// URL is the server's WebSocket endpoint (ws: or wss:). Required.
	URL string `json:"url"`
	// Token is the user's JWT sent with init; empty for anonymous.
	Token string `json:"token"`
	// AppID names the app: the IndexedDB database is triplesync_<appId>_v<format>.
	// Default "default".
	AppID string `json:"appId"`
	// CreateMissingAttrs lets transact define attributes for unknown
	// labels (reactor.Config.CreateMissingAttrs): schemaless development
	// against a server in --dev mode, which permits schema changes.
	CreateMissingAttrs bool `json:"createMissingAttrs"`
	// Storage is "indexeddb" (the default) or "memory" (nothing persists).
	Storage string `json:"storage"`
	// MinBackoffMs and MaxBackoffMs bound the reconnect delay; zero takes
	// reactor's defaults.
	MinBackoffMs int `json:"minBackoffMs"`
	MaxBackoffMs int `json:"maxBackoffMs"`
}

// ParseOptions decodes and checks the options of init.
func ParseOptions(data []byte) (Options, error) {
	var o Options
	if err := json.Unmarshal(data, &o); err != nil {
		return o, errs.Wrap("wasm: options", err)
	}
	if o.AppID == "" {
		o.AppID = "default"
	}
	if o.Storage == "" {
		o.Storage = "indexeddb"
	}
	// net/url would cost the wasm binary more than it checks here; the
	// browser's WebSocket constructor checks the rest.
	switch {
	case o.URL == "":
		return o, errors.New("wasm: options: url is required")
	case !strings.HasPrefix(o.URL, "ws://") && !strings.HasPrefix(o.URL, "wss://"):
		return o, errors.New("wasm: options: url " + strconv.Quote(o.URL) + ": want a ws or wss URL")
	case o.Storage != "indexeddb" && o.Storage != "memory":
		return o, errors.New("wasm: options: storage " + strconv.Quote(o.Storage) + ": want indexeddb or memory")
	case o.MinBackoffMs < 0 || o.MaxBackoffMs < 0:
		return o, errors.New("wasm: options: negative backoff")
	}
	cfg := StorageConfig{App: o.AppID, Factory: NewMemFactory()}
	if err := cfg.validate(); err != nil {
		return o, errs.Wrap("wasm: options: appId", err)
	}
	return o, nil
}

// ClientConfig returns the reactor configuration the options ask for,
// without transport and storage.
func (o Options) ClientConfig() reactor.ClientConfig {
	return reactor.ClientConfig{Config: reactor.Config{
		Token:              o.Token,
		CreateMissingAttrs: o.CreateMissingAttrs,
		MinBackoff:         time.Duration(o.MinBackoffMs) * time.Millisecond,
		MaxBackoff:         time.Duration(o.MaxBackoffMs) * time.Millisecond,
	}}
}

// AppendResult appends the JSON a subscription callback receives in JS:
//
//	{"data": {<tree>, "$pageInfo": {...}}, "fromCache": true}
//	{"error": {<see AppendError>}}
//
// The JS module moves "$pageInfo" out of data, as InstantDB shows it.
func AppendResult(dst []byte, r reactor.QueryResult) []byte {
	if r.Error != nil || r.Result == nil {
		err := r.Error
		if err == nil {
			err = errors.New("wasm: no result")
		}
		dst = append(dst, `{"error":`...)
		dst = AppendError(dst, err)
		return append(dst, '}')
	}
	dst = append(dst, `{"fromCache":`...)
	if r.FromCache {
		dst = append(dst, "true"...)
	} else {
		dst = append(dst, "false"...)
	}
	dst = append(dst, `,"data":`...)
	dst = r.Result.AppendJSON(dst)
	return append(dst, '}')
}

// errorJSON is an error as JS sees it.
type errorJSON struct {
	Message    string `json:"message"`
	Kind       string `json:"kind"`           // "server", "storage", "client"
	Type       string `json:"type,omitempty"` // the server's code: invalid, permission-denied, ...
	Status     int    `json:"status,omitempty"`
	Op         string `json:"op,omitempty"`
	QueryID    string `json:"queryId,omitempty"`
	MutationID string `json:"mutationId,omitempty"`
	Quota      bool   `json:"quota,omitempty"` // storage: the browser's quota is exhausted
}

// AppendError appends err as the JSON the JS API turns into an Error
// (TriplesyncError in triplesync.d.ts): message, kind ("server" for a
// *reactor.ServerError with its type, status and ids; "storage" for a
// *reactor.StorageError or a storage failure, with quota set when the
// browser's quota is exhausted; "client" otherwise).
func AppendError(dst []byte, err error) []byte {
	j := errorJSON{Message: err.Error(), Kind: "client"}
	var se *reactor.ServerError
	var ste *reactor.StorageError
	var dbe *DBError
	switch {
	case errors.As(err, &se):
		j.Kind, j.Type, j.Status, j.Op, j.QueryID, j.MutationID = "server", se.Type, se.Status, se.Op, se.QueryID, se.MutationID
	case errors.As(err, &ste), errors.As(err, &dbe):
		j.Kind = "storage"
	}
	j.Quota = errors.Is(err, ErrQuotaExceeded)
	b, _ := json.Marshal(j) // cannot fail: strings and numbers
	return append(dst, b...)
}

// statusJSON is a connection status as JS sees it.
type statusJSON struct {
	State     string `json:"state"`
	Error     string `json:"error,omitempty"`
	SessionID string `json:"sessionId,omitempty"`
	Attempt   int    `json:"attempt"`
	RetryAt   int64  `json:"retryAt,omitempty"` // ms since the epoch
}

// AppendStatus appends the connection status as JSON: {"state":
// "connecting" | "online" | "offline" | "error", "error": "...",
// "sessionId": "...", "attempt": n, "retryAt": <ms since the epoch>}.
func AppendStatus(dst []byte, s reactor.Status) []byte {
	j := statusJSON{State: s.State.String(), SessionID: s.SessionID, Attempt: s.Attempt}
	if s.Err != nil {
		j.Error = strings.TrimPrefix(s.Err.Error(), "reactor: ")
	}
	if !s.RetryAt.IsZero() {
		j.RetryAt = s.RetryAt.UnixMilli()
	}
	b, _ := json.Marshal(j)
	return append(dst, b...)
}
