package reactor

import (
	"cmp"
	"slices"

	"github.com/triplesync/triplesync/internal/jsonlite"
	"github.com/triplesync/triplesync/query"
	"github.com/triplesync/triplesync/store"
)

// Pruning: a query's store is the server's result, a few entities; the
// pending mutations mostly write others (issue #7/#3: 100 pending
// mutations over 20 queries, each replaying all of them, cost 10 ms). A
// group of mutations that writes only entities the store does not hold,
// and that leaves them not matching any top level's where clause, cannot
// change the result, and is not replayed over that query.
//
// Why that is sound. Group the mutations by the entities they write (a
// step's entity, and the entity its value links to), joining mutations
// that share one. Give up (replay everything) when any mutation has a
// lookup (it may resolve to any entity, by id too), a delete-entity
// (cascades), an attribute step or an unknown attribute. A group is
// pinned (always replayed) when it writes a unique attribute other than
// id: Apply checks those against other entities. What remains couples an
// entity's triples only to its own: Apply's checks on a step (mode
// create/update, types, the id triple, whose unique value is the entity's
// own id) read the entity alone. So for a group whose entities the
// store holds no triple of and no link to, replaying it there leaves
// those entities exactly as replaying it over an empty store does, and
// fails or applies the same way; and the other mutations, writing other
// entities, apply the same with or without it. Those entities link to
// nothing outside the group and nothing links to them, so whether one
// matches a top level's where clause (hops included) depends on the
// group alone: the query with only its top levels' where clauses (no
// window, order, nesting: every match is listed), evaluated over the
// empty store with the groups replayed, says which do. A group none of
// whose entities match adds no row, no count, no page bound and no
// nested entity: the result is the same without it.
//
// The decision is kept with the replay cache, while base and the parsed
// query stay. A mutation that joins the list later is replayed (not
// judged); if it writes entities of skipped groups, those groups are
// replayed from then on, just before it: a skipped group shares no
// entity with any other mutation replayed, holds no unique value but
// its entities' ids, and so applies the same wherever it goes in the
// replay (before the mutations that write its entities). Replaying the
// released group after the others keeps the replay a prefix of the last
// one, so the replay cache applies only the group and the new mutation.
// A replayed mutation may leave the list (a rejection); anything else —
// a skipped one leaving, a mutation pruning cannot judge — decides again.

// minPrune is the fewest mutations worth judging: below it, replaying
// them all costs less than evaluating the where clauses.
const minPrune = 8

// pruneState is a query's decision of which mutations not to replay.
type pruneState struct {
	q     *query.Query
	order []*mutation        // the mutations to replay, in replay order; nil: nothing decided
	kept  map[*mutation]bool // those in order
	skip  map[*mutation]*skipGroup
	owner map[store.EntityID]*skipGroup // the skipped group writing an entity
	// skipped are the groups decided; the maps above are built from them
	// and order when extends first needs them (most decisions are
	// replaced whole before then, the store being new).
	skipped []skipGroup
}

// skipGroup is a group of mutations not replayed.
type skipGroup struct {
	muts []*mutation
	ents []store.EntityID
}

// pruned returns the mutations of all (in pending order) to replay over
// qs's base, in the order to replay them.
func (c *Core) pruned(qs *querySub, q *query.Query, all []*mutation) []*mutation {
	ps := &qs.replay.prune
	if ps.order != nil && ps.q == q && ps.extends(all, qs.base.Attrs()) {
		return ps.filter(all)
	}
	*ps = pruneState{}
	if q == nil || len(all) < minPrune {
		return all
	}
	p := planFor(all, qs.base.Attrs())
	if p == nil {
		return all
	}
	// The groups the store holds nothing of, then those of them whose
	// entities match no where clause (evaluated only if there are any:
	// over a large result, every write may touch a row).
	out := make([]bool, len(p.groups))
	for i := range p.groups {
		out[i] = !p.groups[i].pinned
	}
	j := 0
	for _, e := range p.held(qs.base) { // sorted, among p.ents
		for p.ents[j] != e {
			j++
		}
		out[p.groupOf[j]] = false
	}
	cands := make([]*pruneGroup, 0, len(p.groups))
	for i := range p.groups {
		if out[i] {
			cands = append(cands, &p.groups[i])
		}
	}
	var rows map[store.EntityID]bool
	if len(cands) > 0 {
		var ok bool
		if rows, ok = localRows(q, cands); !ok {
			if rows, ok = c.whereRows(qs, q, p.s0); !ok {
				return all
			}
		}
	}
	skipped := cands[:0]
	nm := 0
	for _, g := range cands {
		skip := true
		for _, e := range g.ents {
			skip = skip && !rows[e]
		}
		if skip {
			skipped = append(skipped, g)
			nm += len(g.muts)
		}
	}
	*ps = pruneState{q: q, skipped: make([]skipGroup, len(skipped))}
	skip := make([]bool, len(all)) // p.muts is all
	for i, g := range skipped {
		ps.skipped[i] = skipGroup{muts: g.muts, ents: g.ents}
		for _, j := range g.at {
			skip[j] = true
		}
	}
	ps.order = make([]*mutation, 0, len(all)-nm)
	for j, m := range all {
		if !skip[j] {
			ps.order = append(ps.order, m)
		}
	}
	return ps.filter(all)
}

// index builds the maps of ps from order and skipped, once.
func (ps *pruneState) index() {
	if ps.kept != nil {
		return
	}
	nm, ne := 0, 0
	for i := range ps.skipped {
		nm, ne = nm+len(ps.skipped[i].muts), ne+len(ps.skipped[i].ents)
	}
	ps.kept = make(map[*mutation]bool, len(ps.order))
	ps.skip = make(map[*mutation]*skipGroup, nm)
	ps.owner = make(map[store.EntityID]*skipGroup, ne)
	for _, m := range ps.order {
		ps.kept[m] = true
	}
	for i := range ps.skipped {
		sg := &ps.skipped[i]
		for _, m := range sg.muts {
			ps.skip[m] = sg
		}
		for _, e := range sg.ents {
			ps.owner[e] = sg
		}
	}
}

// extends reports whether the decision can take all: every skipped
// mutation is still there, and pruning can tell what each new one
// writes. The new ones join order, each after the skipped groups it
// writes to, which are released.
func (ps *pruneState) extends(all []*mutation, attrs *store.Attrs) bool {
	ps.index()
	n := 0
	type fresh struct {
		m    *mutation
		ents []store.EntityID
	}
	var added []fresh
	for _, m := range all {
		switch {
		case ps.skip[m] != nil:
			n++
		case ps.kept[m]:
		default:
			ents, _, ok := writes(m, attrs)
			if !ok {
				return false
			}
			added = append(added, fresh{m, ents})
		}
	}
	if n != len(ps.skip) {
		return false
	}
	for _, a := range added {
		for _, e := range a.ents {
			if g := ps.owner[e]; g != nil {
				for _, x := range g.ents {
					delete(ps.owner, x)
				}
				for _, m := range g.muts {
					delete(ps.skip, m)
					ps.kept[m] = true
					ps.order = append(ps.order, m)
				}
			}
		}
		ps.kept[a.m] = true
		ps.order = append(ps.order, a.m)
	}
	if len(ps.order) > 2*len(all)+16 { // forget those that left the list
		ps.order = ps.filter(all)
		ps.kept = make(map[*mutation]bool, len(ps.order))
		for _, m := range ps.order {
			ps.kept[m] = true
		}
	}
	return true
}

// filter returns the mutations of order that are in all.
func (ps *pruneState) filter(all []*mutation) []*mutation {
	out := make([]*mutation, 0, len(ps.order))
	for _, m := range ps.order {
		// all is in pending order, by Seq; Seq is not unique (tabs
		// sharing a storage number their mutations each from its own
		// counter), so m is any of the run of its Seq.
		i, _ := slices.BinarySearchFunc(all, m.Seq, func(x *mutation, seq uint64) int {
			return cmp.Compare(x.Seq, seq)
		})
		for ; i < len(all) && all[i].Seq == m.Seq; i++ {
			if all[i] == m {
				out = append(out, m)
				break
			}
		}
	}
	return out
}

// holds reports whether s holds a triple of e or, when its registry has
// links (refs), a link to it.
func holds(s *store.Snapshot, e store.EntityID, refs bool) bool {
	found := false
	s.ScanEntity(e, store.AttrID{}, func(store.Triple) bool {
		found = true
		return false
	})
	if !found && refs {
		s.ScanRefs(e, store.AttrID{}, func(store.Triple) bool {
			found = true
			return false
		})
	}
	return found
}

// held returns the entities of p's groups (sorted) that s holds a triple
// of or, when the registry has links, a link to (see holds). A store
// much smaller than the groups is walked once in EAV order alongside
// them; a larger one is looked up entity by entity.
func (p *prunePlan) held(s *store.Snapshot) []store.EntityID {
	if s.Len() > 16*len(p.ents) {
		return p.heldSeek(s)
	}
	return p.heldScan(s)
}

func (p *prunePlan) heldSeek(s *store.Snapshot) []store.EntityID {
	var out []store.EntityID
	for _, e := range p.ents {
		if holds(s, e, p.refs) {
			out = append(out, e)
		}
	}
	return out
}

func (p *prunePlan) heldScan(s *store.Snapshot) []store.EntityID {
	var out []store.EntityID
	i := 0
	s.ScanFromPtr(store.EntityID{}, store.AttrID{}, func(t *store.Triple) bool {
		for i < len(p.ents) && p.ents[i].Compare(t.E) < 0 {
			i++
		}
		if i == len(p.ents) {
			return false
		}
		if p.ents[i] == t.E {
			out = append(out, t.E)
			i++
		}
		return true
	})
	if p.refs {
		n := len(out)
		for _, e := range p.ents {
			if _, ok := store.SearchIDs(out[:n], e); !ok && holds(s, e, true) {
				out = append(out, e)
			}
		}
		out = sortUnique(out)
	}
	return out
}

// writes returns the entities m's steps write (with those their values
// link to) and whether it writes a unique attribute other than id; false
// when pruning cannot judge it: a lookup, a step other than a triple
// step, an attribute attrs lacks.
func writes(m *mutation, attrs *store.Attrs) (ents []store.EntityID, unique, ok bool) {
	for i := range m.Steps {
		st := &m.Steps[i]
		switch st.Op {
		case store.OpAddTriple, store.OpDeepMergeTriple, store.OpRetractTriple:
		default:
			return nil, false, false
		}
		if st.Lookup != nil || st.ValueLookup != nil || st.E.IsZero() {
			return nil, false, false
		}
		a, known := attrs.ByID(st.A)
		if !known {
			return nil, false, false
		}
		if a.Unique && a.Label != store.IDLabel {
			unique = true
		}
		ents = append(ents, st.E)
		if x, isRef := st.V.AsEntityID(); isRef {
			ents = append(ents, x)
		}
	}
	return ents, unique, true
}

// prunePlan is the grouping of a list of mutations and the empty store
// with the unpinned groups replayed, shared by the queries replaying the
// list (kept on its first mutation, as runs are).
type prunePlan struct {
	muts    []*mutation
	attrs   *store.Attrs
	groups  []pruneGroup // nil when the list cannot be judged
	s0      *store.Snapshot
	refs    bool             // attrs has link attributes
	ents    []store.EntityID // the groups' entities, sorted
	groupOf []int32          // the group of each of ents
}

type pruneGroup struct {
	muts   []*mutation
	at     []int // the positions of muts in the plan's list
	ents   []store.EntityID
	pinned bool
	s0     [][]*store.Triple // unpinned: each entity's triples in s0 (EAV order)
}

// maxPlans bounds the plans a mutation keeps (see maxRuns).
const maxPlans = 4

// planFor returns the plan for muts over a store typed by attrs, or nil
// when they cannot be judged.
func planFor(muts []*mutation, attrs *store.Attrs) *prunePlan {
	first := muts[0]
	for _, p := range first.plans {
		if p.attrs == attrs && slices.Equal(p.muts, muts) {
			if p.groups == nil {
				return nil
			}
			return p
		}
	}
	p := &prunePlan{muts: slices.Clone(muts), attrs: attrs}
	if len(first.plans) == maxPlans {
		first.plans = slices.Delete(first.plans, 0, 1)
	}
	first.plans = append(first.plans, p)

	// Union-find over the mutations, joined by the entities they write.
	parent := make([]int, len(muts))
	root := func(i int) int {
		for parent[i] != i {
			parent[i] = parent[parent[i]]
			i = parent[i]
		}
		return i
	}
	owner := map[store.EntityID]int{}
	ents := make([][]store.EntityID, len(muts))
	unique := make([]bool, len(muts))
	for i, m := range muts {
		parent[i] = i
		es, u, ok := writes(m, attrs)
		if !ok {
			return nil
		}
		ents[i], unique[i] = es, u
		for _, e := range es {
			if j, seen := owner[e]; seen {
				parent[root(i)] = root(j)
			} else {
				owner[e] = i
			}
		}
	}
	index := map[int]int{} // root → group
	for i, m := range muts {
		r := root(i)
		gi, ok := index[r]
		if !ok {
			gi = len(p.groups)
			index[r] = gi
			p.groups = append(p.groups, pruneGroup{})
		}
		g := &p.groups[gi]
		g.muts = append(g.muts, m)
		g.at = append(g.at, i)
		g.pinned = g.pinned || unique[i]
		for _, e := range ents[i] {
			if owner[e] == i {
				g.ents = append(g.ents, e) // each entity once: by its first writer
			}
		}
	}
	var free []*mutation
	for i, m := range muts {
		if !p.groups[index[root(i)]].pinned {
			free = append(free, m)
		}
	}
	p.s0 = replayOnto(store.NewSnapshot(attrs), free)
	for _, a := range attrs.All() {
		p.refs = p.refs || a.IsRef()
	}
	p.ents = make([]store.EntityID, 0, len(owner))
	for i := range p.groups {
		g := &p.groups[i]
		p.ents = append(p.ents, g.ents...)
		if g.pinned {
			continue
		}
		g.s0 = make([][]*store.Triple, len(g.ents))
		for j, e := range g.ents {
			p.s0.ScanEntityPtr(e, store.AttrID{}, func(t *store.Triple) bool {
				g.s0[j] = append(g.s0[j], t)
				return true
			})
		}
	}
	p.ents = sortUnique(p.ents)
	p.groupOf = make([]int32, len(p.ents))
	for k, e := range p.ents {
		p.groupOf[k] = int32(index[root(owner[e])])
	}
	return p
}

// localRows is whereRows for the entities of cands, decided from each
// entity's own triples in s0 as Eval over s0 decides it: a member of a
// top level's namespace (it holds the id triple) whose values satisfy
// that level's where clause (query.Level.Match, the decider's own test).
// False when a clause needs other entities' triples (a path, a reverse
// link): whereRows evaluates it then.
func localRows(q *query.Query, cands []*pruneGroup) (map[store.EntityID]bool, bool) {
	var rows map[store.EntityID]bool
	var ts []*store.Triple
	var buf []store.Value
	get := func(a store.AttrID) []store.Value {
		buf = buf[:0]
		for _, t := range ts {
			if t.A == a {
				buf = append(buf, t.V)
			}
		}
		return buf
	}
	for _, g := range cands {
		for j, e := range g.ents {
			ts = g.s0[j]
			for _, l := range q.Tops() {
				if len(get(l.ID.ID)) == 0 {
					continue
				}
				matched, decidable := l.Match(get)
				if !decidable {
					return nil, false
				}
				if matched {
					if rows == nil {
						rows = map[store.EntityID]bool{}
					}
					rows[e] = true
				}
			}
		}
	}
	return rows, true
}

// whereRows returns the entities of s0 that match a top level's where
// clause of q (see above), or false if that query cannot be evaluated.
func (c *Core) whereRows(qs *querySub, q *query.Query, s0 *store.Snapshot) (map[store.EntityID]bool, bool) {
	if qs.whereQ == nil || qs.whereOf != q {
		qs.whereOf, qs.whereQ = q, nil
		wq, err := whereQuery(qs.text, q.Attrs())
		if err != nil {
			return nil, false
		}
		qs.whereQ = wq
	}
	res, err := query.Eval(query.SnapshotSource(s0), qs.whereQ)
	if err != nil {
		return nil, false
	}
	rows := map[store.EntityID]bool{}
	for _, l := range qs.whereQ.Tops() {
		for _, e := range res.Entities(l) {
			rows[e] = true
		}
	}
	return rows, true
}

// whereQuery parses text (an InstaQL query) with only its top levels and
// their where clauses.
func whereQuery(text []byte, attrs *store.Attrs) (*query.Query, error) {
	b, err := whereText(text)
	if err != nil {
		return nil, err
	}
	return query.Parse(b, attrs)
}

// whereText returns the text of whereQuery's query.
func whereText(text []byte) ([]byte, error) {
	// As encoding/json into map[string]map[string]json.RawMessage: every
	// top level and its "$" an object or null, a key given twice its last.
	d := jsonlite.NewDecoder(text)
	object := func(each func(k string) error) error {
		if d.Null() {
			return nil
		}
		return d.Object(each)
	}
	out := map[string]any{}
	err := object(func(ns string) error {
		var where []byte
		err := object(func(k string) error {
			if k != "$" {
				return d.Skip()
			}
			where = nil
			return object(func(k string) error {
				if k != "where" {
					return d.Skip()
				}
				w, err := d.Raw()
				where = w
				return err
			})
		})
		if where != nil {
			out[ns] = map[string]any{"$": map[string]any{"where": jsonlite.Raw(where)}}
		} else {
			out[ns] = map[string]any{}
		}
		return err
	})
	if err == nil {
		err = d.End()
	}
	if err != nil {
		return nil, err
	}
	return jsonlite.AppendAny(nil, out)
}
