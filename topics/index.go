package topics

import (
	"fmt"
	"slices"

	"github.com/triplesync/triplesync/store"
)

// SubID identifies a subscription in an [Index]: in the server, one
// registered query.
type SubID uint64

// DefaultCacheSize is the number of lookups an [Index] made by
// [NewIndex] with a cache size of zero remembers.
const DefaultCacheSize = 1024

// Index is the subscription index: the registered topics of every
// subscription, arranged so that [Index.Lookup] finds the subscriptions a
// change's topics match without looking at the others.
//
// Topics hang first by attribute (one bucket per attribute id, and one for
// topics whose attribute is the wildcard), then, inside a bucket:
//
//   - a topic with an entity set hangs under each of its entities;
//   - else a topic with a value set hangs under each of its values;
//   - else a topic with a comparison sits on the bucket's comparison list;
//   - else (entity and value wildcards) on the bucket's wildcard list.
//
// A change topic [idx {e} {a} {v1 v2}] visits the buckets of a and of the
// wildcard attribute, and in each the entries under e, under v1 and v2, the
// comparison list and the wildcard list, checking each candidate with
// [Topic.Match]. So a lookup costs the candidates on the changed attributes
// (which the comparison and wildcard lists of a popular attribute dominate),
// never the number of subscriptions. Every subscription is reported at
// most once per lookup.
//
// Lookups of the single-triple topics changes produce are remembered in a
// bounded cache (the same value written twice, a flag toggled back and
// forth); every Register and Unregister bumps a generation counter, which
// invalidates every cached answer at once (the scheme of nats-server's
// sublist).
//
// An Index is not safe for concurrent use, Lookup included (it stamps
// subscriptions to deduplicate): the caller serialises access.
type Index struct {
	attrs   map[store.AttrID]*bucket
	anyAttr *bucket // topics whose attribute is the wildcard
	subs    map[SubID]*sub
	epoch   uint64 // stamp of the current Lookup, for deduplication
	tepoch  uint64 // stamp of the current cached topic lookup
	gen     uint64 // bumped by Register and Unregister; cache entries of older generations are void
	ntopics int
	nentry  int

	cacheSize int
	cache     map[cacheKey]cacheEntry
	hits      uint64
	misses    uint64
	scratch   []*sub
}

// sub is one registered subscription.
type sub struct {
	id      SubID
	topics  []Topic
	entries []*entry
	mark    uint64 // epoch of the last Lookup that reported it
	tmark   uint64 // tepoch of the last cached topic lookup that collected it
}

// entry is one placement of one topic in one list.
type entry struct {
	sub   *sub
	topic *Topic // into sub.topics
	list  *list
	pos   int // in list.items
}

// list is a list of entries that can lose one in O(1); a list under a map
// key remembers the key so it can leave the map when it empties.
type list struct {
	items []*entry
	b     *bucket
	kind  listKind
	e     store.EntityID
	v     store.Value
}

type listKind uint8

const (
	listByE listKind = iota
	listByV
	listCmp
	listAny
)

// bucket holds the topics of one attribute (or of the wildcard attribute).
type bucket struct {
	a     store.AttrID
	isAny bool
	byE   map[store.EntityID]*list
	byV   map[store.Value]*list
	cmp   list
	any   list
	n     int // entries
}

type cacheKey struct {
	idx    store.IndexFlags
	nv     uint8
	e, a   store.EntityID
	v0, v1 store.Value
}

type cacheEntry struct {
	gen  uint64
	subs []*sub
}

// NewIndex returns an empty index whose lookup cache remembers cacheSize
// answers: zero means [DefaultCacheSize], a negative size turns the cache
// off.
func NewIndex(cacheSize int) *Index {
	if cacheSize == 0 {
		cacheSize = DefaultCacheSize
	}
	ix := &Index{
		attrs:     make(map[store.AttrID]*bucket),
		subs:      make(map[SubID]*sub),
		cacheSize: max(cacheSize, 0),
	}
	ix.anyAttr = newBucket(store.AttrID{}, true)
	if ix.cacheSize > 0 {
		ix.cache = make(map[cacheKey]cacheEntry)
	}
	return ix
}

func newBucket(a store.AttrID, isAny bool) *bucket {
	b := &bucket{a: a, isAny: isAny, byE: make(map[store.EntityID]*list), byV: make(map[store.Value]*list)}
	b.cmp = list{b: b, kind: listCmp}
	b.any = list{b: b, kind: listAny}
	return b
}

// Len returns the number of registered subscriptions.
func (ix *Index) Len() int { return len(ix.subs) }

// Topics returns the topics registered for sub, or nil. The caller must not
// modify the slice.
func (ix *Index) Topics(id SubID) []Topic {
	if s := ix.subs[id]; s != nil {
		return s.topics
	}
	return nil
}

// Register sets sub's topics to ts, replacing any it had. It returns an
// error wrapping [ErrInvalidPart] for a topic that fails [Topic.Validate],
// and then registers nothing. Register copies the slice ts (not the parts,
// which are immutable).
func (ix *Index) Register(id SubID, ts []Topic) error {
	for i := range ts {
		if err := ts[i].Validate(); err != nil {
			return fmt.Errorf("topic %d: %w", i, err)
		}
	}
	ix.Unregister(id)
	s := &sub{id: id, topics: slices.Clone(ts)}
	for i := range s.topics {
		ix.place(s, &s.topics[i])
	}
	ix.subs[id] = s
	ix.ntopics += len(s.topics)
	ix.gen++
	return nil
}

// place hangs one topic of s in the buckets and lists it belongs to.
func (ix *Index) place(s *sub, t *Topic) {
	if t.E.isEmpty() || t.A.isEmpty() || t.V.isEmpty() {
		return // matches nothing
	}
	if ids, ok := t.A.IDSet(); ok {
		for _, a := range ids {
			b := ix.attrs[a]
			if b == nil {
				b = newBucket(a, false)
				ix.attrs[a] = b
			}
			ix.placeIn(b, s, t)
		}
		return
	}
	ix.placeIn(ix.anyAttr, s, t)
}

func (ix *Index) placeIn(b *bucket, s *sub, t *Topic) {
	switch {
	case t.E.kind == kindIDs:
		for _, e := range t.E.ids {
			l := b.byE[e]
			if l == nil {
				l = &list{b: b, kind: listByE, e: e}
				b.byE[e] = l
			}
			ix.add(l, s, t)
		}
	case t.V.kind == kindValues:
		for _, v := range t.V.vals {
			l := b.byV[v]
			if l == nil {
				l = &list{b: b, kind: listByV, v: v}
				b.byV[v] = l
			}
			ix.add(l, s, t)
		}
	case t.V.kind == kindCmp:
		ix.add(&b.cmp, s, t)
	default:
		ix.add(&b.any, s, t)
	}
}

func (ix *Index) add(l *list, s *sub, t *Topic) {
	en := &entry{sub: s, topic: t, list: l, pos: len(l.items)}
	l.items = append(l.items, en)
	s.entries = append(s.entries, en)
	l.b.n++
	ix.nentry++
}

// Unregister removes sub and its topics; it does nothing for an unknown
// sub.
func (ix *Index) Unregister(id SubID) {
	s := ix.subs[id]
	if s == nil {
		return
	}
	for _, en := range s.entries {
		l := en.list
		last := len(l.items) - 1
		moved := l.items[last]
		l.items[en.pos] = moved
		moved.pos = en.pos
		l.items[last] = nil
		l.items = l.items[:last]
		b := l.b
		b.n--
		ix.nentry--
		if last == 0 {
			switch l.kind {
			case listByE:
				delete(b.byE, l.e)
			case listByV:
				delete(b.byV, l.v)
			}
		}
		if b.n == 0 && !b.isAny {
			delete(ix.attrs, b.a)
		}
	}
	ix.ntopics -= len(s.topics)
	delete(ix.subs, id)
	ix.gen++
}

// Lookup calls fn once for every subscription with a topic that matches
// one of change (see [Topic.Match]), in no particular order. fn must not
// call Register or Unregister.
func (ix *Index) Lookup(change []Topic, fn func(SubID)) {
	ix.epoch++
	for i := range change {
		ix.lookup(&change[i], fn)
	}
}

func (ix *Index) emit(s *sub, fn func(SubID)) {
	if s.mark != ix.epoch {
		s.mark = ix.epoch
		fn(s.id)
	}
}

// lookup reports the subscriptions matching one change topic, through the
// cache when the topic is one a single triple change gives.
func (ix *Index) lookup(c *Topic, fn func(SubID)) {
	key, ok := ix.cacheKeyOf(c)
	if !ok {
		ix.visit(c, func(en *entry) {
			if en.topic.Match(*c) {
				ix.emit(en.sub, fn)
			}
		})
		return
	}
	if ce, hit := ix.cache[key]; hit && ce.gen == ix.gen {
		ix.hits++
		for _, s := range ce.subs {
			ix.emit(s, fn)
		}
		return
	}
	ix.misses++
	ix.tepoch++
	found := ix.scratch[:0]
	ix.visit(c, func(en *entry) {
		if en.sub.tmark != ix.tepoch && en.topic.Match(*c) {
			en.sub.tmark = ix.tepoch
			found = append(found, en.sub)
		}
	})
	for _, s := range found {
		ix.emit(s, fn)
	}
	if len(ix.cache) >= ix.cacheSize {
		for k := range ix.cache { // evict one entry, chosen by map order
			delete(ix.cache, k)
			break
		}
	}
	ix.cache[key] = cacheEntry{gen: ix.gen, subs: slices.Clone(found)}
	clear(found)
	ix.scratch = found[:0]
}

// cacheKeyOf returns the cache key of a single-triple change topic.
func (ix *Index) cacheKeyOf(c *Topic) (cacheKey, bool) {
	if ix.cache == nil || c.E.kind != kindIDs || len(c.E.ids) != 1 || c.A.kind != kindIDs ||
		len(c.A.ids) != 1 || c.V.kind != kindValues || len(c.V.vals) == 0 || len(c.V.vals) > 2 {
		return cacheKey{}, false
	}
	k := cacheKey{idx: c.Idx, e: c.E.ids[0], a: c.A.ids[0], v0: c.V.vals[0], nv: uint8(len(c.V.vals))}
	if k.nv == 2 {
		k.v1 = c.V.vals[1]
	}
	return k, true
}

// visit calls f for every entry that may match c: a superset of the
// matches, which f checks.
func (ix *Index) visit(c *Topic, f func(*entry)) {
	if ids, ok := c.A.IDSet(); ok {
		for _, a := range ids {
			if b := ix.attrs[a]; b != nil {
				visitBucket(b, c, f)
			}
		}
	} else {
		for _, b := range ix.attrs {
			visitBucket(b, c, f)
		}
	}
	if ix.anyAttr.n > 0 {
		visitBucket(ix.anyAttr, c, f)
	}
}

func visitBucket(b *bucket, c *Topic, f func(*entry)) {
	if len(b.byE) > 0 {
		if ids, ok := c.E.IDSet(); ok {
			for _, e := range ids {
				if l := b.byE[e]; l != nil {
					visitList(l, f)
				}
			}
		} else {
			for _, l := range b.byE {
				visitList(l, f)
			}
		}
	}
	if len(b.byV) > 0 {
		if vals, ok := c.V.ValueSet(); ok {
			for _, v := range vals {
				if l := b.byV[v]; l != nil {
					visitList(l, f)
				}
			}
		} else {
			for _, l := range b.byV {
				visitList(l, f)
			}
		}
	}
	visitList(&b.cmp, f)
	visitList(&b.any, f)
}

func visitList(l *list, f func(*entry)) {
	for _, en := range l.items {
		f(en)
	}
}

// Stats describes an index's size and its cache's use.
type Stats struct {
	Subs    int    // registered subscriptions
	Topics  int    // their topics
	Entries int    // placements of topics in lists (a set part places a topic once per element)
	Attrs   int    // attribute buckets
	Hits    uint64 // lookups answered from the cache
	Misses  uint64 // cacheable lookups that were not
}

// Stats returns the index's counters.
func (ix *Index) Stats() Stats {
	return Stats{Subs: len(ix.subs), Topics: ix.ntopics, Entries: ix.nentry, Attrs: len(ix.attrs), Hits: ix.hits, Misses: ix.misses}
}
