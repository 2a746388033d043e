package store_test

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/triplesync/triplesync/store"
)

// The test schema:
//
//	users:  id, email (string, unique), name (string), age (number, indexed),
//	        born (date), meta (json), tags (string, many, indexed)
//	todos:  id, title (string, indexed), done (boolean), data (any),
//	        owner → users (one, reverse "todos", cascade),
//	        watchers → users (many, reverse "watching"), code (string, unique)
//	nodes:  id, next → nodes (one, reverse "prev", cascade)
var (
	aUsersID       = attrID(0x01)
	aUsersEmail    = attrID(0x02)
	aUsersName     = attrID(0x03)
	aUsersAge      = attrID(0x04)
	aUsersBorn     = attrID(0x05)
	aUsersMeta     = attrID(0x06)
	aUsersTags     = attrID(0x07)
	aTodosID       = attrID(0x11)
	aTodosTitle    = attrID(0x12)
	aTodosDone     = attrID(0x13)
	aTodosData     = attrID(0x14)
	aTodosOwner    = attrID(0x15)
	aTodosWatchers = attrID(0x16)
	aTodosCode     = attrID(0x17)
	aNodesID       = attrID(0x21)
	aNodesNext     = attrID(0x22)
)

func attrID(n int) store.AttrID {
	return store.MustParseEntityID(fmt.Sprintf("a0000000-0000-4000-8000-%012x", n))
}

// eid returns a fixed entity id for small n.
func eid(n int) store.EntityID {
	return store.MustParseEntityID(fmt.Sprintf("e0000000-0000-4000-8000-%012x", n))
}

func schema() []store.Attr {
	return []store.Attr{
		{ID: aUsersID, Namespace: "users", Label: "id"},
		{ID: aUsersEmail, Namespace: "users", Label: "email", Type: store.TypeString, Unique: true},
		{ID: aUsersName, Namespace: "users", Label: "name", Type: store.TypeString},
		{ID: aUsersAge, Namespace: "users", Label: "age", Type: store.TypeNumber, Indexed: true},
		{ID: aUsersBorn, Namespace: "users", Label: "born", Type: store.TypeDate},
		{ID: aUsersMeta, Namespace: "users", Label: "meta", Type: store.TypeJSON},
		{ID: aUsersTags, Namespace: "users", Label: "tags", Type: store.TypeString, Cardinality: store.CardinalityMany, Indexed: true},
		{ID: aTodosID, Namespace: "todos", Label: "id"},
		{ID: aTodosTitle, Namespace: "todos", Label: "title", Type: store.TypeString, Indexed: true},
		{ID: aTodosDone, Namespace: "todos", Label: "done", Type: store.TypeBoolean},
		{ID: aTodosData, Namespace: "todos", Label: "data"},
		{ID: aTodosOwner, Namespace: "todos", Label: "owner", Type: store.TypeRef, RefNamespace: "users", ReverseLabel: "todos", OnDeleteCascade: true},
		{ID: aTodosWatchers, Namespace: "todos", Label: "watchers", Type: store.TypeRef, Cardinality: store.CardinalityMany, RefNamespace: "users", ReverseLabel: "watching"},
		{ID: aTodosCode, Namespace: "todos", Label: "code", Type: store.TypeString, Unique: true},
		{ID: aNodesID, Namespace: "nodes", Label: "id"},
		{ID: aNodesNext, Namespace: "nodes", Label: "next", Type: store.TypeRef, RefNamespace: "nodes", ReverseLabel: "prev", OnDeleteCascade: true},
	}
}

func testAttrs(tb testing.TB) *store.Attrs {
	tb.Helper()
	attrs, err := store.NewAttrs(schema()...)
	require.NoError(tb, err)
	return attrs
}

// Step constructors keep the tables short.
func add(e store.EntityID, a store.AttrID, v store.Value) store.Step {
	return store.Step{Op: store.OpAddTriple, E: e, A: a, V: v}
}

func addMode(e store.EntityID, a store.AttrID, v store.Value, m store.Mode) store.Step {
	return store.Step{Op: store.OpAddTriple, E: e, A: a, V: v, Mode: m}
}

func merge(e store.EntityID, a store.AttrID, v store.Value) store.Step {
	return store.Step{Op: store.OpDeepMergeTriple, E: e, A: a, V: v}
}

func retract(e store.EntityID, a store.AttrID, v store.Value) store.Step {
	return store.Step{Op: store.OpRetractTriple, E: e, A: a, V: v}
}

func del(e store.EntityID, ns string) store.Step {
	return store.Step{Op: store.OpDeleteEntity, E: e, Namespace: ns}
}

func str(s string) store.Value         { return store.String(s) }
func num(f float64) store.Value        { return store.Number(f) }
func ref(e store.EntityID) store.Value { return store.Ref(e) }

func tr(e store.EntityID, a store.AttrID, v store.Value, at int64) store.Triple {
	return store.Triple{E: e, A: a, V: v, CreatedAt: at}
}

// mustApply applies steps and checks the result's invariants.
func mustApply(tb testing.TB, s *store.Snapshot, now int64, steps ...store.Step) *store.Snapshot {
	tb.Helper()
	next, err := s.Apply(steps, now)
	require.NoError(tb, err)
	require.NoError(tb, next.CheckInvariants())
	return next
}

// mustLoad loads triples under the test schema and checks invariants.
func mustLoad(tb testing.TB, triples ...store.Triple) *store.Snapshot {
	tb.Helper()
	s, err := store.Load(testAttrs(tb), triples)
	require.NoError(tb, err)
	require.NoError(tb, s.CheckInvariants())
	return s
}

// collect gathers what a scan yields.
func collect(scan func(fn func(store.Triple) bool)) []store.Triple {
	var out []store.Triple
	scan(func(t store.Triple) bool {
		out = append(out, t)
		return true
	})
	return out
}
