package query_test

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/triplesync/triplesync/query"
	"github.com/triplesync/triplesync/store"
)

// The test schema: users with todos (todos.owner, read back as
// users.todos), todos in projects, and a self-link users.manager (read back
// as users.reports).
var testAttrs = store.MustNewAttrs(
	store.Attr{ID: aid(1), Namespace: "users", Label: "id", Unique: true, Indexed: true},
	store.Attr{ID: aid(2), Namespace: "users", Label: "name", Type: store.TypeString, Indexed: true},
	store.Attr{ID: aid(3), Namespace: "users", Label: "email", Type: store.TypeString, Unique: true},
	store.Attr{ID: aid(4), Namespace: "users", Label: "age", Type: store.TypeNumber},
	store.Attr{ID: aid(5), Namespace: "users", Label: "manager", Type: store.TypeRef, RefNamespace: "users", ReverseLabel: "reports"},
	store.Attr{ID: aid(10), Namespace: "todos", Label: "id", Unique: true, Indexed: true},
	store.Attr{ID: aid(11), Namespace: "todos", Label: "title", Type: store.TypeString},
	store.Attr{ID: aid(12), Namespace: "todos", Label: "done", Type: store.TypeBoolean},
	store.Attr{ID: aid(13), Namespace: "todos", Label: "rank", Type: store.TypeNumber, Indexed: true},
	store.Attr{ID: aid(14), Namespace: "todos", Label: "tags", Type: store.TypeString, Cardinality: store.CardinalityMany},
	store.Attr{ID: aid(15), Namespace: "todos", Label: "due", Type: store.TypeDate},
	store.Attr{ID: aid(16), Namespace: "todos", Label: "meta", Type: store.TypeJSON},
	store.Attr{ID: aid(17), Namespace: "todos", Label: "owner", Type: store.TypeRef, RefNamespace: "users", ReverseLabel: "todos"},
	store.Attr{ID: aid(18), Namespace: "todos", Label: "project", Type: store.TypeRef, RefNamespace: "projects", ReverseLabel: "todos"},
	store.Attr{ID: aid(20), Namespace: "projects", Label: "id", Unique: true, Indexed: true},
	store.Attr{ID: aid(21), Namespace: "projects", Label: "name", Type: store.TypeString},
)

func aid(n byte) store.AttrID { return store.AttrID{0xaa, n} }

func attr(ns, label string) *store.Attr {
	a, ok := testAttrs.ByName(ns, label)
	if !ok {
		panic(ns + "." + label)
	}
	return a
}

// Entities of the test data: users u0..u3, todos t0..t9, projects p0, p1.
func uid(i int) store.EntityID { return store.EntityID{1, byte(i)} }
func tid(i int) store.EntityID { return store.EntityID{2, byte(i)} }
func pid(i int) store.EntityID { return store.EntityID{3, byte(i)} }

// testTriples is the test data:
//
//	users  name   email           age  manager
//	u0     alice  alice@x.com     30   -
//	u1     bob    -               25   u0
//	u2     Bob    bob2@x.com      -    u0
//	u3     carol  -               40   u1
//
//	todos  title       done   rank  tags         due  owner  project
//	t0     "Buy milk"  false  5     home         d0   u0     p0
//	t1     "Call bob"  true   3     work,phone   -    u1     p0
//	t2     "Cook"      false  null  home         d1   u0     p1
//	t3     "call Mom"  false  1     -            -    u2     -
//	t4     "Bake 50%"  true   8     home,work    d0   -      p1
//	t5..t9 "Task i"    i odd  10+i  -            -    u3     -
//	meta: t0 {"p":1}, t1 [1,2]
//
// and one todo t10 without its id triple (not a member of todos).
func testTriples() []store.Triple {
	var ts []store.Triple
	add := func(e store.EntityID, ns, label string, v any) {
		val, err := store.FromAny(v)
		if err != nil {
			panic(err)
		}
		ts = append(ts, store.Triple{E: e, A: attr(ns, label).ID, V: val, CreatedAt: 1700000000000})
	}
	for i, u := range []struct {
		name, email string
		age         any
		manager     int
	}{{"alice", "alice@x.com", 30, -1}, {"bob", "", 25, 0}, {"Bob", "bob2@x.com", nil, 0}, {"carol", "", 40, 1}} {
		add(uid(i), "users", "id", uid(i).String())
		add(uid(i), "users", "name", u.name)
		if u.email != "" {
			add(uid(i), "users", "email", u.email)
		}
		if u.age != nil {
			add(uid(i), "users", "age", u.age)
		}
		if u.manager >= 0 {
			add(uid(i), "users", "manager", uid(u.manager).String())
		}
	}
	for i := range 2 {
		add(pid(i), "projects", "id", pid(i).String())
		add(pid(i), "projects", "name", fmt.Sprint("project", i))
	}
	todos := []struct {
		title string
		done  bool
		rank  any
		tags  []string
		due   any
		owner int
		proj  int
	}{
		{"Buy milk", false, 5, []string{"home"}, 1000, 0, 0},
		{"Call bob", true, 3, []string{"work", "phone"}, nil, 1, 0},
		{"Cook", false, "null", []string{"home"}, 2000, 0, 1},
		{"call Mom", false, 1, nil, nil, 2, -1},
		{"Bake 50%", true, 8, []string{"home", "work"}, 1000, -1, 1},
	}
	for i := 5; i < 10; i++ {
		todos = append(todos, struct {
			title string
			done  bool
			rank  any
			tags  []string
			due   any
			owner int
			proj  int
		}{fmt.Sprint("Task ", i), i%2 == 1, 10 + i, nil, nil, 3, -1})
	}
	for i, td := range todos {
		add(tid(i), "todos", "id", tid(i).String())
		add(tid(i), "todos", "title", td.title)
		add(tid(i), "todos", "done", td.done)
		switch td.rank {
		case nil:
		case "null":
			add(tid(i), "todos", "rank", nil)
		default:
			add(tid(i), "todos", "rank", td.rank)
		}
		for _, tag := range td.tags {
			add(tid(i), "todos", "tags", tag)
		}
		if td.due != nil {
			add(tid(i), "todos", "due", td.due)
		}
		if td.owner >= 0 {
			add(tid(i), "todos", "owner", uid(td.owner).String())
		}
		if td.proj >= 0 {
			add(tid(i), "todos", "project", pid(td.proj).String())
		}
	}
	add(tid(0), "todos", "meta", map[string]any{"p": 1})
	add(tid(1), "todos", "meta", []any{1, 2})
	// t10 holds a title but no id triple: it is not in todos.
	ts = append(ts, store.Triple{E: tid(10), A: attr("todos", "title").ID, V: store.String("Ghost"), CreatedAt: 1})
	return ts
}

// mustSnapshot loads the test data.
func mustSnapshot(tb testing.TB) *store.Snapshot {
	tb.Helper()
	s, err := store.Load(testAttrs, testTriples())
	require.NoError(tb, err)
	return s
}

// run parses and evaluates text over snap.
func run(tb testing.TB, snap *store.Snapshot, text string) *query.Result {
	tb.Helper()
	q, err := query.Parse([]byte(text), testAttrs)
	require.NoError(tb, err, text)
	res, err := query.Eval(query.SnapshotSource(snap), q)
	require.NoError(tb, err, text)
	return res
}

// ids returns the ids of a top page's entities as short names (u0, t3, ...).
func ids(p *query.Page) []string {
	out := []string{}
	for _, e := range p.Entities {
		out = append(out, name(e.ID))
	}
	return out
}

func name(id store.EntityID) string {
	prefix := map[byte]string{1: "u", 2: "t", 3: "p"}[id[0]]
	return fmt.Sprint(prefix, id[1])
}

type queryAttrs = store.Attrs

type attrSpec struct{ ns, label string }

// mustAttrs builds a registry of untyped attributes, with a link
// todos.owner to users.
func mustAttrs(specs ...attrSpec) *store.Attrs {
	var list []store.Attr
	for i, s := range specs {
		list = append(list, store.Attr{ID: store.AttrID{0xbb, byte(i)}, Namespace: s.ns, Label: s.label})
	}
	list = append(list, store.Attr{ID: store.AttrID{0xbb, 0xff}, Namespace: "todos", Label: "owner", Type: store.TypeRef,
		RefNamespace: "users", ReverseLabel: "todos"})
	return store.MustNewAttrs(list...)
}
