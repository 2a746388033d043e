package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/triplesync/triplesync/internal/pgtest"
	"github.com/triplesync/triplesync/internal/wire"
	"github.com/triplesync/triplesync/store"
)

// TestServe_Session runs serve as a user would configure it (admin token,
// JWT secret, rules file, instance id), serves a session, reloads the
// rules on SIGHUP, and drops the slot once the server is retired.
func TestServe_Session(t *testing.T) {
	db := pgtest.New(t)
	dir := t.TempDir()
	rulesFile := filepath.Join(dir, "rules.json")
	writeRules := func(view string) {
		rules := fmt.Sprintf(`{"todos":{"allow":{"view":%q}}}`, view)
		require.NoError(t, os.WriteFile(rulesFile, []byte(rules), 0o644))
	}
	writeRules("data.owner == auth.id")
	const adminToken = "an-admin-token"
	secret := "0123456789abcdef0123456789abcdef"
	instance := db.Name + "_cmd"
	env := []string{"DATABASE_URL=" + db.DSN, "TRIPLESYNC_ADMIN_TOKEN=" + adminToken, "TRIPLESYNC_JWT_SECRET=" + secret}
	p := startServe(t, env, "--addr", "127.0.0.1:0", "--rules", rulesFile, "--instance-id", instance, "--data-dir", dir)
	assert.NotContains(t, p.output(), "dev mode")

	alice, bob := store.MustParseEntityID("a11ce000-0000-4000-8000-000000000001"), store.MustParseEntityID("b0b00000-0000-4000-8000-000000000002")
	ops := map[string]any{"ops": []any{
		[]any{"update", "todos", "00000000-0000-4000-8000-000000000001", map[string]any{"title": "alice's", "owner": alice.String()}},
		[]any{"update", "todos", "00000000-0000-4000-8000-000000000002", map[string]any{"title": "bob's", "owner": bob.String()}},
	}}
	body, err := json.Marshal(ops)
	require.NoError(t, err)
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, "http://"+p.addr+"/admin/transact", bytes.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+adminToken)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)

	token, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"sub": alice.String(), "exp": time.Now().Add(time.Hour).Unix()}).SignedString([]byte(secret))
	require.NoError(t, err)
	ws, _, err := websocket.DefaultDialer.Dial("ws://"+p.addr+"/runtime/session", nil)
	require.NoError(t, err)
	defer ws.Close()
	send := func(m wire.Message) {
		b, err := wire.Encode(nil, m)
		require.NoError(t, err)
		require.NoError(t, ws.WriteMessage(websocket.TextMessage, b))
	}
	recv := func() wire.Message {
		require.NoError(t, ws.SetReadDeadline(time.Now().Add(30*time.Second)))
		_, b, err := ws.ReadMessage()
		require.NoError(t, err)
		m, err := wire.Parse(b)
		require.NoError(t, err)
		return m
	}
	send(&wire.Init{Token: token})
	initOK, ok := recv().(*wire.InitOK)
	require.True(t, ok)
	assert.Equal(t, alice.String(), initOK.AuthID)
	send(&wire.AddQuery{QueryID: "todos", Q: json.RawMessage(`{"todos":{}}`)})
	added, ok := recv().(*wire.AddQueryOK)
	require.True(t, ok)
	assert.Len(t, added.Result, 3, "alice sees only her todo")

	// New rules on SIGHUP: everyone sees every todo, at once.
	writeRules("true")
	require.NoError(t, p.cmd.Process.Signal(syscall.SIGHUP))
	refresh, ok := recv().(*wire.RefreshOK)
	require.True(t, ok)
	require.Len(t, refresh.Computations, 1)
	assert.Len(t, refresh.Computations[0].Added, 3, "bob's todo appears")
	p.stop(t, syscall.SIGTERM)
	assert.Contains(t, p.output(), "rules reloaded")

	// The slot outlives the server; drop-slot removes it.
	var slots int
	queryRow(t, db.DSN, "SELECT count(*) FROM pg_replication_slots WHERE slot_name LIKE 'triplesync_%'", &slots)
	assert.Equal(t, 1, slots)
	stdout, stderr, code := runBinary(t, []string{"DATABASE_URL=" + db.DSN}, "drop-slot", "--instance-id", instance)
	assert.Equal(t, 0, code, stderr)
	assert.Contains(t, stdout, "dropped replication slot triplesync_")
	queryRow(t, db.DSN, "SELECT count(*) FROM pg_replication_slots WHERE slot_name LIKE 'triplesync_%'", &slots)
	assert.Equal(t, 0, slots)

	// --dev says so at start.
	p = startServe(t, []string{"DATABASE_URL=" + db.DSN}, "--addr", "127.0.0.1:0", "--dev", "--data-dir", dir)
	assert.Contains(t, p.output(), "dev mode")
	assert.FileExists(t, filepath.Join(dir, "instance-id"), "without --instance-id the id is kept in the data directory")
	p.stop(t, syscall.SIGINT)
	stdout, stderr, code = runBinary(t, []string{"DATABASE_URL=" + db.DSN}, "drop-slot", "--data-dir", dir)
	assert.Equal(t, 0, code, stderr)
	assert.Contains(t, stdout, "dropped replication slot")
}
