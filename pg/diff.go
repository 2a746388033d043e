package pg

import (
	"github.com/jackc/pgx/v5"

	"github.com/triplesync/triplesync/store"
)

// diff is what changed between two snapshots, by triple key.
type diff struct {
	removed, added []store.Triple
	// kept are triples in both, with their CreatedAt after.
	kept []store.Triple
}

func diffOf(before, after *store.Snapshot) diff {
	var d diff
	old := map[store.TripleKey]bool{}
	for _, t := range before.Triples() {
		old[t.Key()] = true
	}
	for _, t := range after.Triples() {
		k := t.Key()
		if old[k] {
			delete(old, k)
			d.kept = append(d.kept, t)
		} else {
			d.added = append(d.added, t)
		}
	}
	for _, t := range before.Triples() {
		if old[t.Key()] {
			d.removed = append(d.removed, t)
		}
	}
	return d
}

// writes queues the statements that turn the database into w.after: the
// attrs rows that changed, then the triples removed, those whose
// created_at or flags changed, and those added, each with the flags of its
// attribute.
func (w *work) writes() *pgx.Batch {
	b := &pgx.Batch{}
	ba, aa := w.before.Attrs(), w.after.Attrs()
	for _, a := range ba.All() {
		if _, ok := aa.ByID(a.ID); !ok {
			b.Queue(deleteAttr, [16]byte(a.ID)) // first: its (namespace, label) may be reused
		}
	}
	for _, a := range aa.All() {
		old, ok := ba.ByID(a.ID)
		switch {
		case !ok:
			b.Queue(insertAttr, attrArgs(a)...)
		case *old != *a:
			b.Queue(updateAttr, attrArgs(a)...)
		}
	}
	d := diffOf(w.before, w.after)
	var del, upd, ins tripleRows
	for _, t := range d.removed {
		del.add(t, 0)
	}
	old := map[store.TripleKey]int64{}
	for _, t := range w.before.Triples() {
		old[t.Key()] = t.CreatedAt
	}
	for _, t := range d.kept {
		a, _ := aa.ByID(t.A)
		if f := a.Flags(); f != w.flags[t.Key()] || t.CreatedAt != old[t.Key()] {
			upd.add(t, f)
		}
	}
	for _, t := range d.added {
		a, _ := aa.ByID(t.A)
		ins.add(t, a.Flags())
	}
	del.queueDelete(b)
	upd.queueUpdate(b)
	ins.queueInsert(b)
	return b
}
