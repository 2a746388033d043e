package reactor

import (
	"github.com/triplesync/triplesync/query"
	"github.com/triplesync/triplesync/store"
)

// Relevance: a pending mutation is replayed over a query's store only if
// it can change the query's result, judged by namespace. A query reads
// triples of the namespaces of its levels and of every attribute it
// names (where leaves and their hops, links, order, fields) — for a link
// attribute, of its target namespace too. A mutation writes the
// namespaces of the attributes its triple steps name, and for a link the
// target's. A mutation that deletes an entity (deletes cascade along
// links), changes attributes, or names an unknown attribute is relevant to
// every query.
//
// InstantDB replays every mutation over every query's store. Skipping the
// irrelevant ones changes no result — a triple of a namespace the query
// does not read cannot reach its tree — except when one mutation writes
// to two namespaces and fails on something the query does not read (a
// unique value taken in the other namespace): replayed over all stores it
// is skipped everywhere, filtered it may apply where the conflicting
// triple was not replayed. The server decides either way, and the
// rejection rolls it back. In exchange a write costs nothing to queries
// of other namespaces: no replay, no re-evaluation.

// nsSet is a set of namespaces; all means every namespace.
type nsSet struct {
	all bool
	ns  map[string]bool
	one string // the namespace, while ns holds one: most sets
}

func (s *nsSet) add(ns string) {
	if s.ns == nil {
		s.ns = map[string]bool{}
	}
	s.ns[ns] = true
	if len(s.ns) == 1 {
		s.one = ns
	}
}

func (s *nsSet) addAttr(a *store.Attr) {
	if a == nil {
		return
	}
	s.add(a.Namespace)
	if a.IsRef() {
		s.add(a.RefNamespace)
	}
}

func (s *nsSet) intersects(o *nsSet) bool {
	if s.all || o.all {
		return true
	}
	if len(s.ns) == 1 && len(o.ns) == 1 { // every query pairs with every pending mutation
		return s.one == o.one
	}
	a, b := s.ns, o.ns
	if len(a) > len(b) {
		a, b = b, a
	}
	for ns := range a {
		if b[ns] {
			return true
		}
	}
	return false
}

// queryNamespaces returns the namespaces q reads.
func queryNamespaces(q *query.Query) nsSet {
	var s nsSet
	var cond func(c *query.Cond)
	cond = func(c *query.Cond) {
		if c == nil {
			return
		}
		if c.Leaf != nil {
			for _, h := range c.Leaf.Hops {
				s.addAttr(h.Attr)
			}
			s.addAttr(c.Leaf.Attr)
		}
		for _, sub := range c.Subs {
			cond(sub)
		}
	}
	for _, l := range q.Levels() {
		s.add(l.Namespace)
		s.addAttr(l.ID)
		s.addAttr(l.Link)
		s.addAttr(l.Order.Attr)
		for _, f := range l.Fields {
			s.addAttr(f)
		}
		cond(l.Where)
	}
	return s
}

// mutationNamespaces returns the namespaces steps write, with attrs the
// registry their attributes are looked up in.
func mutationNamespaces(attrs *store.Attrs, steps []store.Step) nsSet {
	var s nsSet
	for i := range steps {
		st := &steps[i]
		switch st.Op {
		case store.OpAddTriple, store.OpDeepMergeTriple, store.OpRetractTriple:
			a, ok := attrs.ByID(st.A)
			if !ok {
				return nsSet{all: true}
			}
			s.addAttr(a)
			if st.Lookup != nil {
				la, ok := attrs.ByID(st.Lookup.A)
				if !ok {
					return nsSet{all: true}
				}
				s.addAttr(la)
			}
		default: // delete-entity cascades; attribute steps change what every query means
			return nsSet{all: true}
		}
	}
	return s
}

// relevant reports whether m can change qs's result (see above). A query
// that does not parse counts every mutation as relevant.
func (c *Core) relevant(m *mutation, qs *querySub) bool {
	eff := c.effAttrs()
	if m.nsAttrs != eff {
		m.ns, m.nsAttrs = mutationNamespaces(eff, m.Steps), eff
	}
	q, err := c.parsed(qs)
	if err != nil {
		return true
	}
	if qs.nsQuery != q {
		qs.ns, qs.nsQuery = queryNamespaces(q), q
	}
	return m.ns.intersects(&qs.ns)
}
