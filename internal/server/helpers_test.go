package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/require"

	"github.com/triplesync/triplesync/internal/perm"
	"github.com/triplesync/triplesync/internal/pgtest"
	"github.com/triplesync/triplesync/internal/server"
	"github.com/triplesync/triplesync/internal/wire"
	"github.com/triplesync/triplesync/session"
	"github.com/triplesync/triplesync/store"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

const adminToken = "admin-token-for-tests"

var (
	jwtSecret = []byte("0123456789abcdef0123456789abcdef")
	alice     = store.MustParseEntityID("a11ce000-0000-4000-8000-000000000001")
	bob       = store.MustParseEntityID("b0b00000-0000-4000-8000-000000000002")
)

// ownerRules let users see and write only their own todos.
const ownerRules = `{"todos": {"allow": {
	"view":   "auth.id != null && data.owner == auth.id",
	"create": "auth.id != null && newData.owner == auth.id",
	"update": "data.owner == auth.id && newData.owner == auth.id",
	"delete": "data.owner == auth.id"
}}}`

func userToken(tb testing.TB, user store.EntityID) string {
	tb.Helper()
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{
		"sub": user.String(), "exp": time.Now().Add(time.Hour).Unix(),
	}).SignedString(jwtSecret)
	require.NoError(tb, err)
	return s
}

// sessionConfig is the test servers' session configuration: owner rules,
// HS256 user tokens and the admin token.
func sessionConfig(tb testing.TB) session.Config {
	tb.Helper()
	rules, err := perm.ParseRules([]byte(ownerRules), false)
	require.NoError(tb, err)
	return session.Config{Rules: rules, AdminToken: adminToken, Verifier: &perm.Verifier{HMACSecret: jwtSecret}}
}

// testLogger logs to stderr with -v (TRIPLESYNC_TEST_LOG=1), else nowhere.
func testLogger() *slog.Logger {
	if os.Getenv("TRIPLESYNC_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}

// mustOpen starts a server on the database with its own instance id (so
// its own replication slot) and closes it when the test ends.
func mustOpen(tb testing.TB, db *pgtest.DB, instance string, scfg session.Config) *server.Server {
	tb.Helper()
	srv, err := server.New(server.Config{
		DSN:               db.DSN,
		InstanceID:        db.Name + "_" + instance,
		Session:           scfg,
		Logger:            testLogger(),
		WALStatusInterval: time.Second,
	})
	require.NoError(tb, err)
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		require.NoError(tb, srv.Close(ctx))
	})
	require.NoError(tb, srv.Open(tb.Context()))
	return srv
}

// admin posts to the admin API and decodes the JSON answer into out.
func admin(tb testing.TB, srv *server.Server, path string, body any, out any) int {
	tb.Helper()
	b, err := json.Marshal(body)
	require.NoError(tb, err)
	req, err := http.NewRequest(http.MethodPost, srv.URL()+path, bytes.NewReader(b))
	require.NoError(tb, err)
	req.Header.Set("Authorization", "Bearer "+adminToken)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(tb, err)
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	require.NoError(tb, err)
	if out != nil {
		require.NoError(tb, json.Unmarshal(data, out), "answer %s", data)
	}
	return resp.StatusCode
}

// adminTransact writes ops through the admin API and returns the tx-id.
func adminTransact(tb testing.TB, srv *server.Server, ops ...[]any) store.TxID {
	tb.Helper()
	var out struct {
		TxID store.TxID `json:"tx-id"`
		Type string     `json:"type"`
		Msg  string     `json:"message"`
	}
	code := admin(tb, srv, "/admin/transact", map[string]any{"ops": ops}, &out)
	require.Equal(tb, http.StatusOK, code, "admin transact: %s %s", out.Type, out.Msg)
	return out.TxID
}

// client is a test WebSocket client. Refreshes arrive whenever the WAL
// delivers, so expect skips refresh-ok messages it was not asked for and
// keeps them in skipped; refresh reads up to the refresh of one query.
type client struct {
	tb      testing.TB
	ws      *websocket.Conn
	skipped []*wire.RefreshOK
}

// readTimeout only keeps a broken test from hanging; no assertion depends
// on it.
const readTimeout = 30 * time.Second

func dial(tb testing.TB, srv *server.Server) *client {
	tb.Helper()
	ws, _, err := websocket.DefaultDialer.Dial(srv.SessionURL(), nil)
	require.NoError(tb, err)
	tb.Cleanup(func() { ws.Close() })
	return &client{tb: tb, ws: ws}
}

func dialInit(tb testing.TB, srv *server.Server, token string) *client {
	tb.Helper()
	c := dial(tb, srv)
	c.send(&wire.Init{ClientEventID: "init", Token: token})
	expect[*wire.InitOK](c)
	return c
}

func (c *client) send(m wire.Message) {
	c.tb.Helper()
	b, err := wire.Encode(nil, m)
	require.NoError(c.tb, err)
	c.sendRaw(string(b))
}

func (c *client) sendRaw(s string) {
	c.tb.Helper()
	require.NoError(c.tb, c.ws.WriteMessage(websocket.TextMessage, []byte(s)))
}

func (c *client) next() (wire.Message, int) {
	c.tb.Helper()
	require.NoError(c.tb, c.ws.SetReadDeadline(time.Now().Add(readTimeout)))
	_, b, err := c.ws.ReadMessage()
	require.NoError(c.tb, err)
	m, err := wire.Parse(b)
	require.NoError(c.tb, err, "server sent %s", b)
	return m, len(b)
}

// expect reads up to the next message of type T, skipping refresh-oks.
func expect[T wire.Message](c *client) T {
	c.tb.Helper()
	for {
		m, _ := c.next()
		if t, ok := m.(T); ok {
			return t
		}
		if r, ok := m.(*wire.RefreshOK); ok {
			c.skipped = append(c.skipped, r)
			continue
		}
		b, _ := json.Marshal(m)
		c.tb.Fatalf("got %s %s, want %T", m.Op(), b, *new(T))
	}
}

// refresh reads up to the next refresh-ok with a computation for query
// qid and returns it with its frame's size. Refresh-oks without one (the
// processed tx-id advancing past the client's own write) are skipped.
func (c *client) refresh(qid string) (*wire.RefreshOK, wire.Computation, int) {
	c.tb.Helper()
	for {
		m, size := c.next()
		r, ok := m.(*wire.RefreshOK)
		if !ok {
			b, _ := json.Marshal(m)
			c.tb.Fatalf("got %s %s, want refresh-ok", m.Op(), b)
		}
		for _, comp := range r.Computations {
			if comp.QueryID == qid {
				return r, comp, size
			}
		}
		c.skipped = append(c.skipped, r)
	}
}

func (c *client) addQuery(qid, q string) *wire.AddQueryOK {
	c.tb.Helper()
	c.send(&wire.AddQuery{ClientEventID: "aq-" + qid, QueryID: qid, Q: json.RawMessage(q)})
	ok := expect[*wire.AddQueryOK](c)
	require.Equal(c.tb, qid, ok.QueryID)
	return ok
}

// keysOf returns ts as a set by key.
func keysOf(ts []store.Triple) map[store.TripleKey]store.Triple {
	m := make(map[store.TripleKey]store.Triple, len(ts))
	for _, t := range ts {
		m[t.Key()] = t
	}
	return m
}

// apply applies a computation to a client's triple set.
func apply(set map[store.TripleKey]store.Triple, c wire.Computation) map[store.TripleKey]store.Triple {
	if c.Full {
		set = map[store.TripleKey]store.Triple{}
	}
	for _, k := range c.Removed {
		delete(set, k)
	}
	for _, t := range c.Added {
		set[t.Key()] = t
	}
	return set
}

// todo is an admin op writing a todo.
func todo(e store.EntityID, title string, owner store.EntityID) []any {
	return []any{"update", "todos", e.String(), map[string]any{"title": title, "owner": owner.String()}}
}
