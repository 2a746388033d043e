package invalidator_test

import (
	"crypto/sha256"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/triplesync/triplesync/invalidator"
	"github.com/triplesync/triplesync/query"
	"github.com/triplesync/triplesync/store"
	"github.com/triplesync/triplesync/topics"
)

// cursorRE matches the page info's cursors, which are long and opaque.
var cursorRE = regexp.MustCompile(`"(start|end)Cursor":"[^"]*"`)

var update = flag.Bool("update", false, "rewrite testdata/*.txt with the actual output")

// TestGolden runs the scenario transcripts in testdata/*.txt. Each block
// is a command line, input lines, "----" and the expected output, ended by
// a blank line; lines starting with "#" between blocks are comments. Run
// with -update to rewrite the expected output (and read the diff before
// committing it). Commands:
//
//	schema                       input: "ns.label type [one|many] [unique] [indexed] [-> ns.reverse]" per attr
//	load                         input: steps (see transact), applied without the invalidator
//	subscribe <session> <query>  input: the query's JSON the first time a query name is used
//	run <session> <query>        evaluate now and refine with the session's ticket
//	transact [tx=N]              input: "add e ns.label json", "retract e ns.label json",
//	                             "delete e ns", "add-attr ns.label type [one|many]"
//	stale <session>              drain the session's stale queries (tickets kept for run)
//	unsubscribe <session> <query>, remove-session <session>, reset [tx=N], topics <query>
//
// Entities and attributes are named; the transcript shows names, not ids.
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

// golden is one transcript's world.
type golden struct {
	t       *testing.T
	inv     *invalidator.Invalidator
	snap    *store.Snapshot
	names   map[string]string // id string -> name
	queries map[string]string // query name -> JSON
	keys    map[invalidator.QueryKey]string
	tickets map[string]invalidator.Ticket // "session/query" -> ticket for the next run
	sess    map[string]invalidator.SessionID
	now     int64
}

// nameID returns the deterministic id of a name.
func (g *golden) nameID(name string) store.EntityID {
	sum := sha256.Sum256([]byte(name))
	var id store.EntityID
	copy(id[:], sum[:])
	id[6] = id[6]&0x0f | 0x40
	id[8] = id[8]&0x3f | 0x80
	g.names[id.String()] = name
	return id
}

func (g *golden) session(name string) invalidator.SessionID {
	if s, ok := g.sess[name]; ok {
		return s
	}
	s := invalidator.SessionID(len(g.sess) + 1)
	g.sess[name] = s
	return s
}

func (g *golden) sessionName(s invalidator.SessionID) string {
	for n, x := range g.sess {
		if x == s {
			return n
		}
	}
	return fmt.Sprint(s)
}

// short replaces ids by names.
func (g *golden) short(s string) string {
	pairs := make([]string, 0, 4*len(g.names))
	for id, n := range g.names {
		pairs = append(pairs, `"`+id+`"`, n, id, n)
	}
	return strings.NewReplacer(pairs...).Replace(s)
}

func (g *golden) attr(label string) *store.Attr {
	ns, l, ok := strings.Cut(label, ".")
	require.True(g.t, ok, "attribute %q is ns.label", label)
	a, ok := g.snap.Attrs().ByName(ns, l)
	require.True(g.t, ok, "unknown attribute %q", label)
	return a
}

func runGolden(t *testing.T, file string) {
	data, err := os.ReadFile(file)
	require.NoError(t, err)
	g := &golden{t: t, inv: invalidator.New(), snap: store.NewSnapshot(nil), names: map[string]string{},
		queries: map[string]string{}, keys: map[invalidator.QueryKey]string{}, tickets: map[string]invalidator.Ticket{},
		sess: map[string]invalidator.SessionID{}, now: 1000}
	g.names[topics.SchemaAttr.String()] = "schema"
	blocks := parseBlocks(t, string(data))
	var rewritten strings.Builder
	for i := range blocks {
		b := &blocks[i]
		for _, c := range b.comments {
			rewritten.WriteString(c + "\n")
		}
		if b.cmd == "" {
			continue
		}
		got := g.run(b)
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

func (g *golden) run(b *block) []string {
	t := g.t
	f := strings.Fields(b.cmd)
	arg := func(i int) string {
		require.Greater(t, len(f), i, "%s: missing argument", b.cmd)
		return f[i]
	}
	txID := func() store.TxID {
		for _, x := range f[1:] {
			if v, ok := strings.CutPrefix(x, "tx="); ok {
				n, err := strconv.ParseInt(v, 10, 64)
				require.NoError(t, err)
				return store.TxID(n)
			}
		}
		return 0
	}
	switch f[0] {
	case "schema":
		var list []store.Attr
		for _, l := range b.input {
			list = append(list, g.parseAttr(l))
		}
		attrs, err := store.NewAttrs(list...)
		require.NoError(t, err)
		g.snap = store.NewSnapshot(attrs)
		return []string{fmt.Sprintf("%d attributes", attrs.Len())}
	case "load":
		next, c := g.apply(b.input)
		g.snap = next
		return []string{fmt.Sprintf("%d triples", len(c.Triples))}
	case "subscribe":
		s, qn := arg(1), arg(2)
		if len(b.input) > 0 {
			g.queries[qn] = strings.Join(b.input, "\n")
		}
		q := g.parse(qn)
		key := invalidator.QueryKey{Query: q.Text()}
		g.keys[key] = qn
		before := g.inv.Stats().Registrations
		ticket, err := g.inv.Subscribe(g.session(s), key, invalidator.PlanOf(q))
		require.NoError(t, err)
		g.tickets[s+"/"+qn] = ticket
		out := []string{fmt.Sprintf("ticket %d, registrations %d -> %d", ticket, before, g.inv.Stats().Registrations)}
		if pl := invalidator.PlanOf(q); pl.Filter != nil {
			out = append(out, "fine filter on "+g.short(pl.Filter.Attr.String()))
		}
		return append(out, g.topics(key)...)
	case "run":
		s, qn := arg(1), arg(2)
		q := g.parse(qn)
		res, err := query.Eval(query.SnapshotSource(g.snap), q)
		require.NoError(t, err)
		key := invalidator.QueryKey{Query: q.Text()}
		ok, err := g.inv.Refine(key, g.tickets[s+"/"+qn], invalidator.RefinementOf(q, res))
		require.NoError(t, err)
		tree := cursorRE.ReplaceAllString(string(res.AppendJSON(nil)), `"${1}Cursor":"…"`)
		out := []string{"result " + g.short(tree), fmt.Sprintf("refined %v", ok)}
		return append(out, g.topics(key)...)
	case "transact":
		next, c := g.apply(b.input)
		g.snap = next
		c.TxID = txID()
		var out []string
		for _, tp := range topics.OfChange(&c) {
			out = append(out, "change "+g.short(tp.String()))
		}
		return append(out, g.woken(g.inv.Apply(&c)))
	case "reset":
		return []string{g.woken(g.inv.MarkAllStale(txID()))}
	case "stale":
		s := arg(1)
		qs, asOf := g.inv.TakeStaleTickets(g.session(s))
		if len(qs) == 0 {
			return []string{"nothing stale"}
		}
		var names []string
		for _, sq := range qs {
			qn := g.keys[sq.Key]
			names = append(names, qn)
			g.tickets[s+"/"+qn] = sq.Ticket
		}
		slices.Sort(names)
		return []string{fmt.Sprintf("stale %s as of tx %d", strings.Join(names, " "), asOf)}
	case "unsubscribe":
		q := g.parse(arg(2))
		g.inv.Unsubscribe(g.session(arg(1)), invalidator.QueryKey{Query: q.Text()})
		return []string{fmt.Sprintf("registrations %d, subscriptions %d", g.inv.Stats().Registrations, g.inv.Stats().Subscriptions)}
	case "remove-session":
		g.inv.RemoveSession(g.session(arg(1)))
		return []string{fmt.Sprintf("registrations %d, subscriptions %d", g.inv.Stats().Registrations, g.inv.Stats().Subscriptions)}
	case "topics":
		q := g.parse(arg(1))
		return g.topics(invalidator.QueryKey{Query: q.Text()})
	}
	t.Fatalf("unknown command %q", b.cmd)
	return nil
}

func (g *golden) woken(ss []invalidator.SessionID) string {
	if len(ss) == 0 {
		return "woken: none"
	}
	var names []string
	for _, s := range ss {
		names = append(names, g.sessionName(s))
	}
	slices.Sort(names)
	return "woken: " + strings.Join(names, " ")
}

func (g *golden) topics(key invalidator.QueryKey) []string {
	var out []string
	for _, tp := range g.inv.Topics(key) {
		out = append(out, "  "+g.short(tp.String()))
	}
	if out == nil {
		return []string{"  (not registered)"}
	}
	return out
}

func (g *golden) parse(qn string) *query.Query {
	text, ok := g.queries[qn]
	require.True(g.t, ok, "query %s was never given", qn)
	// Entity names in the query text stand for their ids.
	for id, n := range g.names {
		text = strings.ReplaceAll(text, `"@`+n+`"`, `"`+id+`"`)
	}
	q, err := query.Parse([]byte(text), g.snap.Attrs())
	require.NoError(g.t, err, "parse %s", qn)
	return q
}

// parseAttr parses "ns.label type [one|many] [unique] [indexed] [-> ns.reverse]".
func (g *golden) parseAttr(l string) store.Attr {
	f := strings.Fields(l)
	ns, label, _ := strings.Cut(f[0], ".")
	typ, err := store.ParseValueType(f[1])
	require.NoError(g.t, err)
	a := store.Attr{ID: g.nameID(f[0]), Namespace: ns, Label: label, Type: typ}
	for i := 2; i < len(f); i++ {
		switch f[i] {
		case "one":
		case "many":
			a.Cardinality = store.CardinalityMany
		case "unique":
			a.Unique = true
		case "indexed":
			a.Indexed = true
		case "->":
			a.RefNamespace, a.ReverseLabel, _ = strings.Cut(f[i+1], ".")
			i++
		default:
			g.t.Fatalf("attribute %q: unknown word %q", l, f[i])
		}
	}
	return a
}

// apply applies step lines one by one and returns the new snapshot and the
// change their diffs make.
func (g *golden) apply(lines []string) (*store.Snapshot, store.Change) {
	s := g.snap
	var c store.Change
	for _, l := range lines {
		f := strings.SplitN(l, " ", 4)
		var st store.Step
		switch f[0] {
		case "add", "retract":
			a := g.attr(f[2])
			var v store.Value
			if a.IsRef() || a.Label == store.IDLabel {
				v = store.Ref(g.nameID(f[3]))
			} else {
				var err error
				v, err = store.ParseValue([]byte(f[3]))
				require.NoError(g.t, err, l)
			}
			st = store.Step{Op: store.OpAddTriple, E: g.nameID(f[1]), A: a.ID, V: v}
			if f[0] == "retract" {
				st.Op = store.OpRetractTriple
			}
		case "delete":
			st = store.Step{Op: store.OpDeleteEntity, E: g.nameID(f[1]), Namespace: f[2]}
		case "add-attr":
			a := g.parseAttr(strings.TrimPrefix(l, "add-attr "))
			st = store.Step{Op: store.OpAddAttr, A: a.ID, Attr: a}
		default:
			g.t.Fatalf("unknown step %q", l)
		}
		g.now++
		next, err := s.Apply([]store.Step{st}, g.now)
		require.NoError(g.t, err, l)
		ts, as := diff(s, next)
		c.Triples = append(c.Triples, ts...)
		c.Attrs = append(c.Attrs, as...)
		s = next
	}
	return s, c
}
