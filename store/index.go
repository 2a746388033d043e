package store

import (
	"encoding/binary"
	"sync"

	"github.com/tidwall/btree"
)

// tree is one index: a B-tree of pointers to triples in that index's
// order. The four trees of a snapshot point at the same Triple values, and
// snapshots derived by Apply share them too: a stored Triple is never
// modified (a change stores a new one), so sharing is safe. Pointers keep
// nodes small, which is what copy-on-write copies on every write: a node of
// 63 pointers is 504 bytes where 63 triples would be 4.5 KiB. The trees
// are never changed once their snapshot is built, so they take no locks.
//
// Load allocates a store's triples as one array; it stays in memory while
// any snapshot still points into it.
type tree = btree.BTreeG[*Triple]

// degree is the B-tree degree: nodes hold up to 2*degree-1 items.
const degree = 32

func newTree(less func(a, b *Triple) bool) *tree {
	return btree.NewBTreeGOptions(less, btree.Options{NoLocks: true, Degree: degree})
}

// fill puts n items, sorted in tr's order (item(i) is the i-th), into the
// empty tree tr. Bulk loading alone leaves every leaf but the last exactly
// at the minimum fill (btree splits a full node in the middle), so the
// first delete from any leaf merges it with a neighbour, which leaves its
// parent under the minimum too, and so on to the root: every delete from a
// loaded store copies two paths and their siblings. fill bulk-loads three
// items in four, then sets the fourth into place (nearby sets are cheap
// with a path hint): leaves end a third above the minimum, with room for
// deletes and inserts alike.
func fill(tr *tree, n int, item func(i int) *Triple) {
	for i := range n {
		if i%4 != 3 {
			tr.Load(item(i))
		}
	}
	var hint btree.PathHint
	for i := 3; i < n; i += 4 {
		tr.SetHint(item(i), &hint)
	}
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

func lessEAV(a, b *Triple) bool { return cmpEAV(a, b) < 0 }
func lessAEV(a, b *Triple) bool { return cmpAEV(a, b) < 0 }
func lessAVE(a, b *Triple) bool { return cmpAVE(a, b) < 0 }
func lessVAE(a, b *Triple) bool { return cmpVAE(a, b) < 0 }

// pivots recycles the search keys handed to the trees. The btree takes
// them by pointer through its comparator, so a key on the stack would
// escape: every scan, lookup and delete would allocate one, the most
// frequent allocation of an evaluation.
var pivots = sync.Pool{New: func() any { return new(Triple) }}

// getPivot returns a recycled key holding k; release it with putPivot.
func getPivot(k *Triple) *Triple {
	p := pivots.Get().(*Triple)
	*p = *k
	return p
}

// putPivot recycles p, dropping its value's string.
func putPivot(p *Triple) {
	*p = Triple{}
	pivots.Put(p)
}

// ascend calls fn with the triples of tr from pivot on, in order, until fn
// returns false.
func ascend(tr *tree, pivot Triple, fn func(Triple) bool) {
	ascendPtr(tr, pivot, func(t *Triple) bool { return fn(*t) })
}

// ascendPtr is ascend handing out the stored triples themselves, which
// fn must not modify.
func ascendPtr(tr *tree, pivot Triple, fn func(*Triple) bool) {
	p := getPivot(&pivot)
	tr.Ascend(p, fn)
	putPivot(p)
}

// descendPtr calls fn with the stored triples of tr from pivot down, in
// reverse order, until fn returns false; fn must not modify them.
func descendPtr(tr *tree, pivot Triple, fn func(*Triple) bool) {
	p := getPivot(&pivot)
	tr.Descend(p, fn)
	putPivot(p)
}

// scan calls fn with every triple of tr in order until fn returns false.
func scan(tr *tree, fn func(Triple) bool) {
	tr.Scan(func(t *Triple) bool { return fn(*t) })
}

// get returns the triple of tr with k's key.
func get(tr *tree, k Triple) (Triple, bool) {
	p := getPivot(&k)
	t, ok := tr.Get(p)
	putPivot(p)
	if !ok {
		return Triple{}, false
	}
	return *t, true
}

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
	p := &t // one allocation, shared by every index
	ix.eav.Set(p)
	ix.aev.Set(p)
	if flags&FlagAVE != 0 {
		ix.ave.Set(p)
	}
	if flags&FlagVAE != 0 {
		ix.vae.Set(p)
	}
}

// hints are path hints into a batch's trees. A write finds an entity's
// value, deletes it and inserts the new one next to it, and the next step
// mostly writes the same entity: with a hint each search after the first
// makes a comparison or two per node instead of a binary search.
type hints struct{ eav, aev, ave, vae btree.PathHint }

// insertHint is insert of the new triple p, searching from h.
func (ix *indexes) insertHint(p *Triple, flags IndexFlags, h *hints) {
	ix.eav.SetHint(p, &h.eav)
	ix.aev.SetHint(p, &h.aev)
	if flags&FlagAVE != 0 {
		ix.ave.SetHint(p, &h.ave)
	}
	if flags&FlagVAE != 0 {
		ix.vae.SetHint(p, &h.vae)
	}
}

// removeHint is remove searching from h.
func (ix *indexes) removeHint(t Triple, flags IndexFlags, h *hints) {
	p := getPivot(&t)
	ix.eav.DeleteHint(p, &h.eav)
	ix.aev.DeleteHint(p, &h.aev)
	if flags&FlagAVE != 0 {
		ix.ave.DeleteHint(p, &h.ave)
	}
	if flags&FlagVAE != 0 {
		ix.vae.DeleteHint(p, &h.vae)
	}
	putPivot(p)
}

// replaceHint replaces the stored triple old with t, searching from h.
// They must share entity and attribute, and old be the only triple of
// the two (a cardinality-one value): t then sorts into old's place in EAV
// and AEV, where a new triple takes old's slot (with old's key the trees
// find old) and is given t's value after, sparing a delete and an insert
// that each shift a node's items. It is not visible outside the batch
// until Apply returns. In AVE and VAE the value moves it: a delete and an
// insert.
//
// p is the new triple, not yet stored anywhere; replaceHint gives it t.
func (ix *indexes) replaceHint(old, t Triple, p *Triple, flags IndexFlags, h *hints) {
	*p = old
	_, inEAV := ix.eav.SetHint(p, &h.eav)
	_, inAEV := ix.aev.SetHint(p, &h.aev)
	if !inEAV || !inAEV { // old was not stored in both: insert p undone, the long way
		if !inEAV {
			ix.eav.DeleteHint(p, &h.eav)
		}
		if !inAEV {
			ix.aev.DeleteHint(p, &h.aev)
		}
		ix.removeHint(old, flags, h)
		*p = t
		ix.insertHint(p, flags, h)
		return
	}
	if flags&(FlagAVE|FlagVAE) != 0 {
		q := getPivot(&old)
		if flags&FlagAVE != 0 {
			ix.ave.DeleteHint(q, &h.ave)
		}
		if flags&FlagVAE != 0 {
			ix.vae.DeleteHint(q, &h.vae)
		}
		putPivot(q)
	}
	*p = t
	if flags&FlagAVE != 0 {
		ix.ave.SetHint(p, &h.ave)
	}
	if flags&FlagVAE != 0 {
		ix.vae.SetHint(p, &h.vae)
	}
}

// valuesOfHint is valuesOf searching from h.
func (ix *indexes) valuesOfHint(dst []Triple, e EntityID, a AttrID, h *hints) []Triple {
	out := dst
	p := getPivot(&Triple{E: e, A: a})
	ix.eav.AscendHint(p, func(t *Triple) bool {
		if t.E != e || t.A != a {
			return false
		}
		out = append(out, *t)
		return true
	}, &h.eav)
	putPivot(p)
	return out
}

// remove deletes t's key from every index flags say it belongs to.
func (ix *indexes) remove(t Triple, flags IndexFlags) {
	p := getPivot(&t)
	ix.eav.Delete(p)
	ix.aev.Delete(p)
	if flags&FlagAVE != 0 {
		ix.ave.Delete(p)
	}
	if flags&FlagVAE != 0 {
		ix.vae.Delete(p)
	}
	putPivot(p)
}

// get returns the stored triple with key k.
func (ix *indexes) get(k TripleKey) (Triple, bool) {
	return get(ix.eav, Triple{E: k.E, A: k.A, V: k.V})
}

// entityAttr calls fn for each triple of (e, a) in value order until fn
// returns false.
func (ix *indexes) entityAttr(e EntityID, a AttrID, fn func(Triple) bool) {
	ascend(ix.eav, Triple{E: e, A: a}, func(t Triple) bool {
		if t.E != e || t.A != a {
			return false
		}
		return fn(t)
	})
}

// holds reports whether e holds any triple of attribute a.
func (ix *indexes) holds(e EntityID, a AttrID) bool {
	found := false
	ix.entityAttr(e, a, func(Triple) bool {
		found = true
		return false
	})
	return found
}

// valuesOf appends the triples of (e, a) to dst; for a cardinality-one
// attribute that is at most one, so a caller's small array spares the
// allocation.
func (ix *indexes) valuesOf(dst []Triple, e EntityID, a AttrID) []Triple {
	out := dst
	ix.entityAttr(e, a, func(t Triple) bool {
		out = append(out, t)
		return true
	})
	return out
}

// holders calls fn for each triple of attribute a with value v (in entity
// order) until fn returns false. a must be in AVE.
func (ix *indexes) holders(a AttrID, v Value, fn func(Triple) bool) {
	ascend(ix.ave, Triple{A: a, V: v}, func(t Triple) bool {
		if t.A != a || t.V != v {
			return false
		}
		return fn(t)
	})
}
