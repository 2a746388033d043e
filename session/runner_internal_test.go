package session

import (
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/triplesync/triplesync/query"
	"github.com/triplesync/triplesync/store"
)

// countingSource counts the Scan calls that reach a source.
type countingSource struct {
	src   query.Source
	mu    sync.Mutex
	calls int
}

func (c *countingSource) Scan(scans []query.Scan) ([][]store.Triple, error) {
	c.mu.Lock()
	c.calls++
	c.mu.Unlock()
	return c.src.Scan(scans)
}

// TestWave: evaluations of different shapes (one stage, several stages,
// none) run in step over one wave give each the answer it gets alone,
// in no more underlying scans than the longest of them needs.
func TestWave(t *testing.T) {
	idAttr := store.Attr{ID: tid(1), Namespace: "todos", Label: "id", Type: store.TypeString, Unique: true, Indexed: true}
	title := store.Attr{ID: tid(2), Namespace: "todos", Label: "title", Type: store.TypeString, Indexed: true}
	rank := store.Attr{ID: tid(3), Namespace: "todos", Label: "rank", Type: store.TypeNumber, Indexed: true}
	attrs := store.MustNewAttrs(idAttr, title, rank)
	snap := store.NewSnapshot(attrs)
	var steps []store.Step
	for i := range 30 {
		e := tid(100 + i)
		steps = append(steps,
			store.Step{Op: store.OpAddTriple, E: e, A: idAttr.ID, V: store.Ref(e)},
			store.Step{Op: store.OpAddTriple, E: e, A: title.ID, V: store.String(fmt.Sprintf("t%d", i%7))},
			store.Step{Op: store.OpAddTriple, E: e, A: rank.ID, V: store.Number(float64(i))})
	}
	snap, err := snap.Apply(steps, 1)
	require.NoError(t, err)

	texts := []string{
		`{"todos":{}}`,
		`{"todos":{"$":{"where":{"title":"t3"}}}}`,
		`{"todos":{"$":{"where":{"title":"nothing"}}}}`,
		`{"todos":{"$":{"where":{"rank":{"$gt":20}},"order":{"rank":"desc"},"limit":3}}}`,
		fmt.Sprintf(`{"todos":{"$":{"where":{"id":"%s"}}}}`, tid(105)),
	}
	var want [][]store.Triple
	alone := 0
	for _, text := range texts {
		q, err := query.Parse([]byte(text), attrs)
		require.NoError(t, err, text)
		src := &countingSource{src: query.SnapshotSource(snap)}
		res, err := query.Eval(src, q)
		require.NoError(t, err, text)
		want = append(want, res.Triples)
		alone = max(alone, src.calls)
	}

	src := &countingSource{src: query.SnapshotSource(snap)}
	w := &wave{src: src, active: len(texts)}
	got := make([][]store.Triple, len(texts))
	errs := make([]error, len(texts))
	var wg sync.WaitGroup
	for i, text := range texts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer w.leave()
			q, err := query.Parse([]byte(text), attrs)
			if err != nil {
				errs[i] = err
				return
			}
			res, err := query.Eval(w, q)
			if err != nil {
				errs[i] = err
				return
			}
			got[i] = res.Triples
		}()
	}
	wg.Wait()
	for i, text := range texts {
		require.NoError(t, errs[i], text)
		assert.Equal(t, want[i], got[i], text)
	}
	assert.LessOrEqual(t, src.calls, alone, "scans of one stage travel together")
	assert.Positive(t, src.calls)
}
