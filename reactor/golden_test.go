package reactor_test

import (
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/triplesync/triplesync/internal/wire"
	"github.com/triplesync/triplesync/reactor"
	"github.com/triplesync/triplesync/store"
)

var update = flag.Bool("update", false, "rewrite testdata/*.txt with the actual output")

// cursorRE matches page info cursors, which are long and opaque.
var cursorRE = regexp.MustCompile(`"(start|end)Cursor":"[^"]*"`)

// TestGolden runs the scenario transcripts in testdata/*.txt against a
// Core driven by hand: each block is a command line, input lines, "----"
// and everything the core asked for in response (every Ready until there
// is none), ended by a blank line; "#" lines between blocks are comments.
// Run with -update to rewrite the outputs, and read the diff before
// committing it. Commands:
//
//	config k=v ...               before the core exists: flush=<dur> max-entries=N
//	                             max-triples=N max-age=<dur> create-attrs=true token=x
//	schema                       input: "ns.label type [one|many] [unique] [indexed] [-> ns.reverse]"
//	storage                      input: what storage holds before load:
//	                               attrs
//	                               query <alias> processed=N used=<dur ago> <json>  (then "  e ns.label value" lines)
//	                               mutation <m> seq=N [tx=N]                          (then "  <op line>" lines)
//	load                         Core.Load with that storage
//	open | conn-closed [reason]  ConnOpened, ConnClosed
//	subscribe <sub> <alias> [json] / unsubscribe <sub>
//	transact <m>                 input: op lines "create|update|merge ns e k=json ...",
//	                             "delete ns e", "link|unlink ns e label=target"
//	recv init-ok | add-query-ok <alias> processed=N | refresh-ok processed=N [attrs] |
//	     transact-ok <m> tx=N | error <m|alias|init> <type> <message...> | remove-query-ok <alias>
//	                             add-query-ok input: "e ns.label value"; refresh-ok input:
//	                             "<alias> full" or "<alias> +|- e ns.label value"
//	tick [+dur]                  advance the clock, then Tick
//	close | pending | status
//
// A Disconnect in a Ready is answered with ConnClosed(nil) after
// Advance, as the Client does; Connect is answered only by an explicit
// open or conn-closed. Ids print as names.
func TestGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/*.txt")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) { runGolden(t, file) })
	}
}

type block struct {
	comments []string
	cmd      string
	input    []string
	output   []string
}

func parseBlocks(t *testing.T, data string) []block {
	var out []block
	lines := strings.Split(data, "\n")
	for i := 0; i < len(lines); {
		var b block
		for i < len(lines) && (strings.HasPrefix(lines[i], "#") || strings.TrimSpace(lines[i]) == "") {
			if strings.HasPrefix(lines[i], "#") {
				b.comments = append(b.comments, lines[i])
			}
			i++
		}
		if i == len(lines) {
			if len(b.comments) > 0 {
				out = append(out, b)
			}
			break
		}
		b.cmd = lines[i]
		i++
		for i < len(lines) && lines[i] != "----" {
			b.input = append(b.input, lines[i])
			i++
		}
		require.Less(t, i, len(lines), "block %q has no ----", b.cmd)
		i++
		for i < len(lines) && strings.TrimSpace(lines[i]) != "" {
			b.output = append(b.output, lines[i])
			i++
		}
		out = append(out, b)
	}
	return out
}

func runGolden(t *testing.T, file string) {
	data, err := os.ReadFile(file)
	require.NoError(t, err)
	g := &golden{t: t, n: newNames(), clock: newClock(), rnd: newRand(1), queries: map[string]string{},
		subs: map[string]reactor.SubID{}, subNames: map[reactor.SubID]string{}, state: &reactor.State{Settings: map[string][]byte{}}}
	g.cfg = reactor.Config{Now: g.clock.Now, Rand: g.rnd}
	var rewritten strings.Builder
	for _, b := range parseBlocks(t, string(data)) {
		for _, c := range b.comments {
			rewritten.WriteString(c + "\n")
		}
		if b.cmd == "" {
			continue
		}
		got := g.run(&b)
		if !*update {
			require.Equal(t, strings.Join(b.output, "\n"), strings.Join(got, "\n"), "%s: %s", file, b.cmd)
		}
		rewritten.WriteString(b.cmd + "\n")
		for _, l := range b.input {
			rewritten.WriteString(l + "\n")
		}
		rewritten.WriteString("----\n")
		for _, l := range got {
			rewritten.WriteString(l + "\n")
		}
		rewritten.WriteString("\n")
	}
	if *update {
		require.NoError(t, os.WriteFile(file, []byte(strings.TrimRight(rewritten.String(), "\n")+"\n"), 0o644))
	}
}

// golden is one transcript's world.
type golden struct {
	t        *testing.T
	n        *names
	clock    *fakeClock
	rnd      *rand.ChaCha8
	cfg      reactor.Config
	core     *reactor.Core
	attrs    []store.Attr
	registry *store.Attrs
	state    *reactor.State
	queries  map[string]string // alias -> JSON
	subs     map[string]reactor.SubID
	subNames map[reactor.SubID]string
	defined  []store.Attr // attributes transacts defined
	timer    time.Time
}

func (g *golden) mustCore() *reactor.Core {
	if g.core == nil {
		c, err := reactor.NewCore(g.cfg)
		require.NoError(g.t, err)
		g.core = c
	}
	return g.core
}

func (g *golden) run(b *block) []string {
	t := g.t
	f := fields(b.cmd)
	arg := func(i int) string {
		require.Greater(t, len(f), i, "%s: missing argument", b.cmd)
		return f[i]
	}
	kv := func(key string) string {
		for _, x := range f[1:] {
			if v, ok := strings.CutPrefix(x, key+"="); ok {
				return v
			}
		}
		return ""
	}
	var out []string
	switch f[0] {
	case "config":
		require.Nil(t, g.core, "config comes before the core is used")
		for _, x := range f[1:] {
			k, v, _ := strings.Cut(x, "=")
			switch k {
			case "flush":
				g.cfg.CacheFlushDelay = g.duration(v)
			case "max-age":
				g.cfg.CacheMaxAge = g.duration(v)
			case "max-entries":
				g.cfg.CacheMaxEntries = g.int(v)
			case "max-triples":
				g.cfg.CacheMaxTriples = g.int(v)
			case "create-attrs":
				g.cfg.CreateMissingAttrs = v == "true"
			case "token":
				g.cfg.Token = v
			default:
				t.Fatalf("config: unknown key %q", k)
			}
		}
		return []string{"ok"}
	case "schema":
		for _, l := range b.input {
			g.attrs = append(g.attrs, schemaAttr(t, g.n, l))
		}
		var err error
		g.registry, err = store.NewAttrs(g.attrs...)
		require.NoError(t, err)
		return []string{fmt.Sprintf("%d attributes", len(g.attrs))}
	case "storage":
		g.storage(b.input)
		return []string{fmt.Sprintf("%d queries, %d mutations", len(g.state.Queries), len(g.state.Mutations))}
	case "load":
		g.mustCore().Load(g.state)
	case "open":
		g.mustCore().ConnOpened()
	case "conn-closed":
		var err error
		if len(f) > 1 {
			err = errors.New(strings.Join(f[1:], " "))
		}
		g.mustCore().ConnClosed(err)
	case "subscribe":
		alias := arg(2)
		if len(f) > 3 {
			g.queries[alias] = strings.Join(f[3:], " ")
		}
		text, ok := g.queries[alias]
		require.True(t, ok, "query %s was never given", alias)
		qid, _, err := reactor.QueryID([]byte(text))
		require.NoError(t, err)
		g.n.set(qid, alias)
		sid, err := g.mustCore().Subscribe([]byte(text))
		if err != nil {
			return []string{"error: " + err.Error()}
		}
		g.subs[arg(1)] = sid
		g.subNames[sid] = arg(1)
	case "unsubscribe":
		sid, ok := g.subs[arg(1)]
		require.True(t, ok, "no subscription %s", arg(1))
		g.mustCore().Unsubscribe(sid)
	case "transact":
		ops := g.ops(b.input)
		id, err := g.mustCore().Transact(ops)
		if err != nil {
			out = append(out, "error: "+g.n.short(err.Error()))
		} else {
			g.n.set(id, arg(1))
			// Name the attributes the write defines, and let the
			// server know them when a refresh-ok says "attrs".
			for _, m := range g.core.Pending() {
				for _, st := range m.Steps {
					if st.Op == store.OpAddAttr && g.n.byID[st.Attr.ID.String()] == "" {
						g.n.set(st.Attr.ID.String(), st.Attr.Namespace+"."+st.Attr.Label)
						g.defined = append(g.defined, st.Attr)
					}
				}
			}
		}
	case "recv":
		if err := g.mustCore().Step(g.message(f[1:], b.input)); err != nil {
			out = append(out, "error: "+err.Error())
		}
	case "tick":
		if len(f) > 1 {
			g.clock.Advance(g.duration(strings.TrimPrefix(arg(1), "+")))
		}
		g.mustCore().Tick()
	case "close":
		g.mustCore().Close()
	case "pending":
		for _, m := range g.mustCore().Pending() {
			out = append(out, fmt.Sprintf("%s seq=%d tx=%d", g.n.short(m.ID), m.Seq, m.TxID))
		}
		if out == nil {
			out = []string{"none"}
		}
		return out
	case "status":
		return []string{g.status(g.mustCore().Status())}
	default:
		t.Fatalf("unknown command %q", f[0])
	}
	_ = kv
	out = append(out, g.drain()...)
	if len(out) == 0 {
		out = []string{"nothing"}
	}
	return out
}

func (g *golden) duration(s string) time.Duration {
	d, err := time.ParseDuration(s)
	require.NoError(g.t, err)
	return d
}

func (g *golden) int(s string) int {
	n, err := strconv.Atoi(s)
	require.NoError(g.t, err)
	return n
}

func (g *golden) txID(s string) store.TxID {
	n, err := strconv.ParseInt(s, 10, 64)
	require.NoError(g.t, err)
	return store.TxID(n)
}

func (g *golden) attr(label string) *store.Attr {
	ns, l, ok := strings.Cut(label, ".")
	require.True(g.t, ok, "attribute %q is ns.label", label)
	a, ok := g.registry.ByName(ns, l)
	if !ok {
		// One a transact defined that the server has not announced yet:
		// a result may carry its triples before a refresh-ok brings it.
		for i := range g.defined {
			if d := &g.defined[i]; d.Namespace == ns && d.Label == l {
				return d
			}
		}
	}
	require.True(g.t, ok, "unknown attribute %q", label)
	return a
}

// triple parses "e ns.label value"; a link's or id's value is an entity name.
func (g *golden) triple(l string) store.Triple {
	f := fields(strings.TrimSpace(l))
	require.Len(g.t, f, 3, "triple %q", l)
	a := g.attr(f[1])
	var v store.Value
	if a.IsRef() || a.Label == store.IDLabel {
		v = store.Ref(g.n.id(f[2]))
	} else {
		var err error
		v, err = store.ParseValue([]byte(f[2]))
		require.NoError(g.t, err, l)
	}
	return store.Triple{E: g.n.id(f[0]), A: a.ID, V: v, CreatedAt: 1000}
}

// ops parses op lines into TxOps.
func (g *golden) ops(lines []string) []store.TxOp {
	var ops []store.TxOp
	for _, l := range lines {
		f := fields(strings.TrimSpace(l))
		require.GreaterOrEqual(g.t, len(f), 3, "op %q", l)
		op := store.TxOp{Action: f[0], Namespace: f[1], ID: g.n.id(f[2]), Args: map[string]any{}}
		for _, x := range f[3:] {
			k, v, ok := strings.Cut(x, "=")
			require.True(g.t, ok, "op %q: %q is not label=value", l, x)
			if op.Action == "link" || op.Action == "unlink" {
				op.Args[k] = g.n.id(v)
				continue
			}
			val, err := store.ParseValue([]byte(v))
			require.NoError(g.t, err, "op %q", l)
			op.Args[k] = val.Any()
		}
		ops = append(ops, op)
	}
	return ops
}

func (g *golden) storage(lines []string) {
	for i := 0; i < len(lines); i++ {
		f := fields(lines[i])
		var sub []string
		for i+1 < len(lines) && strings.HasPrefix(lines[i+1], "  ") {
			sub = append(sub, lines[i+1])
			i++
		}
		kv := func(key string) string {
			for _, x := range f {
				if v, ok := strings.CutPrefix(x, key+"="); ok {
					return v
				}
			}
			return ""
		}
		switch f[0] {
		case "attrs":
			raw, err := jsonMarshal(g.attrs)
			require.NoError(g.t, err)
			g.state.Settings[reactor.SettingAttrs] = raw
		case "query":
			alias, text := f[1], f[len(f)-1]
			g.queries[alias] = text
			qid, canon, err := reactor.QueryID([]byte(text))
			require.NoError(g.t, err)
			g.n.set(qid, alias)
			cq := reactor.CachedQuery{ID: qid, Q: canon}
			if v := kv("processed"); v != "" {
				cq.ProcessedTxID = g.txID(v)
			}
			cq.LastUsed = g.clock.Now().UnixMilli()
			if v := kv("used"); v != "" {
				cq.LastUsed = g.clock.Now().Add(-g.duration(v)).UnixMilli()
			}
			for _, l := range sub {
				cq.Triples = append(cq.Triples, g.triple(l))
			}
			g.state.Queries = append(g.state.Queries, cq)
		case "mutation":
			id := g.n.id(f[1]).String()
			steps, err := store.Transform(g.registry, g.ops(sub), nil, store.TransformOptions{})
			require.NoError(g.t, err)
			m := reactor.Mutation{ID: id, Seq: uint64(g.int(kv("seq"))), Steps: steps, Created: g.clock.Now().UnixMilli()}
			if v := kv("tx"); v != "" {
				m.TxID = g.txID(v)
				m.Confirmed = m.Created
			}
			g.state.Mutations = append(g.state.Mutations, m)
		default:
			g.t.Fatalf("storage: unknown record %q", lines[i])
		}
	}
}

// message builds the server message a recv command describes.
func (g *golden) message(f []string, input []string) wire.Message {
	t := g.t
	kv := func(key string) string {
		for _, x := range f {
			if v, ok := strings.CutPrefix(x, key+"="); ok {
				return v
			}
		}
		t.Fatalf("recv %s: missing %s=", f[0], key)
		return ""
	}
	qid := func(alias string) string {
		id, ok := g.n.byName[alias]
		require.True(t, ok, "unknown query or mutation %q", alias)
		return id
	}
	switch f[0] {
	case "init-ok":
		return &wire.InitOK{SessionID: "session-1", Attrs: g.attrs}
	case "add-query-ok":
		m := &wire.AddQueryOK{QueryID: qid(f[1]), ProcessedTxID: g.txID(kv("processed")), Result: wire.Triples{}}
		for _, l := range input {
			m.Result = append(m.Result, g.triple(l))
		}
		return m
	case "refresh-ok":
		m := &wire.RefreshOK{ProcessedTxID: g.txID(kv("processed"))}
		if slices.Contains(f, "attrs") {
			g.attrs = append(g.attrs, g.defined...)
			g.defined = nil
			var err error
			g.registry, err = store.NewAttrs(g.attrs...)
			require.NoError(t, err)
			m.Attrs = g.attrs
		}
		idx := map[string]int{}
		for _, l := range input {
			lf := fields(l)
			i, ok := idx[lf[0]]
			if !ok {
				i = len(m.Computations)
				idx[lf[0]] = i
				m.Computations = append(m.Computations, wire.Computation{QueryID: qid(lf[0]), Added: wire.Triples{}})
			}
			c := &m.Computations[i]
			switch lf[1] {
			case "full":
				c.Full = true
			case "+":
				c.Added = append(c.Added, g.triple(strings.Join(lf[2:], " ")))
			case "-":
				c.Removed = append(c.Removed, g.triple(strings.Join(lf[2:], " ")).Key())
			default:
				t.Fatalf("refresh-ok line %q", l)
			}
		}
		return m
	case "transact-ok":
		return &wire.TransactOK{MutationID: qid(f[1]), TxID: g.txID(kv("tx"))}
	case "remove-query-ok":
		return &wire.RemoveQueryOK{QueryID: qid(f[1])}
	case "error":
		e := &wire.Error{Type: f[2], Status: 400, Message: strings.Join(f[3:], " ")}
		switch id := f[1]; {
		case id == "init":
			e.Status = 401
		case strings.HasPrefix(g.n.byName[id], "q"):
			e.QueryID = qid(id)
		default:
			e.MutationID = qid(id)
		}
		return e
	case "add-query":
		return &wire.AddQuery{}
	}
	t.Fatalf("recv: unknown message %q", f[0])
	return nil
}

// drain takes every Ready, prints it and advances, answering Disconnect
// as a driver would.
func (g *golden) drain() []string {
	var out []string
	for g.core != nil && g.core.HasReady() {
		rd := g.core.Ready()
		out = append(out, g.print(rd)...)
		g.core.Advance(rd)
		if rd.Disconnect {
			g.core.ConnClosed(nil)
		}
	}
	return out
}

func (g *golden) print(rd reactor.Ready) []string {
	var out []string
	b := rd.Batch
	for _, s := range b.PutSettings {
		out = append(out, "write setting "+s.Key)
	}
	for _, q := range b.PutQueries {
		out = append(out, fmt.Sprintf("write query %s processed=%d triples=%d", g.n.short(q.ID), q.ProcessedTxID, len(q.Triples)))
	}
	for _, m := range b.PutMutations {
		out = append(out, fmt.Sprintf("write mutation %s seq=%d tx=%d", g.n.short(m.ID), m.Seq, m.TxID))
	}
	for _, k := range b.DeleteQueries {
		out = append(out, "delete query "+g.n.short(k))
	}
	for _, k := range b.DeleteMutations {
		out = append(out, "delete mutation "+g.n.short(k))
	}
	for _, m := range rd.Messages {
		switch m := m.(type) {
		case *wire.Init:
			out = append(out, "send init")
		case *wire.AddQuery:
			out = append(out, "send add-query "+g.n.short(m.QueryID))
		case *wire.RemoveQuery:
			out = append(out, "send remove-query "+g.n.short(m.QueryID))
		case *wire.Transact:
			steps, err := store.EncodeSteps(nil, m.Steps)
			require.NoError(g.t, err)
			out = append(out, fmt.Sprintf("send transact %s %s", g.n.short(m.MutationID), g.n.short(string(steps))))
		default:
			out = append(out, "send "+m.Op())
		}
	}
	if rd.Disconnect {
		out = append(out, "disconnect")
	}
	if rd.Connect {
		out = append(out, "connect")
	}
	for _, s := range rd.Statuses {
		out = append(out, "status "+g.status(s))
	}
	for _, n := range rd.Notifications {
		line := "notify " + g.subNames[n.Sub]
		if n.FromCache {
			line += " cache"
		}
		if n.Err != nil {
			line += " error: " + g.n.short(n.Err.Error())
		} else {
			line += " " + cursorRE.ReplaceAllString(g.n.short(string(n.Result.AppendJSON(nil))), `"${1}Cursor":"…"`)
		}
		out = append(out, line)
	}
	for _, s := range rd.Settled {
		if s.Err != nil {
			out = append(out, fmt.Sprintf("settled %s error: %s", g.n.short(s.MutationID), g.n.short(s.Err.Error())))
		} else {
			out = append(out, fmt.Sprintf("settled %s tx=%d", g.n.short(s.MutationID), s.TxID))
		}
	}
	if !rd.Timer.Equal(g.timer) {
		g.timer = rd.Timer
		if rd.Timer.IsZero() {
			out = append(out, "timer none")
		} else {
			out = append(out, fmt.Sprintf("timer +%s", rd.Timer.Sub(g.clock.Now())))
		}
	}
	return out
}

func (g *golden) status(s reactor.Status) string {
	out := s.State.String()
	if s.Err != nil {
		out += " (" + s.Err.Error() + ")"
	}
	if s.Attempt > 0 {
		out += fmt.Sprintf(" attempt=%d", s.Attempt)
	}
	if !s.RetryAt.IsZero() {
		out += fmt.Sprintf(" retry=+%s", s.RetryAt.Sub(g.clock.Now()))
	}
	return out
}
