package topics

import (
	"github.com/triplesync/triplesync/store"
)

// SchemaAttr is the pseudo-attribute under which attribute (schema) changes
// are published: the topic [* _ {SchemaAttr} {"todos"}] stands for "an
// attribute of namespace todos, or pointing at it, was added, changed or
// deleted". Its id, ffffffff-ffff-ffff-ffff-ffffffffffff, is not a
// version-4 UUID, so [store.NewEntityID] never hands it out.
//
// Every query subscribes to [SchemaTopic] of the namespaces it names. That
// covers what a topic on attribute ids cannot: a query names attributes by
// namespace and label, so adding an attribute (a label that did not
// resolve now does), renaming one, or changing its type, cardinality,
// indexing or link target can change the query's plan and result without
// touching a triple.
var SchemaAttr = store.AttrID{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}

// SchemaTopic returns the topic on [SchemaAttr] for the given namespaces.
func SchemaTopic(namespaces ...string) Topic {
	vs := make([]store.Value, len(namespaces))
	for i, ns := range namespaces {
		vs[i] = store.String(ns)
	}
	return Topic{A: ID(SchemaAttr), V: Values(vs...)}
}

// OfChange returns the topics of a committed change: [AppendTriple] for
// each triple change and [AppendAttr] for each attribute change.
func OfChange(c *store.Change) []Topic {
	return AppendChange(make([]Topic, 0, len(c.Triples)+2*len(c.Attrs)), c)
}

// AppendChange appends the topics of c to dst; see [OfChange].
func AppendChange(dst []Topic, c *store.Change) []Topic {
	for i := range c.Triples {
		dst = AppendTriple(dst, &c.Triples[i])
	}
	for i := range c.Attrs {
		dst = AppendAttr(dst, &c.Attrs[i])
	}
	return dst
}

// AppendTriple appends the topics of one triple change to dst:
//
//	insert: [new flags, {e}, {a}, {new v}]
//	delete: [old flags, {e}, {a}, {old v}]
//	update: [old|new flags, {e}, {a}, {old v, new v}]
//
// An update that moves a row to another entity or attribute (which the
// triples table's key forbids, but the WAL would carry) gives one topic for
// the old row and one for the new. An update that changes neither value
// nor key (created_at, flags) still gives its topic: the result a client
// holds carries those columns too. A row in no index has zero flags, which
// [Topic.Match] reads as any index: coarse, never wrong.
func AppendTriple(dst []Topic, c *store.TripleChange) []Topic {
	switch c.Op {
	case store.OpInsert:
		return append(dst, tripleTopic(c.NewFlags, c.New.E, c.New.A, values1(c.New.V)))
	case store.OpDelete:
		return append(dst, tripleTopic(c.OldFlags, c.Old.E, c.Old.A, values1(c.Old.V)))
	}
	if c.Old.E == c.New.E && c.Old.A == c.New.A {
		return append(dst, tripleTopic(c.OldFlags|c.NewFlags, c.New.E, c.New.A, values2(c.Old.V, c.New.V)))
	}
	return append(dst,
		tripleTopic(c.OldFlags, c.Old.E, c.Old.A, values1(c.Old.V)),
		tripleTopic(c.NewFlags, c.New.E, c.New.A, values1(c.New.V)))
}

func tripleTopic(flags store.IndexFlags, e, a store.EntityID, v Part) Topic {
	return Topic{Idx: flags, E: ID(e), A: ID(a), V: v}
}

// values1 returns the set holding only v, without sorting.
func values1(v store.Value) Part { return Part{kind: kindValues, vals: []store.Value{v}} }

// values2 returns the set {a, b}, sorted without a general sort.
func values2(a, b store.Value) Part {
	switch c := store.Compare(a, b); {
	case c == 0:
		return values1(a)
	case c > 0:
		a, b = b, a
	}
	return Part{kind: kindValues, vals: []store.Value{a, b}}
}

// AppendAttr appends the topics of one attribute change to dst: every
// triple of the attribute ([* _ {id} _], old and new id) and the
// [SchemaTopic] of every namespace the attribute belongs to or links to,
// before and after.
func AppendAttr(dst []Topic, c *store.AttrChange) []Topic {
	var ids []store.EntityID
	var nss []string
	add := func(a *store.Attr) {
		ids = append(ids, a.ID)
		nss = append(nss, a.Namespace)
		if a.RefNamespace != "" {
			nss = append(nss, a.RefNamespace)
		}
	}
	if c.Op != store.OpInsert {
		add(&c.Old)
	}
	if c.Op != store.OpDelete {
		add(&c.New)
	}
	return append(dst, Topic{A: IDs(ids...)}, SchemaTopic(nss...))
}

// Buffer builds the topics of one triple change without allocating, for
// callers that look each change up at once and drop its topics.
type Buffer struct {
	ids  [4]store.EntityID
	vals [4]store.Value
	ts   [2]Topic
}

// Triple returns the topics [AppendTriple] gives for c, built in b's
// storage: they are valid until the next call on b.
func (b *Buffer) Triple(c *store.TripleChange) []Topic {
	topic := func(i int, flags store.IndexFlags, e, a store.EntityID, vs ...store.Value) Topic {
		b.ids[2*i], b.ids[2*i+1] = e, a
		n := copy(b.vals[2*i:2*i+2], vs)
		return Topic{Idx: flags,
			E: Part{kind: kindIDs, ids: b.ids[2*i : 2*i+1 : 2*i+1]},
			A: Part{kind: kindIDs, ids: b.ids[2*i+1 : 2*i+2 : 2*i+2]},
			V: Part{kind: kindValues, vals: b.vals[2*i : 2*i+n : 2*i+n]}}
	}
	switch c.Op {
	case store.OpInsert:
		b.ts[0] = topic(0, c.NewFlags, c.New.E, c.New.A, c.New.V)
		return b.ts[:1]
	case store.OpDelete:
		b.ts[0] = topic(0, c.OldFlags, c.Old.E, c.Old.A, c.Old.V)
		return b.ts[:1]
	}
	if c.Old.E == c.New.E && c.Old.A == c.New.A {
		switch x := store.Compare(c.Old.V, c.New.V); {
		case x == 0:
			b.ts[0] = topic(0, c.OldFlags|c.NewFlags, c.New.E, c.New.A, c.New.V)
		case x < 0:
			b.ts[0] = topic(0, c.OldFlags|c.NewFlags, c.New.E, c.New.A, c.Old.V, c.New.V)
		default:
			b.ts[0] = topic(0, c.OldFlags|c.NewFlags, c.New.E, c.New.A, c.New.V, c.Old.V)
		}
		return b.ts[:1]
	}
	b.ts[0] = topic(0, c.OldFlags, c.Old.E, c.Old.A, c.Old.V)
	b.ts[1] = topic(1, c.NewFlags, c.New.E, c.New.A, c.New.V)
	return b.ts[:2]
}
