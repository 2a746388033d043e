package querytest

import (
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/triplesync/triplesync/query"
	"github.com/triplesync/triplesync/store"
)

// NewSource builds the source under test holding exactly triples, typed by
// attrs. tb is the subtest the source serves: a source needing setup (a
// database) registers its cleanup there.
type NewSource func(tb testing.TB, attrs *store.Attrs, triples []store.Triple) query.Source

// TestSource is the contract suite of [query.Source]: every implementation
// runs it (the in-memory one in package query, the Postgres one in package
// pg, for the differential test). It builds a few data sets (a fixed one
// and random ones from seed), and for each:
//
//   - sends batches of random scans of every index and filter (entities,
//     values, ranges, likes, descending, after, limit) and compares every
//     answer, order and CreatedAt included, with [SliceSource]'s;
//   - checks that scans breaking the contract fail with query.ErrBadScan;
//   - evaluates random queries through the source and through SliceSource
//     and requires equal results, triples included.
//
// newSource is called once per data set. A Postgres source runs it as
//
//	func TestSource(t *testing.T) {
//		querytest.TestSource(t, querytest.Seed(t), func(tb testing.TB, attrs *store.Attrs, triples []store.Triple) query.Source {
//			db := pgtest.New(tb) // a fresh database, loaded with attrs and triples
//			...
//			return pg.NewSource(ctx, db)
//		})
//	}
func TestSource(t *testing.T, seed uint64, newSource NewSource) {
	t.Logf("querytest seed %d", seed)
	sets := []*Data{fixedData()}
	for i := range 3 {
		g := NewGen(seed + uint64(i))
		sets = append(sets, g.Data(g.Schema(), 14))
	}
	for i, d := range sets {
		t.Run(fmt.Sprintf("data%d", i), func(t *testing.T) {
			snap, err := store.Load(d.Attrs, d.Triples)
			require.NoError(t, err)
			all := snap.Triples() // normalised, deduplicated
			src := newSource(t, d.Attrs, all)
			ref := &SliceSource{Attrs: d.Attrs, Triples: all}
			g := NewGen(seed*31 + uint64(i))
			t.Run("scans", func(t *testing.T) { testScans(t, g, d, all, src, ref) })
			t.Run("bad-scans", func(t *testing.T) { testBadScans(t, d, src) })
			t.Run("queries", func(t *testing.T) { testQueries(t, g, d, src, ref) })
		})
	}
}

func testScans(t *testing.T, g *Gen, d *Data, all []store.Triple, src, ref query.Source) {
	for range 30 {
		batch := make([]query.Scan, 1+g.pick(12))
		for i := range batch {
			batch[i] = g.Scan(d, all)
		}
		want, err := ref.Scan(batch)
		require.NoError(t, err)
		got, err := src.Scan(batch)
		require.NoError(t, err, "batch %v", batch)
		require.Len(t, got, len(batch))
		for i := range batch {
			if !assert.Equal(t, nonNil(want[i]), nonNil(got[i]), "scan %d of %d: %s", i, len(batch), describeScan(d.Attrs, batch[i])) {
				return
			}
		}
	}
}

func nonNil(ts []store.Triple) []store.Triple {
	if ts == nil {
		return []store.Triple{}
	}
	return ts
}

func testBadScans(t *testing.T, d *Data, src query.Source) {
	var a, plain store.AttrID
	for _, x := range d.Attrs.All() {
		if x.IsRef() {
			a = x.ID
		} else {
			plain = x.ID
		}
	}
	bad := []query.Scan{
		{Index: query.EAV},                               // no entities
		{Index: query.AEV},                               // no attribute
		{Index: query.AVE},                               // no attribute
		{Index: query.VAE, A: a},                         // no values
		{Index: 0, E: []store.EntityID{}},                // no index
		{Index: 99, A: a},                                // unknown index
		{Index: query.AEV, A: a, Limit: -1},              // negative limit
		{Index: query.VAE, V: []store.Value{}},           // no attribute
		{Index: query.VAE, A: plain, V: []store.Value{}}, // not a ref attribute
	}
	for _, s := range bad {
		_, err := src.Scan([]query.Scan{s})
		assert.True(t, errors.Is(err, query.ErrBadScan), "Scan(%+v) = %v, want ErrBadScan", s, err)
	}
}

func testQueries(t *testing.T, g *Gen, d *Data, src, ref query.Source) {
	for range 40 {
		text := g.Query(d, 2)
		q, err := query.Parse(text, d.Attrs)
		require.NoError(t, err, "%s", text)
		want, err := query.Eval(ref, q)
		require.NoError(t, err, "%s", text)
		got, err := query.Eval(src, q)
		require.NoError(t, err, "%s", text)
		if !assert.Equal(t, string(want.AppendJSON(nil)), string(got.AppendJSON(nil)), "%s", text) ||
			!assert.Equal(t, want.Triples, got.Triples, "%s", text) {
			return
		}
	}
}

// Scan returns a random valid scan over d: every index, with random
// entity and value sets, ranges, likes, direction, after keys (existing
// triples and others) and limits.
func (g *Gen) Scan(d *Data, all []store.Triple) query.Scan {
	attrs := d.Attrs.All()
	pickAttr := func(refOnly bool) *store.Attr {
		var cands []*store.Attr
		for _, a := range attrs {
			if !refOnly || a.IsRef() {
				cands = append(cands, a)
			}
		}
		if len(cands) == 0 {
			return nil
		}
		return cands[g.pick(len(cands))]
	}
	entities := func() []store.EntityID {
		ids := []store.EntityID{}
		for range g.pick(6) {
			if len(all) > 0 && g.chance(0.8) {
				ids = append(ids, all[g.pick(len(all))].E)
			} else {
				ids = append(ids, g.id())
			}
		}
		slices.SortFunc(ids, store.EntityID.Compare)
		return slices.Compact(ids)
	}
	value := func() store.Value {
		if len(all) > 0 && g.chance(0.7) {
			return all[g.pick(len(all))].V
		}
		return g.value(store.TypeAny)
	}
	values := func() []store.Value {
		vs := []store.Value{}
		for range g.pick(5) {
			vs = append(vs, value())
		}
		slices.SortFunc(vs, store.Compare)
		return slices.Compact(vs)
	}
	var s query.Scan
	switch g.pick(4) {
	case 0:
		s.Index = query.EAV
		s.E = entities()
		if g.chance(0.6) {
			s.A = pickAttr(false).ID
		}
	case 1:
		s.Index = query.AEV
		s.A = pickAttr(false).ID
		if g.chance(0.3) {
			s.E = entities()
		}
	case 2:
		s.Index = query.AVE
		s.A = pickAttr(false).ID
		if g.chance(0.2) {
			s.E = entities()
		}
	default:
		a := pickAttr(true)
		if a == nil {
			return query.Scan{Index: query.AEV, A: pickAttr(false).ID}
		}
		s.Index = query.VAE
		s.A = a.ID
		ids := []store.EntityID{}
		if g.chance(0.5) {
			ids = entities()
		} else {
			for _, t := range all {
				if t.A == a.ID && g.chance(0.5) {
					if id, ok := t.V.AsEntityID(); ok {
						ids = append(ids, id)
					}
				}
			}
			slices.SortFunc(ids, store.EntityID.Compare)
			ids = slices.Compact(ids)
		}
		s.V = make([]store.Value, 0, len(ids))
		for _, id := range ids {
			s.V = append(s.V, store.Ref(id))
		}
	}
	if s.Index != query.VAE && g.chance(0.25) {
		s.V = values()
	}
	if g.chance(0.3) {
		if g.chance(0.7) {
			s.Range.Lo, s.Range.HasLo, s.Range.LoExclusive = value(), true, g.chance(0.5)
		}
		if g.chance(0.7) {
			s.Range.Hi, s.Range.HasHi, s.Range.HiExclusive = value(), true, g.chance(0.5)
		}
	}
	if g.chance(0.15) {
		pats := []string{"a%", "%b", "_", "%", "A%", "a_c", ""}
		l, err := query.NewLike(pats[g.pick(len(pats))], g.chance(0.4))
		if err == nil {
			s.Like = l
		}
	}
	s.Desc = g.chance(0.4)
	if g.chance(0.3) {
		var k store.TripleKey
		if len(all) > 0 && g.chance(0.8) {
			k = all[g.pick(len(all))].Key()
		} else {
			k = store.TripleKey{E: g.id(), A: s.A, V: value()}
		}
		if !s.A.IsZero() {
			k.A = s.A
		}
		s.After = &k
	}
	if g.chance(0.4) {
		s.Limit = 1 + g.pick(5)
	}
	return s
}

func describeScan(attrs *store.Attrs, s query.Scan) string {
	name := s.A.String()
	if a, ok := attrs.ByID(s.A); ok {
		name = a.Namespace + "." + a.Label
	}
	return fmt.Sprintf("%s A=%s E=%v V=%v Range=%+v Like=%v Desc=%v After=%v Limit=%d", s.Index, name, s.E, s.V, s.Range, s.Like, s.Desc, s.After, s.Limit)
}

// fixedData is a small hand-made data set: users and todos with every
// index flag, a link both ways, ties, nulls and a missing id triple.
func fixedData() *Data {
	id := func(b ...byte) store.EntityID {
		var x store.EntityID
		copy(x[:], b)
		return x
	}
	attrs := store.MustNewAttrs(
		store.Attr{ID: id(0xa, 1), Namespace: "users", Label: "id", Unique: true, Indexed: true},
		store.Attr{ID: id(0xa, 2), Namespace: "users", Label: "name", Type: store.TypeString, Indexed: true},
		store.Attr{ID: id(0xa, 3), Namespace: "users", Label: "email", Type: store.TypeString, Unique: true},
		store.Attr{ID: id(0xa, 4), Namespace: "todos", Label: "id"},
		store.Attr{ID: id(0xa, 5), Namespace: "todos", Label: "title", Type: store.TypeString},
		store.Attr{ID: id(0xa, 6), Namespace: "todos", Label: "rank", Type: store.TypeNumber, Indexed: true},
		store.Attr{ID: id(0xa, 7), Namespace: "todos", Label: "tags", Type: store.TypeString, Cardinality: store.CardinalityMany},
		store.Attr{ID: id(0xa, 8), Namespace: "todos", Label: "owner", Type: store.TypeRef, RefNamespace: "users", ReverseLabel: "todos", Indexed: true},
	)
	d := &Data{Attrs: attrs, Entities: map[string][]store.EntityID{}}
	add := func(e store.EntityID, a byte, v store.Value) {
		d.Triples = append(d.Triples, store.Triple{E: e, A: id(0xa, a), V: v, CreatedAt: 1700000000000 + int64(len(d.Triples))})
	}
	names := []string{"alice", "bob", "Bob", "carol"}
	for i, n := range names {
		u := id(1, byte(i))
		d.Entities["users"] = append(d.Entities["users"], u)
		add(u, 1, store.Ref(u))
		add(u, 2, store.String(n))
		if i%2 == 0 {
			add(u, 3, store.String(n+"@example.com"))
		}
	}
	for i := range 12 {
		td := id(2, byte(i))
		if i != 11 {
			d.Entities["todos"] = append(d.Entities["todos"], td)
			add(td, 4, store.Ref(td))
		} else {
			d.Ghosts = append(d.Ghosts, td)
		}
		add(td, 5, store.String(fmt.Sprintf("todo %c", 'a'+i%5)))
		switch i % 4 {
		case 0:
		case 1:
			add(td, 6, store.Null())
		default:
			add(td, 6, store.Number(float64(i%5)))
		}
		for j := range i % 3 {
			add(td, 7, store.String(fmt.Sprint("tag", j)))
		}
		if i%5 != 4 {
			add(td, 8, store.Ref(d.Entities["users"][i%len(names)]))
		}
	}
	return d
}
