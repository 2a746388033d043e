package topics

import (
	"fmt"
	"hash/maphash"
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
// A topic with an entity set hangs under each of its entities in one map
// for the whole index: entity sets are the most selective part there is
// (the entities a query listed), and one placement per entity, whatever
// the attributes, keeps a query's footprint small. Every other topic hangs
// in the bucket of each of its attributes (or the bucket of the wildcard
// attribute), and inside it:
//
//   - a topic with a value set under each of its values;
//   - a one-sided range ($gt, $gte; $lt, $lte) in one of two lists sorted
//     by its argument, where the entries a value satisfies are a prefix
//     (or a suffix) found by binary search;
//   - a $like with a literal prefix under the prefix's first bytes (at most
//     likeKeyLen), so a string value finds it by looking up its own first
//     bytes;
//   - another comparison ($like without a prefix, $ilike, $not, $isNull)
//     on the bucket's comparison list;
//   - the rest (entity and value wildcards) on the bucket's wildcard list.
//
// A change topic [idx {e} {a} {v1 v2}] visits the entries under e, and in
// the buckets of a and of the wildcard attribute the entries under v1 and
// v2, the ranges v1 and v2 fall in, the comparison list and the wildcard
// list. Before probing the entity map or a value map, a one-hash Bloom
// filter of its keys rules out most keys without a cache miss. Each entry
// carries what its placement does not already prove (its index flags,
// whether its range is strict), so most candidates are confirmed without
// reading their topic. A lookup costs its matches plus the plain
// comparison lists of the changed attributes (and the $like entries
// sharing a value's first bytes), never the number of subscriptions. (A
// change topic with a wildcard entity, which attribute changes give,
// visits every entity-keyed topic.) Every subscription is reported at most
// once per lookup.
//
// Lookups of the single-triple topics changes produce are remembered in a
// bounded cache (the same value written twice, a flag toggled back and
// forth); every Register and Unregister bumps a generation counter, which
// invalidates every cached answer at once (the scheme of nats-server's
// sublist). A topic's answer is only cached the second time the topic is
// seen (a doorkeeper of hash fingerprints decides), so a stream of
// distinct changes costs one hash each and no allocation.
//
// An Index is not safe for concurrent use, Lookup included (it stamps
// subscriptions to deduplicate): the caller serialises access.
type Index struct {
	byE     map[store.EntityID]*list // topics with an entity set, under each entity
	efilter keyFilter                // which entities byE may hold, checked before probing it
	vfilter keyFilter                // which (attribute, value) pairs the buckets' byV may hold
	nvkeys  int                      // keys of all buckets' byV maps
	attrs   map[store.AttrID]*bucket
	anyAttr *bucket // topics whose attribute is the wildcard (and entity too)
	subs    map[SubID]*sub
	epoch   uint64 // stamp of the current Lookup, for deduplication
	tepoch  uint64 // stamp of the current cached topic lookup
	gen     uint64 // bumped by Register and Unregister; cache entries of older generations are void
	ntopics int
	nentry  int

	cacheSize int
	cache     map[uint64]*cacheEntry // by hash of the key
	ring      []uint64               // cached hashes in insertion order, for first-in first-out eviction
	ringPos   int
	seen      []uint64     // doorkeeper: hashes seen once, by hash modulo its length
	seed      maphash.Seed // for the cache and the value filter; hashes never decide an answer
	hits      uint64
	misses    uint64
	scratch   []*sub
	collect   bool        // visits gather into scratch for the cache
	fn        func(SubID) // the current Lookup's callback
}

// sub is one registered subscription.
type sub struct {
	id      SubID
	topics  []Topic
	entries []*entry
	mark    uint64 // epoch of the last Lookup that reported it
	tmark   uint64 // tepoch of the last cached topic lookup that collected it
}

// entry is one placement of one topic in one list. It carries copies of
// what a lookup checks, so that confirming a candidate seldom reads the
// topic itself.
type entry struct {
	sub    *sub
	topic  *Topic // into sub.topics
	list   *list  // nil when in a sorted list
	pos    int    // in list.items
	sl     *sortedList
	idx    store.IndexFlags
	strict bool // sorted: $gt or $lt (a value equal to the argument does not satisfy it)
}

// idxOK reports whether index sets a and b intersect (zero is any index).
func idxOK(a, b store.IndexFlags) bool { return a == 0 || b == 0 || a&b != 0 }

// list is a list of entries that can lose one in O(1); a list under a map
// key remembers the key so it can leave the map when it empties.
type list struct {
	items []*entry
	b     *bucket // nil for the index's entity map
	kind  listKind
	e     store.EntityID
	v     store.Value
	pre   string // listLike: the key
}

type listKind uint8

const (
	listByE listKind = iota
	listByV
	listCmp
	listAny
	listLike
)

// likeKeyLen is how many leading bytes of a $like prefix key its list.
const likeKeyLen = 8

// bucket holds the topics of one attribute (or of the wildcard attribute)
// that have no entity set.
type bucket struct {
	a        store.AttrID
	isAny    bool
	byV      map[store.Value]*list
	lower    sortedList            // $gt and $gte, by argument: a value matches a prefix
	upper    sortedList            // $lt and $lte, by argument: a value matches a suffix
	likes    map[string]*list      // $like with a literal prefix, by its first likeKeyLen bytes
	likeLens uint16                // bit k set: some key of likes has length k
	likeLenN [likeKeyLen + 1]int32 // keys of likes by length
	cmp      list                  // the other comparisons ($like without a prefix, $ilike, $not, $isNull)
	any      list
	n        int // entries
}

// sortedList holds one-sided comparisons ordered by their argument, so the
// entries a value satisfies are a prefix ($gt, $gte) or a suffix ($lt,
// $lte) found by binary search: a lookup costs its matches, not the list.
type sortedList struct {
	items []*entry
	args  []store.Value // the arguments of items, kept beside them so a search reads one array
	b     *bucket
}

// search returns the first index whose argument is >= v (or > v when
// after).
func (sl *sortedList) search(v store.Value, after bool) int {
	i, _ := slices.BinarySearchFunc(sl.args, v, func(a, v store.Value) int {
		c := store.Compare(a, v)
		if c == 0 && after {
			return -1
		}
		return c
	})
	return i
}

func (sl *sortedList) insert(en *entry) {
	arg := en.topic.V.cmp.arg
	i := sl.search(arg, true)
	sl.items = slices.Insert(sl.items, i, en)
	sl.args = slices.Insert(sl.args, i, arg)
}

func (sl *sortedList) remove(en *entry) {
	for i := sl.search(en.topic.V.cmp.arg, false); i < len(sl.items); i++ {
		if sl.items[i] == en {
			sl.items = slices.Delete(sl.items, i, i+1)
			sl.args = slices.Delete(sl.args, i, i+1)
			return
		}
	}
	panic("topics: sorted entry missing from its list")
}

type cacheKey struct {
	idx    store.IndexFlags
	nv     uint8
	e, a   store.EntityID
	v0, v1 store.Value
}

type cacheEntry struct {
	key  cacheKey
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
		byE:       make(map[store.EntityID]*list),
		attrs:     make(map[store.AttrID]*bucket),
		subs:      make(map[SubID]*sub),
		cacheSize: max(cacheSize, 0),
	}
	ix.anyAttr = newBucket(store.AttrID{}, true)
	ix.seed = maphash.MakeSeed()
	if ix.cacheSize > 0 {
		ix.cache = make(map[uint64]*cacheEntry)
		ix.seen = make([]uint64, 4*ix.cacheSize)
	}
	return ix
}

func newBucket(a store.AttrID, isAny bool) *bucket {
	b := &bucket{a: a, isAny: isAny, byV: make(map[store.Value]*list), likes: make(map[string]*list)}
	b.cmp = list{b: b, kind: listCmp}
	b.any = list{b: b, kind: listAny}
	b.lower.b, b.upper.b = b, b
	return b
}

// entityHashes yields the hash of every entity in byE.
func (ix *Index) entityHashes(yield func(uint64)) {
	for e := range ix.byE {
		yield(hashID(e))
	}
}

// valueHash hashes a key of a bucket's byV map with its attribute.
func (ix *Index) valueHash(b *bucket, v store.Value) uint64 {
	return maphash.Comparable(ix.seed, bucketValue{b.a, b.isAny, v})
}

type bucketValue struct {
	a     store.AttrID
	isAny bool
	v     store.Value
}

// valueHashes yields the hash of every key of every bucket's byV map.
func (ix *Index) valueHashes(yield func(uint64)) {
	for _, b := range ix.attrs {
		for v := range b.byV {
			yield(ix.valueHash(b, v))
		}
	}
	for v := range ix.anyAttr.byV {
		yield(ix.valueHash(ix.anyAttr, v))
	}
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
// and then registers nothing. Register keeps ts (it points into it): the
// caller must not modify the slice afterwards. Parts are immutable and may
// be shared freely.
func (ix *Index) Register(id SubID, ts []Topic) error {
	for i := range ts {
		if err := ts[i].Validate(); err != nil {
			return fmt.Errorf("topic %d: %w", i, err)
		}
	}
	ix.Unregister(id)
	s := &sub{id: id, topics: ts}
	for i := range s.topics {
		ix.place(s, &s.topics[i])
	}
	ix.subs[id] = s
	ix.ntopics += len(s.topics)
	ix.gen++
	return nil
}

// place hangs one topic of s in the lists it belongs to.
func (ix *Index) place(s *sub, t *Topic) {
	if t.E.isEmpty() || t.A.isEmpty() || t.V.isEmpty() {
		return // matches nothing
	}
	if t.E.kind == kindIDs {
		for _, e := range t.E.ids {
			l := ix.byE[e]
			if l == nil {
				l = &list{kind: listByE, e: e}
				ix.byE[e] = l
				ix.efilter.add(hashID(e), len(ix.byE), ix.entityHashes)
			}
			ix.add(l, s, t)
		}
		return
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
	case t.V.kind == kindValues:
		for _, v := range t.V.vals {
			l := b.byV[v]
			if l == nil {
				l = &list{b: b, kind: listByV, v: v}
				b.byV[v] = l
				ix.nvkeys++
				ix.vfilter.add(ix.valueHash(b, v), ix.nvkeys, ix.valueHashes)
			}
			ix.add(l, s, t)
		}
	case t.V.kind == kindCmp && (t.V.cmp.op == Gt || t.V.cmp.op == Gte):
		ix.addSorted(&b.lower, s, t)
	case t.V.kind == kindCmp && (t.V.cmp.op == Lt || t.V.cmp.op == Lte):
		ix.addSorted(&b.upper, s, t)
	case t.V.kind == kindCmp && t.V.cmp.prefix != "":
		k := t.V.cmp.prefix[:min(len(t.V.cmp.prefix), likeKeyLen)]
		l := b.likes[k]
		if l == nil {
			l = &list{b: b, kind: listLike, pre: k}
			b.likes[k] = l
			b.likeLenN[len(k)]++
			b.likeLens |= 1 << len(k)
		}
		ix.add(l, s, t)
	case t.V.kind == kindCmp:
		ix.add(&b.cmp, s, t)
	default:
		ix.add(&b.any, s, t)
	}
}

func (ix *Index) add(l *list, s *sub, t *Topic) {
	en := &entry{sub: s, topic: t, list: l, pos: len(l.items), idx: t.Idx}
	l.items = append(l.items, en)
	s.entries = append(s.entries, en)
	if l.b != nil {
		l.b.n++
	}
	ix.nentry++
}

func (ix *Index) addSorted(sl *sortedList, s *sub, t *Topic) {
	op := t.V.cmp.op
	en := &entry{sub: s, topic: t, sl: sl, idx: t.Idx, strict: op == Gt || op == Lt}
	sl.insert(en)
	s.entries = append(s.entries, en)
	sl.b.n++
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
		var b *bucket
		if en.sl != nil {
			en.sl.remove(en)
			b = en.sl.b
		} else {
			l := en.list
			last := len(l.items) - 1
			moved := l.items[last]
			l.items[en.pos] = moved
			moved.pos = en.pos
			l.items[last] = nil
			l.items = l.items[:last]
			b = l.b
			if last == 0 {
				switch l.kind {
				case listByE:
					delete(ix.byE, l.e)
					ix.efilter.remove(len(ix.byE), ix.entityHashes)
				case listByV:
					delete(b.byV, l.v)
					ix.nvkeys--
					ix.vfilter.remove(ix.nvkeys, ix.valueHashes)
				case listLike:
					delete(b.likes, l.pre)
					if b.likeLenN[len(l.pre)]--; b.likeLenN[len(l.pre)] == 0 {
						b.likeLens &^= 1 << len(l.pre)
					}
				}
			}
		}
		ix.nentry--
		if b != nil {
			b.n--
			if b.n == 0 && !b.isAny {
				delete(ix.attrs, b.a)
			}
		}
	}
	ix.ntopics -= len(s.topics)
	delete(ix.subs, id)
	ix.gen++
}

// Lookup calls fn once for every subscription with a topic that matches
// one of change (see [Topic.Match]), in no particular order. fn must not
// call Register, Unregister or Lookup.
func (ix *Index) Lookup(change []Topic, fn func(SubID)) {
	ix.epoch++
	ix.fn = fn
	for i := range change {
		ix.lookup(&change[i])
	}
	ix.fn = nil
}

// found takes a subscription a visit found: reports it (once per Lookup)
// or, while collecting for the cache, gathers it (once per topic).
func (ix *Index) found(s *sub) {
	if ix.collect {
		if s.tmark != ix.tepoch {
			s.tmark = ix.tepoch
			ix.scratch = append(ix.scratch, s)
		}
		return
	}
	ix.emit(s)
}

func (ix *Index) emit(s *sub) {
	if s.mark != ix.epoch {
		s.mark = ix.epoch
		ix.fn(s.id)
	}
}

// lookup reports the subscriptions matching one change topic, through the
// cache when the topic is one a single triple change gives.
func (ix *Index) lookup(c *Topic) {
	if c.E.isEmpty() || c.A.isEmpty() || c.V.isEmpty() {
		return // matches nothing
	}
	key, ok := ix.cacheKeyOf(c)
	if !ok {
		ix.visit(c)
		return
	}
	h := maphash.Comparable(ix.seed, key)
	ce := ix.cache[h]
	if ce != nil && ce.gen == ix.gen && ce.key == key {
		ix.hits++
		for _, s := range ce.subs {
			ix.emit(s)
		}
		return
	}
	ix.misses++
	if slot := &ix.seen[h%uint64(len(ix.seen))]; *slot != h && ce == nil {
		*slot = h // first sighting: remember it, cache nothing yet
		ix.visit(c)
		return
	}
	ix.tepoch++
	ix.collect = true
	ix.visit(c)
	ix.collect = false
	for _, s := range ix.scratch {
		ix.emit(s)
	}
	if ce == nil {
		if len(ix.ring) < ix.cacheSize {
			ix.ring = append(ix.ring, h)
		} else { // evict the oldest
			delete(ix.cache, ix.ring[ix.ringPos])
			ix.ring[ix.ringPos] = h
			ix.ringPos = (ix.ringPos + 1) % len(ix.ring)
		}
		ce = &cacheEntry{}
		ix.cache[h] = ce
	}
	ce.key, ce.gen = key, ix.gen
	ce.subs = append(ce.subs[:0], ix.scratch...)
	clear(ix.scratch)
	ix.scratch = ix.scratch[:0]
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

// visit passes to found the subscription of every entry matching c (once
// per matching entry, so possibly more than once per subscription). c has
// no empty part.
//
// An entry found under a key of c already intersects c in the parts that
// key stands for, and a topic's other parts are wildcards by placement, so
// most entries need only their index flags checked. That holds when c's
// parts are sets or wildcards; a change topic with a comparison (never
// built from a change, but Lookup accepts any topic) is checked in full.
func (ix *Index) visit(c *Topic) {
	if c.E.kind == kindCmp || c.A.kind == kindCmp || c.V.kind == kindIDs || c.V.kind == kindCmp {
		ix.visitSlow(c)
		return
	}
	if ids, ok := c.E.IDSet(); ok {
		for _, e := range ids {
			if !ix.efilter.maybe(hashID(e)) {
				continue
			}
			if l := ix.byE[e]; l != nil {
				ix.visitFull(l.items, c)
			}
		}
	} else {
		for _, l := range ix.byE {
			ix.visitFull(l.items, c)
		}
	}
	if ids, ok := c.A.IDSet(); ok {
		for _, a := range ids {
			if b := ix.attrs[a]; b != nil {
				ix.visitBucket(b, c)
			}
		}
	} else {
		for _, b := range ix.attrs {
			ix.visitBucket(b, c)
		}
	}
	if ix.anyAttr.n > 0 {
		ix.visitBucket(ix.anyAttr, c)
	}
}

// visitFull checks entries against c in full.
func (ix *Index) visitFull(items []*entry, c *Topic) {
	for _, en := range items {
		if en.topic.Match(*c) {
			ix.found(en.sub)
		}
	}
}

// visitIdx passes on the entries whose index flags meet idx: the rest of
// their topic is known to match.
func (ix *Index) visitIdx(items []*entry, idx store.IndexFlags) {
	for _, en := range items {
		if idxOK(en.idx, idx) {
			ix.found(en.sub)
		}
	}
}

// visitBucket visits the entries of a bucket that match c, whose v is a
// value set or the wildcard.
func (ix *Index) visitBucket(b *bucket, c *Topic) {
	vals, ok := c.V.ValueSet()
	if !ok { // the wildcard: everything in the bucket matches but for the index flags
		for _, l := range b.byV {
			ix.visitIdx(l.items, c.Idx)
		}
		for _, l := range b.likes {
			ix.visitIdx(l.items, c.Idx)
		}
		ix.visitIdx(b.lower.items, c.Idx)
		ix.visitIdx(b.upper.items, c.Idx)
		ix.visitIdx(b.cmp.items, c.Idx)
		ix.visitIdx(b.any.items, c.Idx)
		return
	}
	if len(b.byV) > 0 {
		for _, v := range vals {
			if !ix.vfilter.maybe(ix.valueHash(b, v)) {
				continue
			}
			if l := b.byV[v]; l != nil {
				ix.visitIdx(l.items, c.Idx)
			}
		}
	}
	if len(b.lower.items)+len(b.upper.items) > 0 {
		for _, v := range vals {
			end := b.lower.search(v, true)
			for i, en := range b.lower.items[:end] {
				if (!en.strict || b.lower.args[i] != v) && idxOK(en.idx, c.Idx) {
					ix.found(en.sub)
				}
			}
			start := b.upper.search(v, false)
			for i, en := range b.upper.items[start:] {
				if (!en.strict || b.upper.args[start+i] != v) && idxOK(en.idx, c.Idx) {
					ix.found(en.sub)
				}
			}
		}
	}
	if b.likeLens != 0 {
		for _, v := range vals {
			str, ok := v.AsString()
			if !ok {
				continue
			}
			for k := 1; k <= min(len(str), likeKeyLen); k++ {
				if b.likeLens&(1<<k) == 0 {
					continue
				}
				if l := b.likes[str[:k]]; l != nil {
					for _, en := range l.items {
						if idxOK(en.idx, c.Idx) && en.topic.V.cmp.match(v) {
							ix.found(en.sub)
						}
					}
				}
			}
		}
	}
	for _, en := range b.cmp.items {
		if idxOK(en.idx, c.Idx) && en.topic.V.cmp.matchAny(vals) {
			ix.found(en.sub)
		}
	}
	ix.visitIdx(b.any.items, c.Idx)
}

// visitSlow checks every subscription's topics in full.
func (ix *Index) visitSlow(c *Topic) {
	for _, s := range ix.subs {
		for i := range s.topics {
			if s.topics[i].Match(*c) {
				ix.found(s)
				break
			}
		}
	}
}

// Stats describes an index's size and its cache's use.
type Stats struct {
	Subs     int    // registered subscriptions
	Topics   int    // their topics
	Entries  int    // placements of topics in lists (a set part places a topic once per element)
	Entities int    // entities with topics hung under them
	Attrs    int    // attribute buckets
	Hits     uint64 // lookups answered from the cache
	Misses   uint64 // cacheable lookups that were not
}

// Stats returns the index's counters.
func (ix *Index) Stats() Stats {
	return Stats{Subs: len(ix.subs), Topics: ix.ntopics, Entries: ix.nentry, Entities: len(ix.byE), Attrs: len(ix.attrs), Hits: ix.hits, Misses: ix.misses}
}
