package query

import (
	"maps"
	"slices"

	"github.com/triplesync/triplesync/store"
)

// decider decides a level's membership and where clause for sets of
// entities, and remembers the triples it read so that it can name, for any
// entity it decided, exactly the triples the decision rests on.
//
// The attributes a level's where clause reads form a trie: the root is the
// level's entity; each where leaf's path is a chain of link reads (hops)
// from it, ending in a read of the leaf's attribute. Shared prefixes
// ("owner.name" and "owner.email") share reads. Fetching a set of entities
// reads the root's attributes for all of them in one stage, then every next
// level of the trie for the entities reached, one stage per depth.
type decider struct {
	l     *Level
	root  *node
	id    *read // the level's id attribute at the root: membership
	order *read // the order attribute at the root; nil when ordering by id
	paths map[*Leaf][]*read
	// idComplete says id holds every id triple of the namespace (see
	// preloadIDs), so the root never reads it again.
	idComplete bool
	// wide, when set, reads the root's forward attributes with one scan of
	// all of each entity's triples, and hands every triple to wide: a nested
	// level whose candidates are all listed reads their fields that way in
	// the same stage.
	wide func([]*store.Triple)
	vbuf []store.Value // values' buffer
}

// node is an entity position in the trie: the level's entity at the root,
// the entities reached by a hop below it.
type node struct {
	reads   []*read
	fetched map[store.EntityID]bool
}

// read is one attribute read at a node: forward, the triples the node's
// entities hold ([x attr v]); reverse, the ref triples pointing at them
// ([y attr x]).
type read struct {
	attr    *store.Attr
	reverse bool
	triples map[store.EntityID][]*store.Triple // by the node's entity
	child   *node                              // where a hop goes on; nil for a final read
}

func newNode() *node { return &node{fetched: map[store.EntityID]bool{}} }

// get returns n's read of (attr, reverse), adding it (and a child node when
// hop) if missing.
func (n *node) get(attr *store.Attr, reverse, hop bool) *read {
	var rd *read
	for _, x := range n.reads {
		if x.attr == attr && x.reverse == reverse {
			rd = x
			break
		}
	}
	if rd == nil {
		rd = &read{attr: attr, reverse: reverse, triples: map[store.EntityID][]*store.Triple{}}
		n.reads = append(n.reads, rd)
	}
	if hop && rd.child == nil {
		rd.child = newNode()
	}
	return rd
}

func newDecider(l *Level) *decider {
	d := &decider{l: l, root: newNode(), paths: map[*Leaf][]*read{}}
	d.id = d.root.get(l.ID, false, false)
	if l.Order.Attr != l.ID {
		d.order = d.root.get(l.Order.Attr, false, false)
	}
	l.Where.leaves(func(lf *Leaf) {
		n := d.root
		var path []*read
		for _, h := range lf.Hops {
			rd := n.get(h.Attr, h.Reverse, true)
			path = append(path, rd)
			n = rd.child
		}
		d.paths[lf] = append(path, n.get(lf.Attr, lf.Reverse, false))
	})
	return d
}

// key returns the entity a triple of rd is filed under.
func (rd *read) key(t *store.Triple) (store.EntityID, bool) {
	if rd.reverse {
		return t.V.AsEntityID()
	}
	return t.E, true
}

// next returns the entity a hop triple leads to.
func (rd *read) next(t *store.Triple) (store.EntityID, bool) {
	if rd.reverse {
		return t.E, true
	}
	return t.V.AsEntityID()
}

// value returns the value a triple of a final read contributes.
func (rd *read) value(t *store.Triple) store.Value {
	if rd.reverse {
		return store.Ref(t.E)
	}
	return t.V
}

// scanFor is the scan reading rd for the entities xs (sorted, unique).
func (rd *read) scanFor(xs []store.EntityID) Scan {
	if rd.reverse {
		return Scan{Index: VAE, A: rd.attr.ID, V: refs(xs)}
	}
	return Scan{Index: EAV, A: rd.attr.ID, E: xs}
}

// fetch reads everything the decider needs about xs (sorted, unique), then
// calls k. Entities fetched before are skipped.
func (d *decider) fetch(r *runner, xs []store.EntityID, k func()) {
	d.fetchNode(r, d.root, xs, false, k)
}

// fetchWhole is fetch for xs that are every entity of the namespace: the
// root reads each attribute whole (AEV, no entity list), which costs one
// sequential pass instead of a lookup per entity, and on Postgres a plain
// "attr_id = $1" instead of a list of every id.
func (d *decider) fetchWhole(r *runner, xs []store.EntityID, k func()) {
	d.fetchNode(r, d.root, xs, true, k)
}

// preloadIDs files the namespace's id triples, all of them, read by the
// caller: the root never needs to read them.
func (d *decider) preloadIDs(ts []*store.Triple) {
	fileRuns(d.id.triples, ts, func(t *store.Triple) (store.EntityID, bool) {
		// Entities fetched before hold their id triple already.
		return t.E, len(d.id.triples[t.E]) == 0
	})
	d.idComplete = true
}

// fileRuns files each triple of ts that key accepts under its key. Results
// come sorted by the key (EAV by entity, VAE by target), so each key's
// triples are one run of ts, filed as a subslice without copying; a key
// met again later (which scans do not produce) gets a copy.
func fileRuns(m map[store.EntityID][]*store.Triple, ts []*store.Triple, key func(*store.Triple) (store.EntityID, bool)) {
	start := -1
	var cur store.EntityID
	flush := func(end int) {
		if start < 0 {
			return
		}
		run := ts[start:end:end]
		if old, ok := m[cur]; ok {
			m[cur] = append(slices.Clip(old), run...)
		} else {
			m[cur] = run
		}
		start = -1
	}
	for i, t := range ts {
		k, ok := key(t)
		switch {
		case !ok:
			flush(i)
		case start >= 0 && k == cur:
		default:
			flush(i)
			start, cur = i, k
		}
	}
	flush(len(ts))
}

func (d *decider) fetchNode(r *runner, n *node, xs []store.EntityID, whole bool, k func()) {
	todo := make([]store.EntityID, 0, len(xs))
	var prior map[store.EntityID]bool // whole: entities fetched before, whose triples are filed
	if len(n.fetched) == 0 {
		n.fetched = make(map[store.EntityID]bool, len(xs))
	} else if whole {
		prior = maps.Clone(n.fetched)
	}
	for _, x := range xs {
		if !n.fetched[x] {
			n.fetched[x] = true
			todo = append(todo, x)
		}
	}
	// The reads to make, and the scan answering each.
	reads := make([]*read, 0, len(n.reads))
	var scans []Scan
	idx := make([]int, 0, len(n.reads))
	wide := -1
	for _, rd := range n.reads {
		if n == d.root && rd == d.id && d.idComplete {
			continue
		}
		reads = append(reads, rd)
		if n == d.root && d.wide != nil && !rd.reverse {
			if wide < 0 {
				wide = len(scans)
				scans = append(scans, Scan{Index: EAV, E: todo})
			}
			idx = append(idx, wide)
			continue
		}
		idx = append(idx, len(scans))
		if whole {
			scans = append(scans, Scan{Index: AEV, A: rd.attr.ID})
		} else {
			scans = append(scans, rd.scanFor(todo))
		}
	}
	if n == d.root && d.wide != nil && wide < 0 {
		wide = len(scans)
		scans = append(scans, Scan{Index: EAV, E: todo})
	}
	if len(todo) == 0 || len(scans) == 0 {
		r.then(k)
		return
	}
	r.scan(scans, func(res [][]*store.Triple) {
		if wide >= 0 {
			d.wide(res[wide])
		}
		var hops []func(done func())
		for i, rd := range reads {
			ts := res[idx[i]]
			if len(rd.triples) == 0 && len(todo) > 8 {
				rd.triples = make(map[store.EntityID][]*store.Triple, len(todo)) // spare the rehashing
			}
			inWide := wide >= 0 && idx[i] == wide
			accept := func(t *store.Triple) (store.EntityID, bool) {
				if inWide && t.A != rd.attr.ID {
					return store.EntityID{}, false
				}
				x, ok := rd.key(t)
				if whole && ok {
					// The whole attribute came: keep the entities asked for.
					ok = n.fetched[x] && !prior[x]
				}
				return x, ok
			}
			fileRuns(rd.triples, ts, accept)
			if rd.child != nil {
				var next []store.EntityID
				for _, t := range ts {
					if _, ok := accept(t); !ok {
						continue
					}
					if y, ok := rd.next(t); ok {
						next = append(next, y)
					}
				}
				child, next := rd.child, sortIDs(next)
				hops = append(hops, func(done func()) { d.fetchNode(r, child, next, false, done) })
			}
		}
		done := join(len(hops), k)
		for _, h := range hops {
			h(done)
		}
	})
}

// fetched reports whether e's decision is known.
func (d *decider) fetched(e store.EntityID) bool { return d.root.fetched[e] }

// member reports whether e is in the level's namespace: it holds its id
// triple.
func (d *decider) member(e store.EntityID) bool { return len(d.id.triples[e]) > 0 }

// match reports whether e is a member matching the where clause. e must
// have been fetched.
func (d *decider) match(e store.EntityID) bool {
	if !d.member(e) {
		return false
	}
	if d.l.Where == nil {
		return true
	}
	return d.l.Where.eval(func(lf *Leaf) tri {
		return triOf(lf.Pred.Match(d.values(lf, e)))
	}) == triTrue
}

// values returns a leaf's value set for e, in a buffer the next call
// reuses: deciding a level calls it for every candidate and leaf.
func (d *decider) values(lf *Leaf, e store.EntityID) []store.Value {
	path := d.paths[lf]
	final := path[len(path)-1]
	out := d.vbuf[:0]
	if len(path) == 1 { // no hops: e's own triples
		for _, t := range final.triples[e] {
			out = append(out, final.value(t))
		}
		d.vbuf = out
		return out
	}
	xs := []store.EntityID{e}
	for _, rd := range path[:len(path)-1] {
		var next []store.EntityID
		for _, x := range xs {
			for _, t := range rd.triples[x] {
				if y, ok := rd.next(t); ok {
					next = append(next, y)
				}
			}
		}
		xs = sortIDs(next)
	}
	for _, x := range xs {
		for _, t := range final.triples[x] {
			out = append(out, final.value(t))
		}
	}
	d.vbuf = out
	return out
}

// pos returns e's position in the level's order.
func (d *decider) pos(e store.EntityID) Cursor {
	if d.order == nil {
		// The id triple holds Ref(e): reuse its string rather than
		// formatting one per entity.
		if ts := d.id.triples[e]; len(ts) > 0 && ts[0].V.Kind() == store.KindString {
			return Cursor{V: ts[0].V, E: e}
		}
		return Cursor{V: store.Ref(e), E: e}
	}
	for _, t := range d.order.triples[e] {
		if !t.V.IsNull() {
			return Cursor{V: t.V, E: e}
		}
	}
	return Cursor{Missing: true, E: e}
}

// justify adds every triple e's decision rests on: its id triple, its
// order value, and along every where path the link triples followed and
// the final attribute's triples of every entity reached. The pointers
// point into the decider's reads.
func (d *decider) justify(e store.EntityID, add func(*store.Triple)) {
	justifyNode(d.root, e, add)
}

func justifyNode(n *node, x store.EntityID, add func(*store.Triple)) {
	for _, rd := range n.reads {
		ts := rd.triples[x]
		for i := range ts {
			add(ts[i])
			if rd.child != nil {
				if y, ok := rd.next(ts[i]); ok {
					justifyNode(rd.child, y, add)
				}
			}
		}
	}
}

// sortIDs sorts ids and removes duplicates, in place.
func sortIDs(ids []store.EntityID) []store.EntityID {
	slices.SortFunc(ids, func(a, b store.EntityID) int { return cmpID(&a, &b) })
	return slices.Compact(ids)
}

// refs returns the ref values of ids (sorted ids give sorted values: the
// canonical text orders as the bytes do).
func refs(ids []store.EntityID) []store.Value {
	out := make([]store.Value, len(ids))
	for i, id := range ids {
		out[i] = store.Ref(id)
	}
	return out
}
