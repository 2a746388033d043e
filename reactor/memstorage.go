package reactor

import (
	"context"
	"maps"
	"slices"
	"sync"

	"github.com/triplesync/triplesync/internal/errs"
	"github.com/triplesync/triplesync/internal/jsonlite"
)

// MemStorage is a [Storage] in memory: for tests, and for programs that
// want a client without persistence. It keeps records in their encoded
// form, so what it returns never aliases what it was given, exactly as a
// real storage behaves. It is safe for concurrent use.
type MemStorage struct {
	mu        sync.Mutex
	settings  map[string][]byte
	queries   map[string][]byte
	mutations map[string][]byte
	writes    int
}

var _ Storage = (*MemStorage)(nil)

// NewMemStorage returns an empty MemStorage.
func NewMemStorage() *MemStorage {
	return &MemStorage{settings: map[string][]byte{}, queries: map[string][]byte{}, mutations: map[string][]byte{}}
}

// Load implements [Storage].
func (s *MemStorage) Load(ctx context.Context) (*State, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	st := &State{Settings: map[string][]byte{}}
	for k, v := range s.settings {
		st.Settings[k] = slices.Clone(v)
	}
	for _, k := range slices.Sorted(maps.Keys(s.queries)) {
		var q CachedQuery
		if err := jsonlite.Unmarshal(s.queries[k], q.UnmarshalJSON); err != nil {
			return nil, errs.Wrap("load query "+k, err)
		}
		st.Queries = append(st.Queries, q)
	}
	for _, k := range slices.Sorted(maps.Keys(s.mutations)) { // equal Seqs by id, as IndexedDB gives them
		v := s.mutations[k]
		var m Mutation
		if err := jsonlite.Unmarshal(v, m.UnmarshalJSON); err != nil {
			return nil, errs.Wrap("load mutation", err)
		}
		st.Mutations = append(st.Mutations, m)
	}
	SortBySeq(st.Mutations)
	return st, nil
}

// Write implements [Storage]. It applies the whole batch or, when a record
// cannot be encoded, none of it.
func (s *MemStorage) Write(ctx context.Context, b *Batch) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	queries := make(map[string][]byte, len(b.PutQueries))
	for _, q := range b.PutQueries {
		data, err := q.MarshalJSON()
		if err != nil {
			err = jsonlite.MarshalerError("reactor.CachedQuery", err)
			return errs.Wrap("encode query "+q.ID, err)
		}
		queries[q.ID] = data
	}
	mutations := make(map[string][]byte, len(b.PutMutations))
	for _, m := range b.PutMutations {
		data, err := m.MarshalJSON()
		if err != nil {
			err = jsonlite.MarshalerError("reactor.Mutation", err)
			return errs.Wrap("encode mutation "+m.ID, err)
		}
		mutations[m.ID] = data
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.writes++
	for _, st := range b.PutSettings {
		s.settings[st.Key] = slices.Clone(st.Value)
	}
	maps.Copy(s.queries, queries)
	maps.Copy(s.mutations, mutations)
	for _, k := range b.DeleteSettings {
		delete(s.settings, k)
	}
	for _, k := range b.DeleteQueries {
		delete(s.queries, k)
	}
	for _, k := range b.DeleteMutations {
		delete(s.mutations, k)
	}
	return nil
}

// Writes returns the number of successful [MemStorage.Write] calls, for
// tests that check batching.
func (s *MemStorage) Writes() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.writes
}
