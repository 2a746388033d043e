package topics

import (
	"encoding/binary"
	"math/bits"

	"github.com/triplesync/triplesync/store"
)

// keyFilter is a one-hash Bloom filter over a set of map keys, given by
// their 64-bit hashes. Most changed entities have no topics hung under
// them and most changed values none either, and a probe into maps of
// hundreds of thousands of keys is a cache miss; a bit test in an array of
// 16 bits per key mostly is not. It answers "maybe" for every key in the
// set (never a false "no"), and "no" for about 15 in 16 others.
//
// Bits cannot be cleared one by one, so removals are counted and the
// filter is rebuilt from the set once they outnumber the keys; it is also
// rebuilt at twice the size when the set outgrows it. Both cost the set's
// size, amortised over as many adds or removes.
type keyFilter struct {
	words   []uint64
	shift   uint // 64 - log2(bits)
	n       int  // keys added since the last rebuild
	removed int
}

// hashID spreads an id over 64 bits; ids are mostly random UUIDs, but test
// and lookup-derived ids need not be.
func hashID(e store.EntityID) uint64 {
	x := binary.LittleEndian.Uint64(e[:8]) ^ bits.RotateLeft64(binary.LittleEndian.Uint64(e[8:]), 29)
	return x * 0x9e3779b97f4a7c15
}

func (f *keyFilter) bit(h uint64) (int, uint64) {
	h >>= f.shift
	return int(h >> 6), 1 << (h & 63)
}

func (f *keyFilter) maybe(h uint64) bool {
	if f.words == nil {
		return true
	}
	w, m := f.bit(h)
	return f.words[w]&m != 0
}

// add records the hash of a key just added to the set, which now holds n
// keys; all enumerates the set's hashes for a rebuild.
func (f *keyFilter) add(h uint64, n int, all func(func(uint64))) {
	if f.words == nil || 8*n > 64*len(f.words) {
		f.rebuild(n, all)
		return
	}
	w, m := f.bit(h)
	f.words[w] |= m
	f.n++
}

// remove notes that a key left the set, which now holds n keys.
func (f *keyFilter) remove(n int, all func(func(uint64))) {
	f.removed++
	if f.removed > f.n && f.removed > 1024 {
		f.rebuild(n, all)
	}
}

// rebuild sizes the filter for n keys (16 bits per key, at least 4096
// bits, a power of two) and sets the bits of every key all yields.
func (f *keyFilter) rebuild(n int, all func(func(uint64))) {
	nbits := max(4096, 16*n)
	lg := bits.Len(uint(nbits - 1))
	f.words = make([]uint64, (1<<lg)/64)
	f.shift = uint(64 - lg)
	all(func(h uint64) {
		w, m := f.bit(h)
		f.words[w] |= m
	})
	f.n, f.removed = n, 0
}
