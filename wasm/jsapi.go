package wasm

import (
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/triplesync/triplesync/internal/errs"
	"github.com/triplesync/triplesync/internal/jsonlite"
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
	o, err := decodeOptions(data)
	if err != nil {
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
	// validApp, not a StorageConfig's validate: that needs a Factory, and
	// making one here kept the in-memory database in the wasm.
	if err := validApp(o.AppID); err != nil {
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
	// errors.AsType, not errors.As: As brings internal/reflectlite, some
	// 25 KB, into the wasm.
	if se, ok := errors.AsType[*reactor.ServerError](err); ok {
		j.Kind, j.Type, j.Status, j.Op, j.QueryID, j.MutationID = "server", se.Type, se.Status, se.Op, se.QueryID, se.MutationID
	} else if _, ok := errors.AsType[*reactor.StorageError](err); ok {
		j.Kind = "storage"
	} else if _, ok := errors.AsType[*DBError](err); ok {
		j.Kind = "storage"
	}
	j.Quota = errors.Is(err, ErrQuotaExceeded)
	dst = append(dst, `{"message":`...)
	dst = jsonlite.AppendString(dst, j.Message)
	dst = append(dst, `,"kind":`...)
	dst = jsonlite.AppendString(dst, j.Kind)
	dst = appendOmitEmpty(dst, "type", j.Type)
	if j.Status != 0 {
		dst = append(dst, `,"status":`...)
		dst = strconv.AppendInt(dst, int64(j.Status), 10)
	}
	dst = appendOmitEmpty(dst, "op", j.Op)
	dst = appendOmitEmpty(dst, "queryId", j.QueryID)
	dst = appendOmitEmpty(dst, "mutationId", j.MutationID)
	if j.Quota {
		dst = append(dst, `,"quota":true`...)
	}
	return append(dst, '}')
}

// appendOmitEmpty appends the member ,"key":s unless s is empty.
func appendOmitEmpty(dst []byte, key, s string) []byte {
	if s == "" {
		return dst
	}
	dst = append(dst, ',', '"')
	dst = append(dst, key...)
	dst = append(dst, '"', ':')
	return jsonlite.AppendString(dst, s)
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
	dst = append(dst, `{"state":`...)
	dst = jsonlite.AppendString(dst, j.State)
	dst = appendOmitEmpty(dst, "error", j.Error)
	dst = appendOmitEmpty(dst, "sessionId", j.SessionID)
	dst = append(dst, `,"attempt":`...)
	dst = strconv.AppendInt(dst, int64(j.Attempt), 10)
	if j.RetryAt != 0 {
		dst = append(dst, `,"retryAt":`...)
		dst = strconv.AppendInt(dst, j.RetryAt, 10)
	}
	return append(dst, '}')
}

// decodeOptions decodes data as json.Unmarshal into Options did, with its
// error messages: keys match field names case-insensitively, unknown ones
// are skipped, null leaves a field as it is, a value of the wrong type is
// an error reported after the rest is decoded (the first one), and
// malformed JSON anywhere is reported before all else.
func decodeOptions(data []byte) (Options, error) {
	var o Options
	d := jsonlite.NewDecoder(data)
	var typeErr error
	wrong := func(value, field, typ string) {
		if typeErr == nil {
			typeErr = jsonlite.FieldTypeError(value, "Options", field, typ)
		}
	}
	str := func(dst *string, field string) error {
		if d.Peek() == jsonlite.String {
			s, err := d.String()
			*dst = s
			return err
		}
		wrong(d.Peek().ValueName(), field, "string")
		return d.Skip()
	}
	integer := func(dst *int, field string) error {
		if d.Peek() != jsonlite.Number {
			wrong(d.Peek().ValueName(), field, "int")
			return d.Skip()
		}
		n, err := d.Number()
		if err != nil {
			return err
		}
		v, perr := strconv.ParseInt(string(n), 10, 64)
		if perr != nil || int64(int(v)) != v {
			wrong("number "+string(n), field, "int")
			return nil
		}
		*dst = int(v)
		return nil
	}
	var err error
	switch d.Peek() {
	case jsonlite.Null, jsonlite.Invalid:
		err = d.Skip()
	case jsonlite.Object:
		err = d.Object(func(k string) error {
			name := jsonlite.Match(k, optionFields)
			if name == "" {
				return d.Skip()
			}
			if d.Null() {
				return nil // leaves the field as it is
			}
			switch name {
			case "url":
				return str(&o.URL, name)
			case "token":
				return str(&o.Token, name)
			case "appId":
				return str(&o.AppID, name)
			case "storage":
				return str(&o.Storage, name)
			case "minBackoffMs":
				return integer(&o.MinBackoffMs, name)
			case "maxBackoffMs":
				return integer(&o.MaxBackoffMs, name)
			}
			if d.Peek() != jsonlite.Bool { // createMissingAttrs
				wrong(d.Peek().ValueName(), name, "bool")
				return d.Skip()
			}
			b, err := d.Bool()
			o.CreateMissingAttrs = b
			return err
		})
	default:
		typeErr = jsonlite.ValueTypeError(d.Peek().ValueName(), "wasm.Options")
		err = d.Skip()
	}
	if err == nil {
		err = d.End()
	}
	if err != nil {
		if serr := jsonlite.Check(data); serr != nil {
			return o, serr
		}
		return o, err
	}
	return o, typeErr
}

var optionFields = []string{"url", "token", "appId", "createMissingAttrs", "storage", "minBackoffMs", "maxBackoffMs"}
