package reactor

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/triplesync/triplesync/internal/wire"
	"github.com/triplesync/triplesync/query"
	"github.com/triplesync/triplesync/store"
)

// benchShape is a benchmark workload: nq queries spread over nns
// namespaces (each with 200 entities: id, title indexed, done, rank
// indexed), each query a page of `page` entities filtered on done and a
// rank range and ordered by title; np pending mutations spread over the
// namespaces, four in five updating a random entity's title and done,
// one in five creating an entity.
type benchShape struct {
	nns, nq, page, np int
}

func (s benchShape) String() string {
	return fmt.Sprintf("ns=%d/queries=%d/page=%d/pending=%d", s.nns, s.nq, s.page, s.np)
}

// benchCore returns an online core with the shape's queries subscribed
// and answered from a server store, and its mutations pending.
func benchCore(tb testing.TB, sh benchShape) *Core {
	r := rand.New(rand.NewPCG(1, 2))
	id := func() store.EntityID {
		var e store.EntityID
		binary.LittleEndian.PutUint64(e[:8], r.Uint64())
		binary.LittleEndian.PutUint64(e[8:], r.Uint64())
		e[6] = e[6]&0x0f | 0x40
		e[8] = e[8]&0x3f | 0x80
		return e
	}
	var list []store.Attr
	nsName := func(i int) string { return fmt.Sprintf("things%d", i) }
	for i := range sh.nns {
		ns := nsName(i)
		list = append(list,
			store.Attr{ID: id(), Namespace: ns, Label: "id", Type: store.TypeString, Unique: true, Indexed: true},
			store.Attr{ID: id(), Namespace: ns, Label: "title", Type: store.TypeString, Indexed: true},
			store.Attr{ID: id(), Namespace: ns, Label: "done", Type: store.TypeBoolean},
			store.Attr{ID: id(), Namespace: ns, Label: "rank", Type: store.TypeNumber, Indexed: true})
	}
	attrs := store.MustNewAttrs(list...)
	ents := make([][]store.EntityID, sh.nns)
	var ops []store.TxOp
	for n := range sh.nns {
		for i := range 200 {
			e := id()
			ents[n] = append(ents[n], e)
			ops = append(ops, store.TxOp{Action: "create", Namespace: nsName(n), ID: e,
				Args: map[string]any{"title": fmt.Sprintf("item %03d", i), "done": i%3 == 0, "rank": float64(i)}})
		}
	}
	steps, err := store.Transform(attrs, ops, nil, store.TransformOptions{})
	require.NoError(tb, err)
	server, err := store.NewSnapshot(attrs).Apply(steps, 1000)
	require.NoError(tb, err)

	clock := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	c, err := NewCore(Config{Now: func() time.Time { return clock }, Rand: rand.NewChaCha8([32]byte{})})
	require.NoError(tb, err)
	c.Load(nil)
	c.ConnOpened()
	require.NoError(tb, c.Step(&wire.InitOK{SessionID: "s", Attrs: attrs.List()}))
	for i := range sh.nq {
		text := fmt.Sprintf(`{%q:{"$":{"where":{"done":%v,"rank":{"$gte":%d}},"order":{"title":"asc"},"limit":%d}}}`,
			nsName(i%sh.nns), i%2 == 0, 5*i, sh.page)
		_, err := c.Subscribe([]byte(text))
		require.NoError(tb, err)
		q, err := query.Parse([]byte(text), attrs)
		require.NoError(tb, err)
		res, err := query.Eval(query.SnapshotSource(server), q)
		require.NoError(tb, err)
		qid, _, err := QueryID([]byte(text))
		require.NoError(tb, err)
		require.NoError(tb, c.Step(&wire.AddQueryOK{QueryID: qid, Result: res.Triples, ProcessedTxID: 1}))
	}
	for i := range sh.np {
		n := i % sh.nns
		var op store.TxOp
		if i%5 == 4 {
			op = store.TxOp{Action: "create", Namespace: nsName(n), ID: id(),
				Args: map[string]any{"title": fmt.Sprintf("new %03d", i), "done": false, "rank": float64(r.IntN(200))}}
		} else {
			op = store.TxOp{Action: "update", Namespace: nsName(n), ID: ents[n][r.IntN(200)],
				Args: map[string]any{"title": fmt.Sprintf("edit %03d", i), "done": r.IntN(2) == 0}}
		}
		_, err := c.Transact([]store.TxOp{op})
		require.NoError(tb, err)
	}
	c.out = newOutput()
	return c
}

// BenchmarkReplay measures recomputing subscribed queries' results with
// their pending mutations replayed.
//
//   - cold: every query's store replays all its pending mutations and is
//     evaluated again — what reconnecting costs once every add-query-ok
//     is in (each brings a new store), or a new registry.
//   - reconnect: what a reconnect costs once the server has answered:
//     every query gets an add-query-ok carrying its whole result (the
//     same triples), so each loads a new store, replays its pending
//     mutations over it and is evaluated whole — Load, replay and Eval,
//     where cold only replays (its stores are the ones last evaluated
//     over, so nothing changed for query.Update to look at).
//   - transact: one more write on top of the pending ones, then its
//     rejection: the replay cache applies only the new write, to the
//     queries of its namespace, and the rejection returns to the cached
//     snapshot before it.
//
// The one-namespace shapes are the worst case: every write is replayed
// over every query's store.
func BenchmarkReplay(b *testing.B) {
	shapes := []benchShape{
		{nns: 1, nq: 20, page: 10, np: 100},
		{nns: 1, nq: 20, page: 50, np: 100},
		{nns: 4, nq: 20, page: 10, np: 100},
		{nns: 4, nq: 20, page: 50, np: 100},
	}
	for _, sh := range shapes {
		c := benchCore(b, sh)
		subs := c.subscribed()
		b.Run("cold/"+sh.String(), func(b *testing.B) {
			b.ReportAllocs()
			cpu := cpuTime()
			for b.Loop() {
				for _, qs := range subs {
					qs.replay, qs.delivered = replayCache{}, false
					c.recompute(qs)
				}
				c.out = newOutput()
			}
			b.ReportMetric(float64(cpuTime()-cpu)/float64(b.N), "cpu-ns/op")
		})
		// replay-eval: cold, and every result evaluated whole as well (no
		// previous result to update) — the issue's "replay 100 pending
		// mutations over 20 query stores and recompute their results",
		// without reloading the stores as reconnect does.
		b.Run("replay-eval/"+sh.String(), func(b *testing.B) {
			b.ReportAllocs()
			cpu := cpuTime()
			for b.Loop() {
				for _, qs := range subs {
					qs.replay, qs.delivered, qs.evalSnap, qs.result = replayCache{}, false, nil, nil
					c.recompute(qs)
				}
				c.out = newOutput()
			}
			b.ReportMetric(float64(cpuTime()-cpu)/float64(b.N), "cpu-ns/op")
		})
		b.Run("reconnect/"+sh.String(), func(b *testing.B) {
			b.ReportAllocs()
			answers := make([]*wire.AddQueryOK, len(subs))
			for i, qs := range subs {
				answers[i] = &wire.AddQueryOK{QueryID: qs.id, Result: qs.serverTriples(), ProcessedTxID: qs.processed}
			}
			cpu := cpuTime()
			for b.Loop() {
				for _, m := range answers {
					if err := c.Step(m); err != nil {
						b.Fatal(err)
					}
				}
				c.out = newOutput()
			}
			b.ReportMetric(float64(cpuTime()-cpu)/float64(b.N), "cpu-ns/op")
		})
		b.Run("transact/"+sh.String(), func(b *testing.B) {
			b.ReportAllocs()
			m := c.pending[0]
			e, ns := m.Steps[0].E, m.Steps[0].Namespace
			if a, ok := c.attrs.ByID(m.Steps[0].A); ok {
				ns = a.Namespace
			}
			cpu := cpuTime()
			for b.Loop() {
				id, err := c.Transact([]store.TxOp{{Action: "update", Namespace: ns, ID: e, Args: map[string]any{"title": "again"}}})
				if err != nil {
					b.Fatal(err)
				}
				c.reject(id, ErrRejected)
				c.out = newOutput()
			}
			b.ReportMetric(float64(cpuTime()-cpu)/float64(b.N), "cpu-ns/op")
		})
	}
}
