package invalidator

import (
	"github.com/triplesync/triplesync/store"
)

// eaKey is an (entity, attribute) pair of a transaction.
type eaKey struct{ e, a store.EntityID }

// beforeAfter is an entity's value set of a cardinality-one attribute before
// and after a transaction, as far as the transaction itself tells.
type beforeAfter struct {
	ok            bool // the changes to (e, a) allow the reconstruction
	before, after []store.Value
}

// filtered reports whether the fine filter f proves that triple change tc
// of transaction c cannot affect the registration: tc changes f.Attr of an
// entity that fails the where clause both before and after the whole
// transaction. See the package documentation for why that is sound.
func (inv *Invalidator) filtered(f *Filter, c *store.Change, tc *store.TripleChange) bool {
	k, ok := keyOf(tc)
	if !ok || k.a != f.Attr {
		return false
	}
	ba := inv.beforeAfter(c, k)
	if !ba.ok {
		return false
	}
	return !f.Match(ba.before) && !f.Match(ba.after)
}

// keyOf returns the (entity, attribute) a triple change touches, false for
// an update that moves a row to another key.
func keyOf(tc *store.TripleChange) (eaKey, bool) {
	switch tc.Op {
	case store.OpInsert:
		return eaKey{tc.New.E, tc.New.A}, true
	case store.OpDelete:
		return eaKey{tc.Old.E, tc.Old.A}, true
	}
	if tc.Old.E != tc.New.E || tc.Old.A != tc.New.A {
		return eaKey{}, false
	}
	return eaKey{tc.New.E, tc.New.A}, true
}

// beforeAfter reconstructs k's value before and after c from c's changes
// to k, remembering the answer for the rest of the Apply. It gives up
// (ok false) unless every change to k is of a cardinality-one row (FlagEA
// on every side present) and the changes chain consistently: each one's
// old row is the previous one's new row.
func (inv *Invalidator) beforeAfter(c *store.Change, k eaKey) *beforeAfter {
	if ba := inv.vals[k]; ba != nil {
		return ba
	}
	if inv.vals == nil {
		inv.vals = make(map[eaKey]*beforeAfter)
	}
	ba := &beforeAfter{ok: true}
	inv.vals[k] = ba
	first := true
	var cur []store.Value // the value set after the changes seen so far
	for i := range c.Triples {
		tc := &c.Triples[i]
		touchesOld := tc.Op != store.OpInsert && tc.Old.E == k.e && tc.Old.A == k.a
		touchesNew := tc.Op != store.OpDelete && tc.New.E == k.e && tc.New.A == k.a
		if !touchesOld && !touchesNew {
			continue
		}
		if tc.Op == store.OpUpdate && touchesOld != touchesNew || // a row moved in or out of k
			touchesOld && tc.OldFlags&store.FlagEA == 0 ||
			touchesNew && tc.NewFlags&store.FlagEA == 0 {
			ba.ok = false
			return ba
		}
		if touchesOld {
			if first {
				cur = []store.Value{tc.Old.V}
				ba.before = cur
			} else if len(cur) != 1 || cur[0] != tc.Old.V {
				ba.ok = false
				return ba
			}
		} else if !first && len(cur) != 0 {
			ba.ok = false // an insert where a value already is: not cardinality one
			return ba
		}
		first = false
		cur = nil
		if touchesNew {
			cur = []store.Value{tc.New.V}
		}
	}
	ba.after = cur
	return ba
}
