package topics

import (
	"fmt"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/triplesync/triplesync/store"
)

// check verifies the index's internal invariants: every entry sits at its
// recorded position of its list, lists and buckets are where their keys say,
// empty map lists and buckets are gone, and the counters add up.
func (ix *Index) check() error {
	seen := map[*entry]bool{}
	checkEntry := func(en *entry) error {
		if seen[en] {
			return fmt.Errorf("entry listed twice")
		}
		seen[en] = true
		if ix.subs[en.sub.id] != en.sub {
			return fmt.Errorf("entry of unregistered sub %d", en.sub.id)
		}
		if en.idx != en.topic.Idx {
			return fmt.Errorf("entry caches index flags %v, topic has %v", en.idx, en.topic.Idx)
		}
		return nil
	}
	checkList := func(l *list, b *bucket, kind listKind) error {
		if l.b != b || l.kind != kind {
			return fmt.Errorf("list hangs in the wrong place")
		}
		for i, en := range l.items {
			if en.pos != i || en.list != l || en.sl != nil {
				return fmt.Errorf("entry at %d records position %d", i, en.pos)
			}
			if err := checkEntry(en); err != nil {
				return err
			}
		}
		return nil
	}
	entries := 0
	for e, l := range ix.byE {
		if l.e != e || len(l.items) == 0 {
			return fmt.Errorf("byE list %v: key %v, %d items", e, l.e, len(l.items))
		}
		if err := checkList(l, nil, listByE); err != nil {
			return err
		}
		for _, en := range l.items {
			if !en.topic.E.containsID(e) {
				return fmt.Errorf("topic %v hangs under entity %v", en.topic, e)
			}
		}
		if !ix.efilter.maybe(hashID(e)) {
			return fmt.Errorf("entity filter says no to %v, which has topics", e)
		}
		entries += len(l.items)
	}
	checkBucket := func(b *bucket) (int, error) {
		n := 0
		for v, l := range b.byV {
			if l.v != v || len(l.items) == 0 {
				return 0, fmt.Errorf("byV list %v: key %v, %d items", v, l.v, len(l.items))
			}
			if !ix.vfilter.maybe(ix.valueHash(b, v)) {
				return 0, fmt.Errorf("value filter says no to %v, which has topics", v)
			}
			if err := checkList(l, b, listByV); err != nil {
				return 0, err
			}
			n += len(l.items)
		}
		for _, sl := range []*sortedList{&b.lower, &b.upper} {
			if sl.b != b {
				return 0, fmt.Errorf("sorted list hangs in the wrong place")
			}
			for i, en := range sl.items {
				if en.sl != sl || en.list != nil {
					return 0, fmt.Errorf("sorted entry records the wrong list")
				}
				op, arg, _ := en.topic.V.Comparison()
				if sl.args[i] != arg || en.strict != (op == Gt || op == Lt) {
					return 0, fmt.Errorf("sorted entry at %d has %v strict=%v for %s %v", i, sl.args[i], en.strict, op, arg)
				}
				if i > 0 && store.Compare(sl.args[i-1], arg) > 0 {
					return 0, fmt.Errorf("sorted list out of order at %d", i)
				}
				if err := checkEntry(en); err != nil {
					return 0, err
				}
			}
			if len(sl.args) != len(sl.items) {
				return 0, fmt.Errorf("sorted list has %d args for %d items", len(sl.args), len(sl.items))
			}
			n += len(sl.items)
		}
		for k, l := range b.likes {
			if l.pre != k || len(l.items) == 0 {
				return 0, fmt.Errorf("like list %q: key %q, %d items", k, l.pre, len(l.items))
			}
			if err := checkList(l, b, listLike); err != nil {
				return 0, err
			}
			for _, en := range l.items {
				if p := en.topic.V.cmp.prefix; en.topic.V.cmp.op != Like || p[:min(len(p), likeKeyLen)] != k {
					return 0, fmt.Errorf("like entry %v under key %q", en.topic, k)
				}
			}
			n += len(l.items)
		}
		if err := checkList(&b.cmp, b, listCmp); err != nil {
			return 0, err
		}
		if err := checkList(&b.any, b, listAny); err != nil {
			return 0, err
		}
		n += len(b.cmp.items) + len(b.any.items)
		if n != b.n {
			return 0, fmt.Errorf("bucket counts %d entries, holds %d", b.n, n)
		}
		return n, nil
	}
	for a, b := range ix.attrs {
		if b.a != a || b.isAny {
			return fmt.Errorf("bucket %v under key %v", b.a, a)
		}
		if b.n == 0 {
			return fmt.Errorf("empty bucket %v kept", a)
		}
		n, err := checkBucket(b)
		if err != nil {
			return err
		}
		entries += n
	}
	nv := len(ix.anyAttr.byV)
	for _, b := range ix.attrs {
		nv += len(b.byV)
	}
	if nv != ix.nvkeys {
		return fmt.Errorf("nvkeys %d, buckets hold %d value keys", ix.nvkeys, nv)
	}
	n, err := checkBucket(ix.anyAttr)
	if err != nil {
		return err
	}
	entries += n
	topics, subEntries := 0, 0
	for id, s := range ix.subs {
		if s.id != id {
			return fmt.Errorf("sub %d under key %d", s.id, id)
		}
		topics += len(s.topics)
		subEntries += len(s.entries)
		for _, en := range s.entries {
			if !seen[en] {
				return fmt.Errorf("sub %d has an entry no list holds", id)
			}
		}
	}
	if entries != ix.nentry || subEntries != entries || topics != ix.ntopics {
		return fmt.Errorf("counts: %d entries in lists, %d in subs, nentry %d; %d topics, ntopics %d",
			entries, subEntries, ix.nentry, topics, ix.ntopics)
	}
	return nil
}

// fuzzReader turns fuzz bytes into choices; it yields zeros once drained.
type fuzzReader struct{ b []byte }

func (r *fuzzReader) next() byte {
	if len(r.b) == 0 {
		return 0
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c
}

func (r *fuzzReader) n(k int) int { return int(r.next()) % k }

var (
	fuzzIDs    = []store.EntityID{{1}, {2}, {3}, {4}}
	fuzzValues = []store.Value{store.Null(), store.Bool(false), store.Bool(true), store.Number(1), store.Number(5),
		store.String("a"), store.String("ab"), store.String("B"), store.Ref(store.EntityID{1}),
		store.String("abcdefghijk"), store.String("ab%"), store.String("abcdefghi")}
	fuzzOps = []Op{Gt, Gte, Lt, Lte, Like, ILike, Not, IsNull}
)

func (r *fuzzReader) idPart() Part {
	switch r.n(4) {
	case 0:
		return Any()
	case 1:
		return IDs()
	}
	var ids []store.EntityID
	for range 1 + r.n(3) {
		ids = append(ids, fuzzIDs[r.n(len(fuzzIDs))])
	}
	return IDs(ids...)
}

func (r *fuzzReader) vPart(cmp bool) Part {
	k := r.n(5)
	if !cmp && k >= 3 {
		k = 2
	}
	switch k {
	case 0:
		return Any()
	case 1:
		return Values()
	case 2:
		var vs []store.Value
		for range 1 + r.n(3) {
			vs = append(vs, fuzzValues[r.n(len(fuzzValues))])
		}
		return Values(vs...)
	}
	op := fuzzOps[r.n(len(fuzzOps))]
	var arg store.Value
	switch op {
	case Like, ILike:
		arg = store.String([]string{"a%", "_", "%b", "A%", "%", "ab%", "a", "abcdefghij%", "abcdefghi_%", "ab\\%"}[r.n(10)])
	case IsNull:
		arg = store.Bool(r.n(2) == 0)
	default:
		arg = fuzzValues[r.n(len(fuzzValues))]
	}
	return MustCmp(op, arg)
}

func (r *fuzzReader) topic(cmp bool) Topic {
	idx := store.IndexFlags(0)
	if r.n(3) == 0 {
		idx = store.IndexFlags(1 + r.n(31))
	}
	return Topic{Idx: idx, E: r.idPart(), A: r.idPart(), V: r.vPart(cmp)}
}

// FuzzMatch builds subscriptions and change topics from the fuzz bytes and
// checks that Index.Lookup reports exactly the subscriptions a naive scan
// with Topic.Match finds, before and after unregistering some, with the
// cache cold and warm.
func FuzzMatch(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{3, 1, 2, 2, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9})
	f.Add([]byte("\x08\x02\x01\x02\x02\x03\x00\x01\x02\x02\x04\x04\x02\x03\x02\x01\x01\x03\x02\x00\x02\x02"))
	f.Add([]byte("the quick brown fox jumps over the lazy dog, twice: the quick brown fox jumps over the lazy dog"))
	f.Fuzz(func(t *testing.T, data []byte) {
		r := &fuzzReader{b: data}
		ix := NewIndex(4 + r.n(3)) // a tiny cache, so eviction runs too
		subs := map[SubID][]Topic{}
		nsubs := 1 + r.n(12)
		for i := range nsubs {
			var ts []Topic
			for range r.n(4) {
				ts = append(ts, r.topic(true))
			}
			require.NoError(t, ix.Register(SubID(i), ts))
			subs[SubID(i)] = ts
		}
		var change []Topic
		for range 1 + r.n(3) {
			if r.n(4) == 0 {
				change = append(change, r.topic(r.n(3) == 0)) // wildcards and sets, as attr changes give; sometimes comparisons
				continue
			}
			// The shape a triple change gives.
			vs := []store.Value{fuzzValues[r.n(len(fuzzValues))]}
			if r.n(2) == 0 {
				vs = append(vs, fuzzValues[r.n(len(fuzzValues))])
			}
			change = append(change, Topic{Idx: store.IndexFlags(r.n(32)), E: ID(fuzzIDs[r.n(4)]), A: ID(fuzzIDs[r.n(4)]), V: Values(vs...)})
		}
		compare := func(stage string) {
			require.NoError(t, ix.check(), stage)
			var want []SubID
			for id, ts := range subs {
				if MatchAny(ts, change) {
					want = append(want, id)
				}
			}
			slices.Sort(want)
			for pass := range 2 { // the second pass hits the cache
				var got []SubID
				ix.Lookup(change, func(id SubID) { got = append(got, id) })
				n := len(got)
				slices.Sort(got)
				require.Equal(t, n, len(slices.Compact(got)), "%s pass %d: duplicate reports", stage, pass)
				require.Equal(t, want, got, "%s pass %d: change %v", stage, pass, change)
			}
		}
		compare("registered")
		for id := range subs {
			if r.n(2) == 0 {
				ix.Unregister(SubID(id))
				delete(subs, id)
			}
		}
		compare("after unregister")
		// Re-register one with fresh topics (Register replaces).
		if len(subs) > 0 {
			ts := []Topic{r.topic(true)}
			for id := range subs {
				require.NoError(t, ix.Register(id, ts))
				subs[id] = ts
				break
			}
		}
		compare("after replace")
		for id := range subs {
			ix.Unregister(id)
		}
		require.NoError(t, ix.check())
		require.Empty(t, ix.attrs, "buckets left after unregistering everything")
		require.Empty(t, ix.byE, "entity lists left after unregistering everything")
		require.Zero(t, ix.Stats().Entries)
	})
}

// TestKeyFilters checks that the entity and value filters never say no to
// a key with topics through growth, removals and the rebuilds they
// trigger, and that they say no to most others.
func TestKeyFilters(t *testing.T) {
	ix := NewIndex(0)
	id := func(i int) store.EntityID { return store.EntityID{byte(i), byte(i >> 8), byte(i >> 16), 7} }
	a := store.AttrID{0xa1}
	const n = 6000
	for i := range n {
		require.NoError(t, ix.Register(SubID(i), []Topic{{E: ID(id(i))}, {A: ID(a), V: Values(store.Number(float64(i)))}}))
	}
	for i := 0; i < n; i += 3 {
		if i%2 == 0 {
			ix.Unregister(SubID(i))
		}
	}
	for i := 0; i < n/2; i++ { // removals past the entity count force a rebuild
		ix.Unregister(SubID(i))
	}
	require.NoError(t, ix.check())
	no := 0
	for i := n; i < 2*n; i++ {
		if !ix.efilter.maybe(hashID(id(i))) {
			no++
		}
	}
	require.Greater(t, no, n*3/4, "the entity filter rules out most absent entities")
	no = 0
	b := ix.attrs[a]
	for i := n; i < 2*n; i++ {
		if !ix.vfilter.maybe(ix.valueHash(b, store.Number(float64(i)))) {
			no++
		}
	}
	require.Greater(t, no, n*3/4, "the value filter rules out most absent values")
	var got []SubID
	ix.Lookup([]Topic{{E: ID(id(n - 1)), A: ID(id(1)), V: Values(store.Null())}}, func(s SubID) { got = append(got, s) })
	require.Equal(t, []SubID{n - 1}, got)
	got = nil
	ix.Lookup([]Topic{{E: ID(id(1)), A: ID(a), V: Values(store.Number(n - 2))}}, func(s SubID) { got = append(got, s) })
	require.Equal(t, []SubID{n - 2}, got)
}
