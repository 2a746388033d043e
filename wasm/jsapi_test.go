package wasm_test

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/triplesync/triplesync/query"
	"github.com/triplesync/triplesync/reactor"
	"github.com/triplesync/triplesync/store"
	"github.com/triplesync/triplesync/wasm"
)

func TestParseOptions(t *testing.T) {
	o, err := wasm.ParseOptions([]byte(`{"url":"ws://h/runtime/session","token":"t","createMissingAttrs":true,"minBackoffMs":5}`))
	require.NoError(t, err)
	assert.Equal(t, "default", o.AppID)
	assert.Equal(t, "indexeddb", o.Storage)
	cfg := o.ClientConfig()
	assert.Equal(t, "t", cfg.Token)
	assert.True(t, cfg.CreateMissingAttrs)
	assert.Equal(t, 5*time.Millisecond, cfg.MinBackoff)

	bad := []struct {
		name string
		in   string
	}{
		{"not json", `{`},
		{"no url", `{}`},
		{"http url", `{"url":"http://h/"}`},
		{"bad storage", `{"url":"ws://h/","storage":"disk"}`},
		{"bad app", `{"url":"ws://h/","appId":"a b"}`},
		{"negative backoff", `{"url":"ws://h/","maxBackoffMs":-1}`},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			_, err := wasm.ParseOptions([]byte(tt.in))
			assert.Error(t, err, "ParseOptions(%s)", tt.in)
		})
	}
}

func TestAppendResult(t *testing.T) {
	attrs, ts := itemsData(2)
	snap, err := store.Load(attrs, ts)
	require.NoError(t, err)
	q, err := query.Parse([]byte(`{"items":{"$":{"order":{"rank":"desc"},"fields":["rank"]}}}`), attrs)
	require.NoError(t, err)
	res, err := query.Eval(query.SnapshotSource(snap), q)
	require.NoError(t, err)

	var got struct {
		Data      map[string]json.RawMessage `json:"data"`
		FromCache bool                       `json:"fromCache"`
	}
	require.NoError(t, json.Unmarshal(wasm.AppendResult(nil, reactor.QueryResult{Result: res, FromCache: true}), &got))
	assert.True(t, got.FromCache)
	assert.JSONEq(t, `[{"id":"`+itemID(1).String()+`","rank":1},{"id":"`+itemID(0).String()+`","rank":0}]`, string(got.Data["items"]))
	assert.Contains(t, got.Data, "$pageInfo")

	var e struct {
		Error map[string]any `json:"error"`
	}
	se := &reactor.ServerError{Op: "add-query", Status: 400, Type: "invalid", Message: "unknown namespace", QueryID: "q1"}
	require.NoError(t, json.Unmarshal(wasm.AppendResult(nil, reactor.QueryResult{Error: se}), &e))
	assert.Equal(t, map[string]any{"message": se.Error(), "kind": "server", "type": "invalid", "status": 400.0, "op": "add-query", "queryId": "q1"}, e.Error)
}

func TestAppendError(t *testing.T) {
	tests := []struct {
		name string
		err  error
		kind string
	}{
		{"server", &reactor.ServerError{Op: "transact", Type: "permission-denied", MutationID: "m"}, "server"},
		{"storage", &reactor.StorageError{Op: "write", Err: errors.New("x")}, "storage"},
		{"db", &wasm.DBError{DB: "d", Op: "open", Err: errors.New("x")}, "storage"},
		{"client", errors.New("x"), "client"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var j map[string]any
			require.NoError(t, json.Unmarshal(wasm.AppendError(nil, tt.err), &j))
			assert.Equal(t, tt.kind, j["kind"], "AppendError(%v)", tt.err)
			assert.Equal(t, tt.err.Error(), j["message"])
		})
	}
}

func TestAppendStatus(t *testing.T) {
	at := time.UnixMilli(1700000000123)
	tests := []struct {
		name string
		st   reactor.Status
		want string
	}{
		{"online", reactor.Status{State: reactor.StateOnline, SessionID: "s1"}, `{"state":"online","sessionId":"s1","attempt":0}`},
		{"offline", reactor.Status{State: reactor.StateOffline, Err: reactor.ErrDisconnected, Attempt: 2, RetryAt: at},
			`{"state":"offline","error":"disconnected","attempt":2,"retryAt":1700000000123}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.JSONEq(t, tt.want, string(wasm.AppendStatus(nil, tt.st)))
		})
	}
}
