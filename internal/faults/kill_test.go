package faults_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/triplesync/triplesync/internal/pgtest"
	"github.com/triplesync/triplesync/internal/server"
	"github.com/triplesync/triplesync/internal/wire"
	"github.com/triplesync/triplesync/store"
)

// Environment of the server child process TestServerKilled runs (this
// test binary, re-executed).
const (
	envServeDSN      = "TRIPLESYNC_FAULTS_SERVE_DSN"
	envServeAddr     = "TRIPLESYNC_FAULTS_SERVE_ADDR"
	envServeInstance = "TRIPLESYNC_FAULTS_SERVE_INSTANCE"
)

// serveChild runs a server until the process is killed, after printing
// "ready" once it serves.
func serveChild() int {
	scfg, err := allowAll()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	srv, err := server.New(server.Config{
		DSN:        os.Getenv(envServeDSN),
		Addr:       os.Getenv(envServeAddr),
		InstanceID: os.Getenv(envServeInstance),
		Session:    scfg,
		Logger:     testLogger(),
	})
	if err == nil {
		err = srv.Open(context.Background())
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "serve:", err)
		return 1
	}
	fmt.Println("ready")
	return <-make(chan int) // until SIGKILL
}

// startChild starts the server child on addr and waits until it serves.
func startChild(t *testing.T, db *pgtest.DB, addr string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), envServeDSN+"="+db.DSN, envServeAddr+"="+addr, envServeInstance+"="+db.Name+"_child")
	cmd.Stderr = os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	line, err := bufio.NewReader(out).ReadString('\n')
	require.NoError(t, err, "server child did not start")
	require.Equal(t, "ready\n", line)
	return cmd
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	return addr
}

// TestServerKilled: the server is killed with SIGKILL as soon as a
// client's transact has committed in Postgres, before the client has read
// its transact-ok. The client reconnects to the restarted server (same
// instance, so same slot) and sends the same transact again under the same
// mutation id: it is applied once — one transactions row, answered with
// that row's tx-id — and a subscriber converges on Postgres's state.
func TestServerKilled(t *testing.T) {
	db := pgtest.New(t)
	addr := freeAddr(t)
	url := "ws://" + addr + "/runtime/session"
	child := startChild(t, db, addr)
	conn, err := pgx.Connect(t.Context(), db.DSN)
	require.NoError(t, err)
	defer conn.Close(context.Background())

	// The namespace and its attributes, through the admin API.
	b, _ := json.Marshal(map[string]any{"ops": [][]any{{"update", "items", item(0).String(), map[string]any{"n": 0, "title": "seed"}}}})
	require.NoError(t, adminPost(t, "http://"+addr, b))

	ws, _, err := websocket.DefaultDialer.Dial(url, nil)
	require.NoError(t, err)
	init := roundTrip[*wire.InitOK](t, ws, &wire.Init{ClientEventID: "init"})
	steps := itemSteps(t, init.Attrs, item(1), 42)

	// Send the transact, then watch Postgres and kill the server the moment
	// the mutation's transactions row is visible. The client reads nothing
	// meanwhile, and drops the connection with whatever it held unread.
	const mid = "kill-mutation-1"
	tr := &wire.Transact{ClientEventID: "t1", MutationID: mid, Steps: steps}
	frame, err := wire.Encode(nil, tr)
	require.NoError(t, err)
	require.NoError(t, ws.WriteMessage(websocket.TextMessage, frame))
	deadline := time.Now().Add(30 * time.Second)
	for {
		var n int
		require.NoError(t, conn.QueryRow(t.Context(), `SELECT count(*) FROM transactions WHERE mutation_id = $1`, mid).Scan(&n))
		if n > 0 {
			break
		}
		require.True(t, time.Now().Before(deadline), "the transact never committed")
	}
	require.NoError(t, child.Process.Signal(syscall.SIGKILL))
	_ = child.Wait()
	ws.Close()

	startChild(t, db, addr)
	ws2, _, err := websocket.DefaultDialer.Dial(url, nil)
	require.NoError(t, err)
	defer ws2.Close()
	roundTrip[*wire.InitOK](t, ws2, &wire.Init{ClientEventID: "init"})
	ok := roundTrip[*wire.TransactOK](t, ws2, tr)

	var rows int
	var txID int64
	require.NoError(t, conn.QueryRow(t.Context(), `SELECT count(*), max(id) FROM transactions WHERE mutation_id = $1`, mid).Scan(&rows, &txID))
	assert.Equal(t, 1, rows, "transactions rows for the retried mutation")
	assert.Equal(t, store.TxID(txID), ok.TxID, "the retry answers with the original tx-id")
	var ns int
	require.NoError(t, conn.QueryRow(t.Context(), `SELECT count(*) FROM triples WHERE entity_id = $1`, item(1)).Scan(&ns))
	assert.Equal(t, 2, ns, "item 1's id and n triples, once")

	sub := newClient(t, "after-restart", func() string { return url }).Start()
	requireConverged(t, db.DSN, sub)
}

// itemSteps returns the tx-steps creating item e with n = v.
func itemSteps(t *testing.T, attrs []store.Attr, e store.EntityID, v float64) []store.Step {
	t.Helper()
	var id, n store.AttrID
	for _, a := range attrs {
		if a.Namespace == "items" && a.Label == "id" {
			id = a.ID
		}
		if a.Namespace == "items" && a.Label == "n" {
			n = a.ID
		}
	}
	require.NotZero(t, id, "items.id in init-ok's attrs")
	require.NotZero(t, n, "items.n in init-ok's attrs")
	return []store.Step{
		{Op: store.OpAddTriple, E: e, A: id, V: store.Ref(e)},
		{Op: store.OpAddTriple, E: e, A: n, V: store.Number(v)},
	}
}

// roundTrip sends m and reads up to the reply of type T, skipping
// refresh-oks; an error reply fails the test.
func roundTrip[T wire.Message](t *testing.T, ws *websocket.Conn, m wire.Message) T {
	t.Helper()
	b, err := wire.Encode(nil, m)
	require.NoError(t, err)
	require.NoError(t, ws.WriteMessage(websocket.TextMessage, b))
	require.NoError(t, ws.SetReadDeadline(time.Now().Add(30*time.Second)))
	for {
		_, data, err := ws.ReadMessage()
		require.NoError(t, err)
		reply, err := wire.Parse(data)
		require.NoError(t, err)
		if r, ok := reply.(T); ok {
			return r
		}
		if _, ok := reply.(*wire.RefreshOK); !ok {
			t.Fatalf("got %s, want %T", data, *new(T))
		}
	}
}
