package reactor

import (
	"cmp"
	"context"
	"slices"

	"github.com/triplesync/triplesync/internal/errs"
	"github.com/triplesync/triplesync/store"
)

// Storage persists what a client must not lose across restarts and what
// lets it answer queries before the server does. It holds three kinds of
// record, each under its own key:
//
//   - settings, by name: the attribute registry ([SettingAttrs]), so cached
//     queries can be parsed offline at startup;
//   - cached queries, by query-id: the triples of the query's last server
//     result, its processed-tx-id and when it was last used;
//   - pending mutations, by mutation-id: one record each, written when the
//     mutation is made and again when the server confirms it, deleted when
//     no query needs it any more. A storage never rewrites one blob holding
//     every mutation.
//
// The native implementations are [MemStorage] and filestore.Storage; the
// browser's is IndexedDB. All pass reactortest.TestStorage.
//
// The [Client] calls a Storage from one goroutine; implementations need not
// be safe for concurrent use, though the ones in this module are.
type Storage interface {
	// Load returns every stored record: settings by name, cached queries
	// by id, mutations in Seq order (equal Seqs in an order that does not
	// change from one Load to the next). The caller owns the State. A storage
	// that was never written loads as an empty State. Errors: the
	// context's, IO errors, and errors wrapping [ErrCorrupt] for a record
	// that cannot be decoded (a storage may instead drop an undecodable
	// cached query, which is only a cache, but never a mutation).
	Load(ctx context.Context) (*State, error)

	// Write applies a batch: every put, then every delete (so a key in
	// both ends deleted). Puts replace the record with the same key;
	// deleting an absent key does nothing. A Write that returns nil is
	// durable. One that fails, or a crash during it, may have applied any
	// subset of the records, each either wholly or not at all: never a
	// torn record. Write keeps no reference to b. Errors: the context's
	// and IO errors.
	Write(ctx context.Context, b *Batch) error
}

// SettingAttrs is the setting holding the attribute registry as the JSON
// array init-ok carries.
const SettingAttrs = "attrs"

// State is what [Storage.Load] returns.
type State struct {
	Settings  map[string][]byte
	Queries   []CachedQuery // by ID
	Mutations []Mutation    // by Seq
}

// CachedQuery is a query's last server result as stored.
type CachedQuery struct {
	ID            string         // the query-id (see [QueryID])
	Q             []byte         // the query's canonical JSON text
	Triples       []store.Triple // the result's triples, in EAV order
	ProcessedTxID store.TxID     // the result's processed-tx-id
	LastUsed      int64          // ms since the epoch: last subscribed or unsubscribed
}

// Mutation is a pending mutation as stored: the client's own write, made
// optimistically and kept until every query has seen it come back from the
// server.
type Mutation struct {
	ID        string       // the mutation-id sent with transact, a UUID
	Seq       uint64       // the client's order of mutations, and of sending; tabs sharing a storage each count their own, so Seqs repeat
	Steps     []store.Step // the tx-steps
	Created   int64        // ms since the epoch; the CreatedAt of the triples it adds locally
	TxID      store.TxID   // the tx-id of transact-ok; zero until confirmed
	Confirmed int64        // ms since the epoch when transact-ok arrived; zero until then
}

// Setting is one named setting in a [Batch].
type Setting struct {
	Key   string
	Value []byte
}

// Batch is a set of storage writes the core emits with one [Ready]. Each
// key appears at most once per list; the core never puts and deletes the
// same key in one batch, but [Batch.Merge] may produce batches that do
// (deletes win, as [Storage.Write] says).
type Batch struct {
	PutSettings     []Setting
	DeleteSettings  []string
	PutQueries      []CachedQuery
	DeleteQueries   []string
	PutMutations    []Mutation // in Seq order
	DeleteMutations []string
}

// Empty reports whether b writes nothing.
func (b *Batch) Empty() bool {
	return len(b.PutSettings) == 0 && len(b.DeleteSettings) == 0 && len(b.PutQueries) == 0 &&
		len(b.DeleteQueries) == 0 && len(b.PutMutations) == 0 && len(b.DeleteMutations) == 0
}

// Merge returns the batch that has the effect of writing b and then next:
// for each key the later write wins. A driver whose write failed merges the
// failed batch into the next one and writes both.
func (b *Batch) Merge(next *Batch) *Batch {
	out := &Batch{}
	settings := map[string]*Setting{}
	queries := map[string]*CachedQuery{}
	mutations := map[string]*Mutation{}
	delS, delQ, delM := map[string]bool{}, map[string]bool{}, map[string]bool{}
	for _, x := range []*Batch{b, next} {
		for i := range x.PutSettings {
			settings[x.PutSettings[i].Key] = &x.PutSettings[i]
			delete(delS, x.PutSettings[i].Key)
		}
		for _, k := range x.DeleteSettings {
			delete(settings, k)
			delS[k] = true
		}
		for i := range x.PutQueries {
			queries[x.PutQueries[i].ID] = &x.PutQueries[i]
			delete(delQ, x.PutQueries[i].ID)
		}
		for _, k := range x.DeleteQueries {
			delete(queries, k)
			delQ[k] = true
		}
		for i := range x.PutMutations {
			mutations[x.PutMutations[i].ID] = &x.PutMutations[i]
			delete(delM, x.PutMutations[i].ID)
		}
		for _, k := range x.DeleteMutations {
			delete(mutations, k)
			delM[k] = true
		}
	}
	// Sorted as pointers: see sortBySeq.
	ps := make([]*Setting, 0, len(settings))
	for _, s := range settings {
		ps = append(ps, s)
	}
	slices.SortFunc(ps, func(x, y *Setting) int { return cmp.Compare(x.Key, y.Key) })
	for _, s := range ps {
		out.PutSettings = append(out.PutSettings, *s)
	}
	pq := make([]*CachedQuery, 0, len(queries))
	for _, q := range queries {
		pq = append(pq, q)
	}
	slices.SortFunc(pq, func(x, y *CachedQuery) int { return cmp.Compare(x.ID, y.ID) })
	for _, q := range pq {
		out.PutQueries = append(out.PutQueries, *q)
	}
	for _, m := range mutations {
		out.PutMutations = append(out.PutMutations, *m)
	}
	SortBySeq(out.PutMutations)
	out.DeleteSettings = sortedKeys(delS)
	out.DeleteQueries = sortedKeys(delQ)
	out.DeleteMutations = sortedKeys(delM)
	return out
}

// SortBySeq sorts mutations by Seq, keeping the order of equal ones. It
// sorts pointers and then moves the records: every element type that
// slices' sort functions are instantiated for costs the WebAssembly client
// its own copy of the sorting code, and all pointer types share one.
func SortBySeq(ms []Mutation) {
	if len(ms) < 2 {
		return
	}
	ps := make([]*Mutation, len(ms))
	sorted := true
	for i := range ms {
		ps[i] = &ms[i]
		sorted = sorted && (i == 0 || ms[i-1].Seq <= ms[i].Seq)
	}
	if sorted {
		return
	}
	slices.SortStableFunc(ps, func(x, y *Mutation) int { return cmp.Compare(x.Seq, y.Seq) })
	out := make([]Mutation, len(ms))
	for i, p := range ps {
		out[i] = *p
	}
	copy(ms, out)
}

func sortedKeys(m map[string]bool) []string {
	if len(m) == 0 {
		return nil
	}
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// recordVersion is the version the record formats storages write carry
// (see record.go), so that a later format can read older records.
const recordVersion = 1

// corrupt returns an error wrapping [ErrCorrupt] whose message is
// ErrCorrupt's, ": " and detail.
func corrupt(detail string) error { return errs.With(ErrCorrupt.Error()+": "+detail, ErrCorrupt) }
