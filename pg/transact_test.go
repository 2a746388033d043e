package pg_test

import (
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/triplesync/triplesync/pg"
	"github.com/triplesync/triplesync/query"
	"github.com/triplesync/triplesync/store"
)

// The fixture schema of the transact tests: users, todos owned by users
// (deleted with their owner), projects led by users (not deleted with
// them), and nodes whose parent link cascades, for cycles.
var (
	aUserID    = attrID(1)
	aEmail     = attrID(2)
	aName      = attrID(3)
	aTags      = attrID(4)
	aProfile   = attrID(5)
	aTodoID    = attrID(10)
	aTitle     = attrID(11)
	aRank      = attrID(12)
	aDue       = attrID(13)
	aOwner     = attrID(14)
	aMeta      = attrID(15)
	aProjectID = attrID(20)
	aLead      = attrID(21)
	aNodeID    = attrID(30)
	aParent    = attrID(31)

	fixtureAttrs = store.MustNewAttrs(
		store.Attr{ID: aUserID, Namespace: "users", Label: "id", Unique: true, Indexed: true},
		store.Attr{ID: aEmail, Namespace: "users", Label: "email", Type: store.TypeString, Unique: true},
		store.Attr{ID: aName, Namespace: "users", Label: "name", Type: store.TypeString, Indexed: true},
		store.Attr{ID: aTags, Namespace: "users", Label: "tags", Type: store.TypeString, Cardinality: store.CardinalityMany},
		store.Attr{ID: aProfile, Namespace: "users", Label: "profile", Type: store.TypeJSON},
		store.Attr{ID: aTodoID, Namespace: "todos", Label: "id", Unique: true},
		store.Attr{ID: aTitle, Namespace: "todos", Label: "title", Type: store.TypeString},
		store.Attr{ID: aRank, Namespace: "todos", Label: "rank", Type: store.TypeNumber, Indexed: true},
		store.Attr{ID: aDue, Namespace: "todos", Label: "due", Type: store.TypeDate},
		store.Attr{ID: aOwner, Namespace: "todos", Label: "owner", Type: store.TypeRef, RefNamespace: "users",
			ReverseLabel: "todos", OnDeleteCascade: true},
		store.Attr{ID: aMeta, Namespace: "todos", Label: "meta", Type: store.TypeJSON},
		store.Attr{ID: aProjectID, Namespace: "projects", Label: "id"},
		store.Attr{ID: aLead, Namespace: "projects", Label: "lead", Type: store.TypeRef, RefNamespace: "users", ReverseLabel: "leads"},
		store.Attr{ID: aNodeID, Namespace: "nodes", Label: "id"},
		store.Attr{ID: aParent, Namespace: "nodes", Label: "parent", Type: store.TypeRef, RefNamespace: "nodes",
			ReverseLabel: "children", OnDeleteCascade: true},
	)
)

func attrID(n byte) store.AttrID { return store.AttrID{0xa, 0, 0, 0, 0, 0, 0x40, n, 0x80} }

// ent returns the n-th entity of a test case, so cases sharing a database
// never touch each other's entities.
func ent(c, n int) store.EntityID {
	return store.EntityID{0xe, byte(c), 0, byte(n), 0, 0, 0x40, 0, 0x80}
}

func add(e store.EntityID, a store.AttrID, v any) store.Step {
	return store.Step{Op: store.OpAddTriple, E: e, A: a, V: val(v)}
}

func addMode(e store.EntityID, a store.AttrID, v any, m store.Mode) store.Step {
	st := add(e, a, v)
	st.Mode = m
	return st
}

func merge(e store.EntityID, a store.AttrID, v any) store.Step {
	return store.Step{Op: store.OpDeepMergeTriple, E: e, A: a, V: val(v)}
}

func retract(e store.EntityID, a store.AttrID, v any) store.Step {
	return store.Step{Op: store.OpRetractTriple, E: e, A: a, V: val(v)}
}

func del(e store.EntityID, ns string) store.Step {
	return store.Step{Op: store.OpDeleteEntity, E: e, Namespace: ns}
}

func lookup(a store.AttrID, v any) *store.LookupRef { return &store.LookupRef{A: a, V: val(v)} }

func val(v any) store.Value {
	switch x := v.(type) {
	case store.Value:
		return x
	case store.EntityID:
		return store.Ref(x)
	case string:
		if len(x) > 0 && (x[0] == '{' || x[0] == '[') {
			p, err := store.ParseValue([]byte(x))
			if err != nil {
				panic(err)
			}
			return p
		}
	}
	p, err := store.FromAny(v)
	if err != nil {
		panic(err)
	}
	return p
}

// harness runs transacts against Postgres and store.Apply against an
// in-memory model side by side, and requires after each that the tables
// hold exactly the model's triples and attributes, with the right flags,
// and that both failed the same way or neither did.
type harness struct {
	t     *testing.T
	db    *pg.DB
	model *store.Snapshot
	now   int64
}

func newHarness(t *testing.T, attrs *store.Attrs) *harness {
	h := &harness{t: t, db: mustOpenDB(t), model: store.NewSnapshot(nil), now: 1700000000000}
	var steps []store.Step
	for _, a := range attrs.List() {
		steps = append(steps, store.Step{Op: store.OpAddAttr, A: a.ID, Attr: a})
	}
	_, err := h.transact(t, steps...)
	require.NoError(t, err)
	return h
}

// transact applies steps both ways and compares.
func (h *harness) transact(t *testing.T, steps ...store.Step) (pg.TransactResult, error) {
	t.Helper()
	if !t.Failed() {
		defer func() {
			if t.Failed() {
				b, _ := store.EncodeSteps(nil, steps)
				t.Logf("steps: %s", b)
			}
		}()
	}
	h.now += 1000
	want, wantErr := h.model.Apply(steps, h.now)
	res, err := h.db.Transact(t.Context(), pg.TransactRequest{Steps: steps, Now: h.now})
	if wantErr != nil {
		require.Error(t, err, "store.Apply: %v", wantErr)
		require.Equal(t, wantErr.Error(), err.Error(), "the same error as store.Apply")
	} else {
		require.NoError(t, err)
		assert.Positive(t, res.TxID)
		h.model = want
	}
	h.requireSame(t)
	return res, err
}

// requireSame requires that the tables hold the model.
func (h *harness) requireSame(t *testing.T) {
	t.Helper()
	attrs, ts, err := pg.Dump(t.Context(), h.db.Pool())
	require.NoError(t, err)
	slices.SortFunc(ts, func(a, b store.Triple) int { return query.CompareIndex(query.EAV, a, b) })
	require.Equal(t, h.model.Attrs().List(), attrs.List(), "attrs")
	require.Equal(t, nonNil(h.model.Triples()), nonNil(ts), "triples")
}

// TestTransact_Steps runs every step kind and mode against the model: each
// case's setup, then its steps, which fail with wantErr at wantIndex or
// succeed; either way the tables must equal what store.Apply gives.
func TestTransact_Steps(t *testing.T) {
	h := newHarness(t, fixtureAttrs)
	p := func(n byte) store.AttrID { return store.AttrID{0xb, n} }
	tests := []struct {
		name      string
		setup     func(c int) []store.Step
		steps     func(c int) []store.Step
		wantErr   error
		wantIndex int
	}{
		{name: "upsert creates with its id triple", steps: func(c int) []store.Step {
			return []store.Step{add(ent(c, 1), aEmail, "a@x"), add(ent(c, 1), aName, "a")}
		}},
		{name: "cardinality one replaces", setup: func(c int) []store.Step {
			return []store.Step{add(ent(c, 1), aName, "old")}
		}, steps: func(c int) []store.Step { return []store.Step{add(ent(c, 1), aName, "new")} }},
		{name: "rewriting a value keeps it", setup: func(c int) []store.Step {
			return []store.Step{add(ent(c, 1), aName, "same")}
		}, steps: func(c int) []store.Step { return []store.Step{add(ent(c, 1), aName, "same")} }},
		{name: "cardinality many adds", setup: func(c int) []store.Step {
			return []store.Step{add(ent(c, 1), aTags, "x")}
		}, steps: func(c int) []store.Step {
			return []store.Step{add(ent(c, 1), aTags, "y"), add(ent(c, 1), aTags, "x")}
		}},
		{name: "create on an existing entity", setup: func(c int) []store.Step {
			return []store.Step{add(ent(c, 1), aName, "a")}
		}, steps: func(c int) []store.Step {
			return []store.Step{addMode(ent(c, 1), aTags, "t", store.ModeCreate)}
		}, wantErr: store.ErrExists},
		{name: "create with several steps", steps: func(c int) []store.Step {
			return []store.Step{addMode(ent(c, 1), aUserID, ent(c, 1), store.ModeCreate), addMode(ent(c, 1), aName, "n", store.ModeCreate)}
		}},
		{name: "update of a missing entity", steps: func(c int) []store.Step {
			return []store.Step{add(ent(c, 2), aName, "n"), addMode(ent(c, 1), aName, "n", store.ModeUpdate)}
		}, wantErr: store.ErrNotFound, wantIndex: 1},
		{name: "unique value held by a stored entity", setup: func(c int) []store.Step {
			return []store.Step{add(ent(c, 1), aEmail, fmt.Sprint("dup", c))}
		}, steps: func(c int) []store.Step {
			return []store.Step{add(ent(c, 2), aName, "two"), add(ent(c, 2), aEmail, fmt.Sprint("dup", c))}
		}, wantErr: store.ErrUniqueViolation, wantIndex: 1},
		{name: "unique value taken in the same batch", steps: func(c int) []store.Step {
			return []store.Step{add(ent(c, 1), aEmail, fmt.Sprint("b", c)), add(ent(c, 2), aEmail, fmt.Sprint("b", c))}
		}, wantErr: store.ErrUniqueViolation, wantIndex: 1},
		{name: "unique value freed and taken in one batch", setup: func(c int) []store.Step {
			return []store.Step{add(ent(c, 1), aEmail, fmt.Sprint("m", c))}
		}, steps: func(c int) []store.Step {
			return []store.Step{add(ent(c, 1), aEmail, fmt.Sprint("n", c)), add(ent(c, 2), aEmail, fmt.Sprint("m", c))}
		}},
		{name: "wrong value type", steps: func(c int) []store.Step {
			return []store.Step{add(ent(c, 1), aTitle, "t"), add(ent(c, 1), aRank, "high")}
		}, wantErr: store.ErrWrongType, wantIndex: 1},
		{name: "unknown attribute", steps: func(c int) []store.Step {
			return []store.Step{add(ent(c, 1), p(1), 1)}
		}, wantErr: store.ErrUnknownAttr},
		{name: "an id triple holds its own id", steps: func(c int) []store.Step {
			return []store.Step{add(ent(c, 1), aTodoID, ent(c, 2))}
		}, wantErr: store.ErrWrongType},
		{name: "both an id and a lookup", steps: func(c int) []store.Step {
			st := add(ent(c, 1), aName, "x")
			st.Lookup = lookup(aEmail, "x")
			return []store.Step{st}
		}, wantErr: store.ErrMalformedStep},
		{name: "dates are normalised", steps: func(c int) []store.Step {
			return []store.Step{add(ent(c, 1), aDue, "2024-01-02"), add(ent(c, 2), aDue, "2024-01-02T03:04:05Z")}
		}},
		{name: "deep merge", setup: func(c int) []store.Step {
			return []store.Step{add(ent(c, 1), aMeta, `{"a":1,"b":{"c":1},"z":[1]}`)}
		}, steps: func(c int) []store.Step {
			return []store.Step{merge(ent(c, 1), aMeta, `{"a":null,"b":{"d":2}}`), merge(ent(c, 2), aMeta, `{"new":true}`)}
		}},
		{name: "deep merge into a link", steps: func(c int) []store.Step {
			return []store.Step{merge(ent(c, 1), aOwner, `{"a":1}`)}
		}, wantErr: store.ErrWrongType},
		{name: "retract", setup: func(c int) []store.Step {
			return []store.Step{add(ent(c, 1), aTags, "x"), add(ent(c, 1), aTags, "y")}
		}, steps: func(c int) []store.Step {
			return []store.Step{retract(ent(c, 1), aTags, "x"), retract(ent(c, 1), aTags, "absent"), retract(ent(c, 9), aTags, "x")}
		}},
		{name: "lookup of a stored entity", setup: func(c int) []store.Step {
			return []store.Step{add(ent(c, 1), aEmail, fmt.Sprint("l", c))}
		}, steps: func(c int) []store.Step {
			return []store.Step{{Op: store.OpAddTriple, Lookup: lookup(aEmail, fmt.Sprint("l", c)), A: aName, V: val("found")}}
		}},
		{name: "lookup creates the entity", steps: func(c int) []store.Step {
			return []store.Step{{Op: store.OpAddTriple, Lookup: lookup(aEmail, fmt.Sprint("new", c)), A: aName, V: val("q")}}
		}},
		{name: "lookup in update mode finds nothing", steps: func(c int) []store.Step {
			return []store.Step{{Op: store.OpAddTriple, Lookup: lookup(aEmail, fmt.Sprint("none", c)), A: aName, V: val("q"), Mode: store.ModeUpdate}}
		}, wantErr: store.ErrNotFound},
		{name: "lookup through a non-unique attribute", steps: func(c int) []store.Step {
			return []store.Step{{Op: store.OpAddTriple, Lookup: lookup(aName, "n"), A: aName, V: val("q")}}
		}, wantErr: store.ErrInvalidLookup},
		{name: "value lookup", setup: func(c int) []store.Step {
			return []store.Step{add(ent(c, 1), aEmail, fmt.Sprint("o", c))}
		}, steps: func(c int) []store.Step {
			return []store.Step{
				{Op: store.OpAddTriple, E: ent(c, 2), A: aOwner, ValueLookup: lookup(aEmail, fmt.Sprint("o", c))},
				{Op: store.OpAddTriple, E: ent(c, 3), A: aOwner, ValueLookup: lookup(aEmail, fmt.Sprint("o-new", c))},
			}
		}},
		{name: "lookup of a value held after a change in the batch", setup: func(c int) []store.Step {
			return []store.Step{add(ent(c, 1), aEmail, fmt.Sprint("h", c))}
		}, steps: func(c int) []store.Step {
			return []store.Step{add(ent(c, 1), aEmail, fmt.Sprint("h2", c)), add(ent(c, 2), aEmail, fmt.Sprint("h", c)),
				{Op: store.OpAddTriple, Lookup: lookup(aEmail, fmt.Sprint("h", c)), A: aName, V: val("holder")}}
		}},
		{name: "delete removes links into it and cascades", setup: func(c int) []store.Step {
			u, todo, project := ent(c, 1), ent(c, 2), ent(c, 3)
			return []store.Step{add(u, aName, "u"), add(todo, aTitle, "t"), add(todo, aOwner, u), add(project, aLead, u),
				add(ent(c, 4), aTitle, "other"), add(ent(c, 4), aOwner, ent(c, 5))}
		}, steps: func(c int) []store.Step { return []store.Step{del(ent(c, 1), "users")} }},
		{name: "cascade over several levels and a cycle", setup: func(c int) []store.Step {
			n1, n2, n3, n4 := ent(c, 1), ent(c, 2), ent(c, 3), ent(c, 4)
			return []store.Step{add(n1, aParent, n3), add(n2, aParent, n1), add(n3, aParent, n2), add(n4, aNodeID, n4),
				add(ent(c, 5), aParent, n2), add(ent(c, 6), aParent, ent(c, 5))}
		}, steps: func(c int) []store.Step { return []store.Step{del(ent(c, 1), "nodes")} }},
		{name: "delete of an absent entity drops the links to it", setup: func(c int) []store.Step {
			return []store.Step{add(ent(c, 1), aLead, ent(c, 9)), add(ent(c, 2), aTitle, "t"), add(ent(c, 2), aOwner, ent(c, 9))}
		}, steps: func(c int) []store.Step { return []store.Step{del(ent(c, 9), "users")} }},
		{name: "delete by lookup", setup: func(c int) []store.Step {
			return []store.Step{add(ent(c, 1), aEmail, fmt.Sprint("d", c)), add(ent(c, 2), aOwner, ent(c, 1))}
		}, steps: func(c int) []store.Step {
			return []store.Step{{Op: store.OpDeleteEntity, Lookup: lookup(aEmail, fmt.Sprint("d", c)), Namespace: "users"}}
		}},
		{name: "delete then recreate in one batch", setup: func(c int) []store.Step {
			return []store.Step{add(ent(c, 1), aName, "a"), add(ent(c, 1), aTags, "t")}
		}, steps: func(c int) []store.Step {
			return []store.Step{del(ent(c, 1), "users"), addMode(ent(c, 1), aName, "b", store.ModeCreate)}
		}},
		{name: "attribute steps", steps: func(c int) []store.Step {
			a := store.Attr{ID: p(byte(c)), Namespace: "notes", Label: "body", Type: store.TypeString}
			return []store.Step{
				{Op: store.OpAddAttr, A: a.ID, Attr: a},
				add(ent(c, 1), a.ID, "hello"),
				{Op: store.OpUpdateAttr, A: aTitle, Attr: store.Attr{ID: aTitle, Namespace: "todos", Label: "title",
					Type: store.TypeString, Indexed: true}},
			}
		}},
		{name: "delete an attribute", setup: func(c int) []store.Step {
			return []store.Step{add(ent(c, 1), aProfile, `{"x":1}`), add(ent(c, 2), aProfile, `[1]`)}
		}, steps: func(c int) []store.Step {
			return []store.Step{add(ent(c, 1), aName, "kept"), {Op: store.OpDeleteAttr, A: aProfile}}
		}},
		{name: "update-attr that no longer fits", setup: func(c int) []store.Step {
			return []store.Step{add(ent(c, 1), aName, "same"), add(ent(c, 2), aName, "same")}
		}, steps: func(c int) []store.Step {
			return []store.Step{{Op: store.OpUpdateAttr, A: aName, Attr: store.Attr{ID: aName, Namespace: "users", Label: "name",
				Type: store.TypeString, Unique: true}}}
		}, wantErr: store.ErrUniqueViolation},
	}
	for i, tt := range tests {
		c := i + 1
		t.Run(tt.name, func(t *testing.T) {
			if tt.setup != nil {
				_, err := h.transact(t, tt.setup(c)...)
				require.NoError(t, err, "setup")
			}
			_, err := h.transact(t, tt.steps(c)...)
			if tt.wantErr == nil {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, tt.wantErr)
			var se *store.StepError
			require.True(t, errors.As(err, &se), "%v is a *store.StepError", err)
			assert.Equal(t, tt.wantIndex, se.Index, "failing step")
		})
	}
}
