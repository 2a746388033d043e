package store

import (
	"encoding/binary"

	"github.com/tidwall/btree"
)

// tree is one index: a B-tree of whole triples in that index's order. Every
// index holds copies of the triples rather than pointers, so a comparison
// never chases a pointer and a snapshot's memory is four flat arrays of
// nodes. The trees are used copy-on-write (a tree is never changed after its
// snapshot is built), so they take no locks.
type tree = btree.BTreeG[Triple]

// degree is the B-tree degree: nodes hold up to 2*degree-1 triples. 32 is
// btree's default; at ~72 bytes a triple a node is a few KiB, and applying
// one step copies one node per level per index.
const degree = 32

func newTree(less func(a, b Triple) bool) *tree {
	return btree.NewBTreeGOptions(less, btree.Options{NoLocks: true, Degree: degree})
}

// kindMax is a Kind above every real one. Values of this kind exist only as
// scan pivots ([maxValue]): they sort after every value and are never stored.
const kindMax Kind = 255

// maxValue sorts after every value; see kindMax.
var maxValue = Value{kind: kindMax}

// maxID sorts after every id.
var maxID = EntityID{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}

// cmpID is EntityID.Compare on two 64-bit words, which the index
// comparators call millions of times while loading.
func cmpID(a, b *EntityID) int {
	x, y := binary.BigEndian.Uint64(a[:8]), binary.BigEndian.Uint64(b[:8])
	if x == y {
		x, y = binary.BigEndian.Uint64(a[8:]), binary.BigEndian.Uint64(b[8:])
	}
	switch {
	case x < y:
		return -1
	case x > y:
		return 1
	}
	return 0
}

func cmpEAV(a, b *Triple) int {
	if c := cmpID(&a.E, &b.E); c != 0 {
		return c
	}
	if c := cmpID(&a.A, &b.A); c != 0 {
		return c
	}
	return Compare(a.V, b.V)
}

func cmpAEV(a, b *Triple) int {
	if c := cmpID(&a.A, &b.A); c != 0 {
		return c
	}
	if c := cmpID(&a.E, &b.E); c != 0 {
		return c
	}
	return Compare(a.V, b.V)
}

func cmpAVE(a, b *Triple) int {
	if c := cmpID(&a.A, &b.A); c != 0 {
		return c
	}
	if c := Compare(a.V, b.V); c != 0 {
		return c
	}
	return cmpID(&a.E, &b.E)
}

// cmpVAE orders ref triples by target. Ref values are canonical lower-case
// UUID strings, whose string order is the order of the ids.
func cmpVAE(a, b *Triple) int {
	if c := Compare(a.V, b.V); c != 0 {
		return c
	}
	if c := cmpID(&a.A, &b.A); c != 0 {
		return c
	}
	return cmpID(&a.E, &b.E)
}

func lessEAV(a, b Triple) bool { return cmpEAV(&a, &b) < 0 }
func lessAEV(a, b Triple) bool { return cmpAEV(&a, &b) < 0 }
func lessAVE(a, b Triple) bool { return cmpAVE(&a, &b) < 0 }
func lessVAE(a, b Triple) bool { return cmpVAE(&a, &b) < 0 }

// indexes are a snapshot's four trees:
//
//	eav: every triple, by entity, attribute, value
//	aev: every triple, by attribute, entity, value
//	ave: triples of unique or indexed attributes ([FlagAVE]), by attribute, value, entity
//	vae: triples of ref attributes ([FlagVAE]), by target entity, attribute, entity
type indexes struct {
	eav, aev, ave, vae *tree
}

func newIndexes() indexes {
	return indexes{eav: newTree(lessEAV), aev: newTree(lessAEV), ave: newTree(lessAVE), vae: newTree(lessVAE)}
}

// clone returns copy-on-write copies of the trees. The caller must hold the
// lock of the snapshot that owns ix: btree's Copy writes to its source.
func (ix *indexes) clone() indexes {
	return indexes{eav: ix.eav.Copy(), aev: ix.aev.Copy(), ave: ix.ave.Copy(), vae: ix.vae.Copy()}
}

// insert adds t to every index flags say it belongs to, replacing a triple
// of the same key (and so its CreatedAt).
func (ix *indexes) insert(t Triple, flags IndexFlags) {
	ix.eav.Set(t)
	ix.aev.Set(t)
	if flags&FlagAVE != 0 {
		ix.ave.Set(t)
	}
	if flags&FlagVAE != 0 {
		ix.vae.Set(t)
	}
}

// remove deletes t's key from every index flags say it belongs to.
func (ix *indexes) remove(t Triple, flags IndexFlags) {
	ix.eav.Delete(t)
	ix.aev.Delete(t)
	if flags&FlagAVE != 0 {
		ix.ave.Delete(t)
	}
	if flags&FlagVAE != 0 {
		ix.vae.Delete(t)
	}
}

// get returns the stored triple with t's key.
func (ix *indexes) get(k TripleKey) (Triple, bool) {
	return ix.eav.Get(Triple{E: k.E, A: k.A, V: k.V})
}

// entityAttr calls fn for each triple of (e, a) in value order until fn
// returns false.
func (ix *indexes) entityAttr(e EntityID, a AttrID, fn func(Triple) bool) {
	ix.eav.Ascend(Triple{E: e, A: a}, func(t Triple) bool {
		if t.E != e || t.A != a {
			return false
		}
		return fn(t)
	})
}

// valuesOf returns the triples of (e, a); for a cardinality-one attribute
// that is at most one.
func (ix *indexes) valuesOf(e EntityID, a AttrID) []Triple {
	var out []Triple
	ix.entityAttr(e, a, func(t Triple) bool {
		out = append(out, t)
		return true
	})
	return out
}

// holders calls fn for each triple of attribute a with value v (in entity
// order) until fn returns false. a must be in AVE.
func (ix *indexes) holders(a AttrID, v Value, fn func(Triple) bool) {
	ix.ave.Ascend(Triple{A: a, V: v}, func(t Triple) bool {
		if t.A != a || t.V != v {
			return false
		}
		return fn(t)
	})
}
