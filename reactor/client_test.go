package reactor_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/triplesync/triplesync/internal/wire"
	"github.com/triplesync/triplesync/reactor"
	"github.com/triplesync/triplesync/reactor/filestore"
	"github.com/triplesync/triplesync/store"
)

// simNet connects Clients to a simServer in memory: each Dial opens a
// session; after every message a session handles, every session is
// refreshed, as the server's refresh loop would after a commit.
type simNet struct {
	srv      *simServer
	mu       sync.Mutex
	down     bool
	sessions map[*pipeConn]*simSession
}

func newSimNet(srv *simServer) *simNet {
	return &simNet{srv: srv, sessions: map[*pipeConn]*simSession{}}
}

// setDown stops (true) or restarts the server; stopping drops every
// connection.
func (n *simNet) setDown(down bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.down = down
	if down {
		for pc := range n.sessions {
			pc.shut()
			delete(n.sessions, pc)
		}
	}
}

func (n *simNet) Dial(ctx context.Context) (reactor.Conn, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.down {
		return nil, errors.New("sim: connection refused")
	}
	pc := &pipeConn{net: n, in: make(chan []byte, 4096), closed: make(chan struct{})}
	n.sessions[pc] = n.srv.newSession()
	return pc, nil
}

type pipeConn struct {
	net    *simNet
	in     chan []byte
	once   sync.Once
	closed chan struct{}
}

func (pc *pipeConn) shut() { pc.once.Do(func() { close(pc.closed) }) }

func (pc *pipeConn) deliver(m wire.Message) {
	b, err := wire.Encode(nil, m)
	if err != nil {
		panic(err)
	}
	select {
	case pc.in <- b:
	default:
		pc.shut() // a slow consumer
	}
}

func (pc *pipeConn) WriteFrame(ctx context.Context, frame []byte) error {
	msg, err := wire.Parse(frame)
	if err != nil {
		return err
	}
	n := pc.net
	n.mu.Lock()
	defer n.mu.Unlock()
	sess := n.sessions[pc]
	if sess == nil {
		return errors.New("sim: connection closed")
	}
	for _, r := range sess.handle(msg) {
		pc.deliver(r)
	}
	for c, s := range n.sessions {
		if r := s.refresh(false, false); r != nil {
			c.deliver(r)
		}
	}
	return nil
}

func (pc *pipeConn) ReadFrame(ctx context.Context) ([]byte, error) {
	select {
	case b := <-pc.in:
		return b, nil
	case <-pc.closed:
		return nil, errors.New("sim: connection closed")
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (pc *pipeConn) Close() error {
	pc.shut()
	pc.net.mu.Lock()
	delete(pc.net.sessions, pc)
	pc.net.mu.Unlock()
	return nil
}

func todoAttrs(n *names) *store.Attrs {
	return store.MustNewAttrs(
		store.Attr{ID: n.id("todos.id"), Namespace: "todos", Label: "id", Type: store.TypeString, Unique: true, Indexed: true},
		store.Attr{ID: n.id("todos.title"), Namespace: "todos", Label: "title", Type: store.TypeString, Indexed: true},
		store.Attr{ID: n.id("todos.n"), Namespace: "todos", Label: "n", Type: store.TypeNumber, Indexed: true},
	)
}

// MustOpenClient opens a client on tr with fast reconnects, closed at
// the end of the test.
func MustOpenClient(tb testing.TB, tr reactor.Transport, st reactor.Storage) *reactor.Client {
	tb.Helper()
	c, err := reactor.NewClient(reactor.ClientConfig{Transport: tr, Storage: st,
		Config: reactor.Config{MinBackoff: 5 * time.Millisecond, MaxBackoff: 50 * time.Millisecond}})
	require.NoError(tb, err)
	require.NoError(tb, c.Open(tb.Context()))
	tb.Cleanup(func() { _ = c.Close(context.Background()) })
	return c
}

// results subscribes to q and returns a function that waits for a
// result satisfying ok.
func results(t testing.TB, c *reactor.Client, q string) (wait func(ok func(reactor.QueryResult) bool) reactor.QueryResult, unsubscribe func()) {
	ch := make(chan reactor.QueryResult, 1000)
	unsubscribe = c.SubscribeQuery([]byte(q), func(r reactor.QueryResult) { ch <- r })
	wait = func(ok func(reactor.QueryResult) bool) reactor.QueryResult {
		t.Helper()
		ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
		defer cancel()
		for {
			select {
			case r := <-ch:
				if ok(r) {
					return r
				}
			case <-ctx.Done():
				t.Fatalf("no result of %s as wanted", q)
			}
		}
	}
	return wait, unsubscribe
}

func waitOnline(t testing.TB, c *reactor.Client) {
	t.Helper()
	ch := make(chan reactor.Status, 100)
	unsub := c.SubscribeStatus(func(s reactor.Status) { ch <- s })
	defer unsub()
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	for {
		select {
		case s := <-ch:
			if s.State == reactor.StateOnline {
				return
			}
		case <-ctx.Done():
			t.Fatal("never online")
		}
	}
}

// titles returns the titles of a {"todos":...} result in order.
func titles(r reactor.QueryResult) []string {
	var out []string
	todos, _ := r.Data()["todos"].([]any)
	for _, x := range todos {
		if m, ok := x.(map[string]any); ok {
			s, _ := m["title"].(string)
			out = append(out, s)
		}
	}
	return out
}

func TestClientTwoClients(t *testing.T) {
	n := newNames()
	net := newSimNet(newSimServer(todoAttrs(n)))
	a := MustOpenClient(t, net, nil)
	b := MustOpenClient(t, net, nil)
	waitA, _ := results(t, a, `{"todos":{"$":{"order":{"title":"asc"}}}}`)
	waitB, _ := results(t, b, `{"todos":{"$":{"order":{"title":"asc"}}}}`)
	waitA(func(r reactor.QueryResult) bool { return r.Error == nil && !r.FromCache })
	waitOnline(t, b)

	tx, err := b.Transact([]store.TxOp{{Action: "create", Namespace: "todos", ID: n.id("t1"), Args: map[string]any{"title": "from b"}}})
	require.NoError(t, err)
	txID, err := tx.Wait(t.Context())
	require.NoError(t, err)
	assert.Positive(t, txID)
	r := waitA(func(r reactor.QueryResult) bool { return len(titles(r)) == 1 })
	assert.Equal(t, []string{"from b"}, titles(r))
	assert.Contains(t, r.PageInfo(), "todos")

	_, err = a.Transact([]store.TxOp{{Action: "update", Namespace: "todos", ID: n.id("t1"), Args: map[string]any{"title": "from a"}}})
	require.NoError(t, err)
	waitB(func(r reactor.QueryResult) bool { return slices0(titles(r)) == "from a" })
}

func slices0(s []string) string {
	if len(s) == 0 {
		return ""
	}
	return s[0]
}

func TestClientRejectedWrite(t *testing.T) {
	n := newNames()
	net := newSimNet(newSimServer(todoAttrs(n)))
	c := MustOpenClient(t, net, nil)
	waitOnline(t, c)
	tx, err := c.Transact([]store.TxOp{{Action: "update", Mode: store.ModeUpdate, Namespace: "todos", ID: n.id("nope"), Args: map[string]any{"title": "x"}}})
	require.NoError(t, err)
	_, err = tx.Wait(t.Context())
	require.ErrorIs(t, err, reactor.ErrRejected)
	var se *reactor.ServerError
	require.ErrorAs(t, err, &se)
	assert.Equal(t, wire.CodeNotFound, se.Type)
	assert.Equal(t, tx.MutationID(), se.MutationID)

	_, err = c.Transact([]store.TxOp{{Action: "update", Namespace: "todos", ID: n.id("t"), Args: map[string]any{"nope": 1}}})
	require.ErrorIs(t, err, store.ErrUnknownAttr)
}

// Callbacks may call the client: write, subscribe, unsubscribe.
func TestClientCallbackReentry(t *testing.T) {
	n := newNames()
	net := newSimNet(newSimServer(todoAttrs(n)))
	c := MustOpenClient(t, net, nil)
	done := make(chan string, 10)
	unsubs := make(chan func(), 1)
	var once sync.Once
	unsub := c.SubscribeQuery([]byte(`{"todos":{}}`), func(r reactor.QueryResult) {
		once.Do(func() {
			_, err := c.Transact([]store.TxOp{{Action: "create", Namespace: "todos", ID: n.id("t1"), Args: map[string]any{"title": "from a callback"}}})
			if err != nil {
				done <- err.Error()
				return
			}
			c.SubscribeQuery([]byte(`{"todos":{"$":{"where":{"title":"from a callback"}}}}`), func(r reactor.QueryResult) {
				if ts := titles(r); len(ts) == 1 {
					done <- ts[0]
				}
			})
			(<-unsubs)()
		})
	})
	unsubs <- unsub
	select {
	case s := <-done:
		assert.Equal(t, "from a callback", s)
	case <-time.After(20 * time.Second):
		t.Fatal("no result")
	}
}

// With the server down, a client makes 100 writes and stops; a new
// client on the same directory (a restarted process) sends them when the
// server is back: all applied, exactly once, in order.
func TestClientOfflineWritesSurviveRestart(t *testing.T) {
	n := newNames()
	srv := newSimServer(todoAttrs(n))
	net := newSimNet(srv)
	dir := t.TempDir()
	open := func() *reactor.Client {
		st, err := filestore.New(dir)
		require.NoError(t, err)
		c, err := reactor.NewClient(reactor.ClientConfig{Transport: net, Storage: st,
			Config: reactor.Config{MinBackoff: 5 * time.Millisecond, MaxBackoff: 50 * time.Millisecond}})
		require.NoError(t, err)
		require.NoError(t, c.Open(t.Context()))
		return c
	}
	q := `{"todos":{"$":{"order":{"n":"asc"}}}}`

	// A first run learns the schema and caches the (empty) query.
	c := open()
	wait, _ := results(t, c, q)
	wait(func(r reactor.QueryResult) bool { return !r.FromCache && r.Error == nil })
	require.NoError(t, c.Close(t.Context()))

	// The server goes away; the second run writes offline.
	net.setDown(true)
	c = open()
	wait, _ = results(t, c, q)
	wait(func(r reactor.QueryResult) bool { return r.FromCache })
	var ids []string
	var txs []*reactor.Tx
	for i := range 100 {
		tx, err := c.Transact([]store.TxOp{{Action: "create", Namespace: "todos", ID: n.id(fmt.Sprintf("w%d", i)),
			Args: map[string]any{"title": fmt.Sprintf("write %d", i), "n": i}}})
		require.NoError(t, err)
		ids, txs = append(ids, tx.MutationID()), append(txs, tx)
	}
	r := wait(func(r reactor.QueryResult) bool { return len(titles(r)) == 100 })
	assert.Equal(t, "write 0", titles(r)[0], "offline writes show at once")
	assert.NotEqual(t, reactor.StateOnline, c.Status().State)
	require.NoError(t, c.Close(t.Context()))
	_, err := txs[0].Wait(t.Context())
	require.ErrorIs(t, err, reactor.ErrClosed)

	// A third run, the server back: everything is sent.
	net.setDown(false)
	c = open()
	defer c.Close(context.Background())
	wait, _ = results(t, c, q)
	wait(func(r reactor.QueryResult) bool { return !r.FromCache && len(titles(r)) == 100 })
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	for {
		srv.mu.Lock()
		done := len(srv.order) == 100
		srv.mu.Unlock()
		if done {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatalf("only %d of 100 writes reached the server", len(srv.order))
		case <-time.After(5 * time.Millisecond):
		}
	}
	srv.mu.Lock()
	assert.Equal(t, ids, srv.order, "each write applied once, in order")
	srv.mu.Unlock()
	res, err := srv.eval([]byte(q))
	require.NoError(t, err)
	assert.True(t, strings.Contains(string(res.AppendJSON(nil)), "write 99"))
}
