package query

import (
	"encoding/binary"
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
	fetched []store.EntityID // sorted, unique
}

// read is one attribute read at a node: forward, the triples the node's
// entities hold ([x attr v]); reverse, the ref triples pointing at them
// ([y attr x]).
type read struct {
	attr    *store.Attr
	reverse bool
	// runs holds the triples read, one run per entity of the node, sorted
	// by entity: a slice rather than a map spares a hash table per read
	// (twice the entries' size at a thousand entities) and its rehashing.
	runs  []run
	hint  int   // where triples looks first
	child *node // where a hop goes on; nil for a final read
}

// run is the triples of one entity in a read.
type run struct {
	k  idKey
	ts []*store.Triple
}

// triples returns the triples rd read for the entity x. Callers mostly
// look entities up in order (and each more than once), so the run last
// found and the next one are tried before a binary search.
func (rd *read) triples(x store.EntityID) []*store.Triple {
	k := idKeyOf(&x)
	runs := rd.runs
	if h := rd.hint; h < len(runs) && runs[h].k == k {
		return runs[h].ts
	} else if h+1 < len(runs) && runs[h+1].k == k {
		rd.hint = h + 1
		return runs[h+1].ts
	}
	lo, hi := 0, len(runs)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if runs[m].k.less(k) {
			lo = m + 1
		} else {
			hi = m
		}
	}
	if lo < len(runs) && runs[lo].k == k {
		rd.hint = lo
		return runs[lo].ts
	}
	return nil
}

// idKey is an entity id as two big-endian words: ordered as the id's
// bytes, compared without decoding them again.
type idKey struct{ hi, lo uint64 }

func idKeyOf(e *store.EntityID) idKey {
	return idKey{binary.BigEndian.Uint64(e[:8]), binary.BigEndian.Uint64(e[8:])}
}

func (a idKey) less(b idKey) bool { return a.hi < b.hi || a.hi == b.hi && a.lo < b.lo }

func (a idKey) cmp(b idKey) int {
	switch {
	case a.less(b):
		return -1
	case b.less(a):
		return 1
	}
	return 0
}

func newNode() *node { return &node{} }

// idCursor tests membership in sorted ids for keys that mostly come in
// ascending order (a scan's answer): it walks forward, and searches only
// when a key goes back.
type idCursor struct {
	ids []store.EntityID
	j   int // the first id not below the last key
}

func (c *idCursor) has(x store.EntityID) bool {
	if c.j > 0 && cmpID(&c.ids[c.j-1], &x) >= 0 {
		c.j, _ = store.SearchIDs(c.ids, x)
	}
	for c.j < len(c.ids) && cmpID(&c.ids[c.j], &x) < 0 {
		c.j++
	}
	return c.j < len(c.ids) && c.ids[c.j] == x
}

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
		rd = &read{attr: attr, reverse: reverse}
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
	d.id.file(ts, func(t *store.Triple) (store.EntityID, bool) {
		// Entities fetched before hold their id triple already.
		return t.E, len(d.id.triples(t.E)) == 0
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

// file is fileRuns for rd's runs: the new runs are appended, then, if
// they do not all follow the old ones in order, sorted in (stably: an
// entity's old triples stay first) and each entity's runs joined. key may
// look triples up with rd.triples while filing: it sees the old runs.
func (rd *read) file(ts []*store.Triple, key func(*store.Triple) (store.EntityID, bool)) {
	old := rd.runs
	n0 := len(old)
	runs := old
	start := -1
	var cur store.EntityID
	flush := func(end int) {
		if start >= 0 {
			runs = append(runs, run{k: idKeyOf(&cur), ts: ts[start:end:end]})
			start = -1
		}
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
	sorted := true
	for i := max(n0, 1); i < len(runs); i++ {
		if !runs[i-1].k.less(runs[i].k) {
			sorted = false
			break
		}
	}
	if !sorted {
		slices.SortStableFunc(runs, func(a, b run) int { return a.k.cmp(b.k) })
		j := 0
		for i := 1; i < len(runs); i++ {
			if runs[i].k == runs[j].k {
				runs[j].ts = append(slices.Clip(runs[j].ts), runs[i].ts...)
				continue
			}
			j++
			runs[j] = runs[i]
		}
		clear(runs[j+1:])
		runs = runs[:j+1]
	}
	rd.runs = runs
}

func (d *decider) fetchNode(r *runner, n *node, xs []store.EntityID, whole bool, k func()) {
	// todo: xs (sorted) less the entities fetched before, by a merge walk.
	todo := make([]store.EntityID, 0, len(xs))
	f := n.fetched
	i := 0
	for _, x := range xs {
		for i < len(f) && cmpID(&f[i], &x) < 0 {
			i++
		}
		if i < len(f) && f[i] == x || len(todo) > 0 && todo[len(todo)-1] == x {
			continue
		}
		todo = append(todo, x)
	}
	if len(f) == 0 {
		n.fetched = todo // never written to: shared with the scans
	} else if len(todo) > 0 {
		merged := make([]store.EntityID, 0, len(f)+len(todo))
		a, b := f, todo
		for len(a) > 0 && len(b) > 0 {
			if cmpID(&a[0], &b[0]) < 0 {
				merged, a = append(merged, a[0]), a[1:]
			} else {
				merged, b = append(merged, b[0]), b[1:]
			}
		}
		merged = append(append(merged, a...), b...)
		n.fetched = merged
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
			if rd.runs == nil && len(todo) > 8 {
				rd.runs = make([]run, 0, len(todo)) // spare the regrowing
			}
			inWide := wide >= 0 && idx[i] == wide
			asked := idCursor{ids: todo}
			accept := func(t *store.Triple) (store.EntityID, bool) {
				if inWide && t.A != rd.attr.ID {
					return store.EntityID{}, false
				}
				x, ok := rd.key(t)
				if whole && ok {
					// The whole attribute came: keep the entities asked for.
					ok = asked.has(x)
				}
				return x, ok
			}
			rd.file(ts, accept)
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
func (d *decider) fetched(e store.EntityID) bool { return hasID(d.root.fetched, e) }

// member reports whether e is in the level's namespace: it holds its id
// triple.
func (d *decider) member(e store.EntityID) bool { return len(d.id.triples(e)) > 0 }

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
		for _, t := range final.triples(e) {
			out = append(out, final.value(t))
		}
		d.vbuf = out
		return out
	}
	xs := []store.EntityID{e}
	for _, rd := range path[:len(path)-1] {
		var next []store.EntityID
		for _, x := range xs {
			for _, t := range rd.triples(x) {
				if y, ok := rd.next(t); ok {
					next = append(next, y)
				}
			}
		}
		xs = sortIDs(next)
	}
	for _, x := range xs {
		for _, t := range final.triples(x) {
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
		if ts := d.id.triples(e); len(ts) > 0 && ts[0].V.Kind() == store.KindString {
			return Cursor{V: ts[0].V, E: e}
		}
		return Cursor{V: store.Ref(e), E: e}
	}
	for _, t := range d.order.triples(e) {
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
		ts := rd.triples(x)
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
