package reactor_test

import (
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/triplesync/triplesync/internal/wire"
	"github.com/triplesync/triplesync/reactor"
	"github.com/triplesync/triplesync/store"
)

// TestConverge drives a Core against a simulated server through random
// interleavings of local writes, other clients' writes, deliveries in
// both directions, refreshes, lost connections and reconnects, and
// unsubscribing and subscribing again to the observed query (whose cached
// result is shown again at once). It checks
// that a subscriber never sees a confirmed write of its own disappear and
// come back (unless a rejection rolled something back in between), and
// that once everything is delivered and refreshed every query's result
// equals the server's and no mutation is pending. The seed is logged;
// rerun one with -seed or TRIPLESYNC_SEED.
func TestConverge(t *testing.T) {
	base := baseSeed(t)
	runs := *convergeRuns
	if runs == 0 {
		runs = 100
		if testing.Short() || raceEnabled {
			runs = 15
		}
	}
	for i := range runs {
		seed := base + uint64(i)
		if !runConverge(t, seed, 250) {
			t.Fatalf("seed %d failed (rerun with -seed=%d -run TestConverge)", seed, seed)
		}
	}
}

var convergeRuns = flag.Int("converge.runs", 0, "runs of TestConverge (0: 100, or 15 with -short or -race)")

var convergeQueries = map[string]string{
	"all":  `{"todos":{}}`,
	"open": `{"todos":{"$":{"where":{"done":false}}}}`,
	"top3": `{"todos":{"$":{"order":{"title":"asc"},"limit":3}}}`,
}

// world is one run of TestConverge.
type world struct {
	t       *testing.T
	seed    uint64
	r       *rand.Rand
	n       *names
	attrs   *store.Attrs
	clock   *fakeClock
	core    *reactor.Core
	srv     *simServer
	sess    *simSession    // nil when disconnected
	c2s     []wire.Message // client to server, in flight
	s2c     []wire.Message // server to client, in flight
	dial    bool           // the core asked for a connection
	allSub  reactor.SubID  // the subscription to "all"; 0 while unsubscribed
	subs    map[reactor.SubID]string
	last    map[string]*reactor.Notification // query name -> last notification
	values  map[string]write                 // mutation-id -> the title it writes
	track   map[string]*visibility           // mutation-id -> what "all"'s subscriber saw of it
	rejects int
	seq     int
	ok      bool
}

type write struct {
	e     store.EntityID
	title string
}

type visibility struct {
	confirmed bool
	visible   bool
	gone      bool
	goneAtRej int
}

func runConverge(t *testing.T, seed uint64, steps int) bool {
	w := &world{t: t, seed: seed, r: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), n: newNames(),
		clock: newClock(), subs: map[reactor.SubID]string{}, last: map[string]*reactor.Notification{},
		values: map[string]write{}, track: map[string]*visibility{}, ok: true}
	w.attrs = store.MustNewAttrs(
		store.Attr{ID: w.n.id("todos.id"), Namespace: "todos", Label: "id", Type: store.TypeString, Unique: true, Indexed: true},
		store.Attr{ID: w.n.id("todos.title"), Namespace: "todos", Label: "title", Type: store.TypeString, Indexed: true},
		store.Attr{ID: w.n.id("todos.done"), Namespace: "todos", Label: "done", Type: store.TypeBoolean},
	)
	w.srv = newSimServer(w.attrs)
	for i := range 4 { // some todos to start with
		require.NoError(t, w.srv.write(w.steps("other", w.entity(i), fmt.Sprintf("seed%d", i))))
	}
	core, err := reactor.NewCore(reactor.Config{Now: w.clock.Now, Rand: newRand(seed), CacheFlushDelay: -1})
	require.NoError(t, err)
	w.core = core
	// As after an earlier run: the registry is known, so writes work
	// before the first connection.
	raw, err := jsonMarshal(w.attrs.List())
	require.NoError(t, err)
	core.Load(&reactor.State{Settings: map[string][]byte{reactor.SettingAttrs: raw}})
	for name, q := range convergeQueries {
		sid, err := core.Subscribe([]byte(q))
		require.NoError(t, err)
		w.subs[sid] = name
		if name == "all" {
			w.allSub = sid
		}
	}
	w.drain()
	for range steps {
		w.step()
		if !w.ok {
			return false
		}
	}
	w.settle()
	return w.ok
}

func (w *world) entity(i int) store.EntityID { return w.n.id(fmt.Sprintf("t%d", i)) }

// steps builds the steps of a write to e: a new unique title, and
// sometimes done.
func (w *world) steps(who string, e store.EntityID, title string) []store.Step {
	ops := []store.TxOp{{Action: "update", Namespace: "todos", ID: e, Args: map[string]any{"title": title}}}
	if w.r != nil && w.r.IntN(3) == 0 {
		ops[0].Args["done"] = w.r.IntN(2) == 0
	}
	steps, err := store.Transform(w.attrs, ops, nil, store.TransformOptions{})
	require.NoError(w.t, err, who)
	return steps
}

func (w *world) fail(format string, args ...any) {
	w.t.Errorf("seed %d: "+format, append([]any{w.seed}, args...)...)
	w.ok = false
}

// step takes one random action.
func (w *world) step() {
	w.seq++
	switch x := w.r.IntN(100); {
	case x < 20: // a local write
		w.localWrite()
	case x < 45: // deliver to the server
		if len(w.c2s) > 0 && w.sess != nil {
			m := w.c2s[0]
			w.c2s = w.c2s[1:]
			w.s2c = append(w.s2c, w.sess.handle(roundTrip(m))...)
		}
	case x < 70: // deliver to the client
		if len(w.s2c) > 0 {
			m := w.s2c[0]
			w.s2c = w.s2c[1:]
			if err := w.core.Step(roundTrip(m)); err != nil {
				w.fail("step %s: %v", m.Op(), err)
			}
		}
	case x < 80: // the server refreshes the session
		if w.sess != nil {
			if r := w.sess.refresh(w.r.IntN(4) == 0, false); r != nil {
				w.s2c = append(w.s2c, r)
			}
		}
	case x < 88: // another client writes
		e := w.entity(w.r.IntN(6))
		if w.r.IntN(8) == 0 {
			_ = w.srv.write([]store.Step{{Op: store.OpDeleteEntity, E: e, Namespace: "todos"}})
		} else {
			_ = w.srv.write(w.steps("other", e, fmt.Sprintf("o%d", w.seq)))
		}
	case x < 92: // the connection drops
		if w.sess != nil {
			w.disconnect(errors.New("connection reset"))
		}
	case x < 94: // "all" is unsubscribed, or subscribed again
		w.toggleAll()
	case x < 96: // a dial completes
		if w.dial {
			w.dial = false
			if w.r.IntN(4) == 0 {
				w.core.ConnClosed(errors.New("dial refused"))
			} else {
				w.sess = w.srv.newSession()
				w.core.ConnOpened()
			}
		}
	default: // time passes
		w.clock.Advance(time.Duration(w.r.IntN(1000)) * time.Millisecond)
		w.core.Tick()
	}
	w.drain()
	// What would subscribers see if every query were recomputed now? The
	// core skips recomputing where it judges nothing changed; a wrong
	// judgement must not hide a flicker from the check.
	w.core.RecomputeAll()
	w.drain()
}

func (w *world) localWrite() {
	e := w.entity(w.r.IntN(6))
	title := fmt.Sprintf("w%d", w.seq)
	var ops []store.TxOp
	switch w.r.IntN(10) {
	case 0: // must exist on the server: may be rejected
		ops = []store.TxOp{{Action: "update", Namespace: "todos", ID: e, Mode: store.ModeUpdate, Args: map[string]any{"title": title}}}
	case 1:
		ops = []store.TxOp{{Action: "delete", Namespace: "todos", ID: e}}
		title = ""
	default:
		ops = []store.TxOp{{Action: "update", Namespace: "todos", ID: e, Args: map[string]any{"title": title}}}
		if w.r.IntN(3) == 0 {
			ops[0].Args["done"] = w.r.IntN(2) == 0
		}
	}
	id, err := w.core.Transact(ops)
	if err != nil {
		w.fail("transact: %v", err)
		return
	}
	if title != "" {
		w.values[id] = write{e: e, title: title}
		w.track[id] = &visibility{}
	}
}

// toggleAll unsubscribes from "all", or subscribes to it again: its
// cached result comes back at once and must show every confirmed write
// of the client's that it showed before (issue #7).
func (w *world) toggleAll() {
	if w.allSub != 0 {
		w.core.Unsubscribe(w.allSub)
		delete(w.subs, w.allSub)
		w.allSub = 0
		return
	}
	sid, err := w.core.Subscribe([]byte(convergeQueries["all"]))
	require.NoError(w.t, err)
	w.subs[sid] = "all"
	w.allSub = sid
}

func (w *world) disconnect(err error) {
	w.sess, w.c2s, w.s2c = nil, nil, nil
	w.core.ConnClosed(err)
}

// drain acts on every Ready as a driver would and checks what the
// subscribers see.
func (w *world) drain() {
	for w.core.HasReady() {
		rd := w.core.Ready()
		for _, m := range rd.Messages {
			if w.sess != nil {
				w.c2s = append(w.c2s, m)
			}
		}
		if rd.Connect {
			w.dial = true
		}
		for _, s := range rd.Settled {
			if s.Err != nil {
				w.rejects++
				delete(w.track, s.MutationID)
			} else if v := w.track[s.MutationID]; v != nil {
				v.confirmed = true
			}
		}
		for i := range rd.Notifications {
			n := &rd.Notifications[i]
			name := w.subs[n.Sub]
			w.last[name] = n
			if name == "all" {
				w.observe(n)
			}
		}
		w.core.Advance(rd)
		if rd.Disconnect {
			w.sess, w.c2s, w.s2c = nil, nil, nil
			w.core.ConnClosed(nil)
		}
	}
}

// observe checks a notification of "all" against the confirmed writes.
func (w *world) observe(n *reactor.Notification) {
	if n.Err != nil {
		w.fail("all: %v", n.Err)
		return
	}
	titles := map[store.EntityID]string{}
	for _, e := range n.Result.Tops[0].Entities {
		for _, f := range e.Fields {
			if f.Attr.Label == "title" && len(f.Values) == 1 {
				titles[e.ID], _ = f.Values[0].AsString()
			}
		}
	}
	for id, v := range w.track {
		wr := w.values[id]
		present := titles[wr.e] == wr.title
		switch {
		case present && v.gone && v.confirmed && v.goneAtRej == w.rejects:
			w.fail("confirmed write %q to %s disappeared and came back (step %d)", wr.title, w.n.short(wr.e.String()), w.seq)
			v.visible, v.gone = true, false
		case present:
			v.visible, v.gone = true, false
		case v.visible:
			v.visible, v.gone, v.goneAtRej = false, true, w.rejects
		}
	}
}

// settle reconnects, delivers everything, refreshes, and checks that the
// client converged on the server.
func (w *world) settle() {
	if w.allSub == 0 {
		w.toggleAll()
		w.drain()
	}
	for range 1000 {
		if w.sess == nil {
			if w.dial {
				w.dial = false
				w.sess = w.srv.newSession()
				w.core.ConnOpened()
			} else {
				w.clock.Advance(reactor.DefaultMaxBackoff)
				w.core.Tick()
			}
			w.drain()
			continue
		}
		if len(w.c2s) == 0 && len(w.s2c) == 0 {
			if len(w.core.Pending()) == 0 || !w.hasUnconfirmed() {
				r := w.sess.refresh(false, true)
				w.s2c = append(w.s2c, r)
				for len(w.s2c) > 0 {
					m := w.s2c[0]
					w.s2c = w.s2c[1:]
					require.NoError(w.t, w.core.Step(roundTrip(m)))
					w.drain()
				}
				break
			}
		}
		for len(w.c2s) > 0 {
			m := w.c2s[0]
			w.c2s = w.c2s[1:]
			w.s2c = append(w.s2c, w.sess.handle(roundTrip(m))...)
		}
		for len(w.s2c) > 0 {
			m := w.s2c[0]
			w.s2c = w.s2c[1:]
			require.NoError(w.t, w.core.Step(roundTrip(m)))
			w.drain()
		}
	}
	if p := w.core.Pending(); len(p) != 0 {
		w.fail("%d mutations still pending after settling", len(p))
	}
	for name, q := range convergeQueries {
		want, err := w.srv.eval([]byte(q))
		require.NoError(w.t, err)
		got := w.last[name]
		if got == nil || got.Result == nil {
			w.fail("%s: no result", name)
			continue
		}
		if g, e := string(got.Result.AppendJSON(nil)), string(want.AppendJSON(nil)); g != e {
			w.fail("%s: client has\n%s\nserver has\n%s", name, w.n.short(g), w.n.short(e))
		}
	}
}

func (w *world) hasUnconfirmed() bool {
	for _, m := range w.core.Pending() {
		if m.TxID == 0 {
			return true
		}
	}
	return false
}
