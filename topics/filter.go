package topics

import (
	"encoding/binary"
	"math/bits"

	"github.com/triplesync/triplesync/store"
)

// entityFilter is a one-hash Bloom filter over the entities that have
// topics hung under them. Most changed entities have none, and a map probe
// into hundreds of thousands of entities is a cache miss; a bit test in an
// array of 16 bits per entity mostly is not. It answers "maybe" for every
// entity in the set (never a false "no"), and "no" for about 15 in 16
// others.
//
// Bits cannot be cleared one by one, so removals are counted and the
// filter is rebuilt from the map once they outnumber the entities; it is
// also rebuilt at twice the size when the set outgrows it. Both cost the
// set's size, amortised over as many adds or removes.
type entityFilter struct {
	words   []uint64
	shift   uint // 64 - log2(bits)
	n       int  // entities added since the last rebuild, counted once each
	removed int
}

// hash spreads an id over 64 bits; ids are mostly random UUIDs, but test
// and lookup-derived ids need not be.
func hashID(e store.EntityID) uint64 {
	x := binary.LittleEndian.Uint64(e[:8]) ^ bits.RotateLeft64(binary.LittleEndian.Uint64(e[8:]), 29)
	return x * 0x9e3779b97f4a7c15
}

func (f *entityFilter) bit(e store.EntityID) (int, uint64) {
	h := hashID(e) >> f.shift
	return int(h >> 6), 1 << (h & 63)
}

func (f *entityFilter) maybe(e store.EntityID) bool {
	if f.words == nil {
		return true
	}
	w, m := f.bit(e)
	return f.words[w]&m != 0
}

// add records e, which the index has just put in all.
func (f *entityFilter) add(e store.EntityID, all map[store.EntityID]*list) {
	if f.words == nil || 8*len(all) > 64*len(f.words) {
		f.rebuild(all)
		return
	}
	w, m := f.bit(e)
	f.words[w] |= m
	f.n++
}

// remove notes that e left the map.
func (f *entityFilter) remove(all map[store.EntityID]*list) {
	f.removed++
	if f.removed > f.n && f.removed > 1024 {
		f.rebuild(all)
	}
}

// rebuild sizes the filter for the map (16 bits per entity, at least 4096
// bits, a power of two) and sets the bits of every entity in it.
func (f *entityFilter) rebuild(all map[store.EntityID]*list) {
	nbits := max(4096, 16*len(all))
	lg := bits.Len(uint(nbits - 1))
	f.words = make([]uint64, (1<<lg)/64)
	f.shift = uint(64 - lg)
	for e := range all {
		w, m := f.bit(e)
		f.words[w] |= m
	}
	f.n, f.removed = len(all), 0
}
