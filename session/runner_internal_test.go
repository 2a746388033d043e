package session

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/triplesync/triplesync/internal/perm"
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

// failingBackend is a Backend whose source fails every Scan that holds a
// scan of attribute bad, as Postgres fails a whole batch for one bad
// statement.
type failingBackend struct {
	snap  *store.Snapshot
	bad   store.AttrID
	mu    sync.Mutex
	reads int
}

func (f *failingBackend) Read(ctx context.Context, fn func(src query.Source) error) error {
	f.mu.Lock()
	f.reads++
	f.mu.Unlock()
	return fn(failingSource{query.SnapshotSource(f.snap), f.bad})
}

func (f *failingBackend) LoadAttrs(context.Context) (*store.Attrs, error) { return f.snap.Attrs(), nil }

func (f *failingBackend) Transact(context.Context, TransactRequest) (TransactResult, error) {
	return TransactResult{}, errors.New("read-only")
}

type failingSource struct {
	src query.Source
	bad store.AttrID
}

func (f failingSource) Scan(scans []query.Scan) ([][]store.Triple, error) {
	for _, s := range scans {
		if s.A == f.bad {
			return nil, errors.New("refused")
		}
	}
	return f.src.Scan(scans)
}

// TestBatchIsolation: a query whose scans fail does not fail the queries
// batched with it: after the batch fails, each is tried alone.
func TestBatchIsolation(t *testing.T) {
	idAttr := store.Attr{ID: tid(1), Namespace: "todos", Label: "id", Type: store.TypeString, Unique: true, Indexed: true}
	title := store.Attr{ID: tid(2), Namespace: "todos", Label: "title", Type: store.TypeString, Indexed: true}
	bad := store.Attr{ID: tid(3), Namespace: "todos", Label: "bad", Type: store.TypeString, Indexed: true}
	attrs := store.MustNewAttrs(idAttr, title, bad)
	e := tid(100)
	snap, err := store.NewSnapshot(attrs).Apply([]store.Step{
		{Op: store.OpAddTriple, E: e, A: idAttr.ID, V: store.Ref(e)},
		{Op: store.OpAddTriple, E: e, A: title.ID, V: store.String("t")},
	}, 1)
	require.NoError(t, err)
	backend := &failingBackend{snap: snap, bad: bad.ID}
	rules, err := perm.ParseRules(nil, true)
	require.NoError(t, err)
	srv, err := NewServer(Config{Backend: backend, Rules: rules, Logger: slog.New(slog.DiscardHandler)})
	require.NoError(t, err)
	require.NoError(t, srv.Open(t.Context()))
	t.Cleanup(func() { _ = srv.Close(context.Background()) })

	texts := []string{
		`{"todos":{"$":{"where":{"title":"t"}}}}`,
		`{"todos":{"$":{"where":{"bad":"x"}}}}`,
		`{"todos":{}}`,
	}
	jobs := make([]*runJob, len(texts))
	for i, text := range texts {
		q, err := query.Parse([]byte(text), attrs)
		require.NoError(t, err)
		jobs[i] = &runJob{sh: &shared{}, q: q, attrs: attrs, rules: srv.rules.Load(), done: make(chan struct{})}
	}
	srv.runs.runBatch(jobs)
	for i, j := range jobs {
		<-j.done
		if i == 1 {
			assert.Error(t, j.err, texts[i])
			continue
		}
		require.NoError(t, j.err, texts[i])
		assert.NotEmpty(t, j.res.Triples, texts[i])
	}
	assert.Equal(t, 1+len(texts), backend.reads, "the batch, then each query alone")
}
