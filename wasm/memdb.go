package wasm

import (
	"context"
	"maps"
	"slices"
	"sync"
)

// MemFactory is the in-memory twin of [IndexedDB]: databases of object
// stores in maps, with IndexedDB's semantics where [Storage] relies on
// them (a transaction applies wholly or not at all, a deleted database's
// connections are closed). Tests on the host run [Storage] over it, and
// inject faults with WriteFn. It is safe for concurrent use.
type MemFactory struct {
	// WriteFn, when set, is called before each write transaction is
	// applied; an error it returns fails the transaction, which then
	// applies nothing (as an aborted IndexedDB transaction). Set it before
	// the factory is used, or with SetWriteFn while it is.
	WriteFn func(db string, puts []Put, d Durability) error

	mu   sync.Mutex
	dbs  map[string]*memData
	conn []*memDB
	log  []WriteLog
}

// WriteLog describes one committed write transaction of a [MemFactory].
type WriteLog struct {
	DB         string
	Stores     []string // the stores written, sorted
	Puts       int      // puts and deletes
	Durability Durability
}

type memData struct {
	stores map[string]map[string][]byte
}

var (
	_ Factory = (*MemFactory)(nil)
	_ DB      = (*memDB)(nil)
)

// NewMemFactory returns a MemFactory without databases.
func NewMemFactory() *MemFactory {
	return &MemFactory{dbs: map[string]*memData{}}
}

// Open implements [Factory].
func (f *MemFactory) Open(ctx context.Context, name string, stores []string) (DB, bool, error) {
	if err := ctx.Err(); err != nil {
		return nil, false, &DBError{DB: name, Op: "open", Err: err}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	d, ok := f.dbs[name]
	if !ok {
		d = &memData{stores: map[string]map[string][]byte{}}
		f.dbs[name] = d
	}
	for _, s := range stores {
		if d.stores[s] == nil {
			d.stores[s] = map[string][]byte{}
		}
	}
	db := &memDB{f: f, name: name}
	f.conn = append(f.conn, db)
	return db, !ok, nil
}

// Exists implements [Factory].
func (f *MemFactory) Exists(ctx context.Context, name string) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, &DBError{DB: name, Op: "list", Err: err}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	_, ok := f.dbs[name]
	return ok, nil
}

// Delete implements [Factory]. Open connections to the database are
// closed first, as a versionchange closes them in a browser.
func (f *MemFactory) Delete(ctx context.Context, name string) error {
	if err := ctx.Err(); err != nil {
		return &DBError{DB: name, Op: "delete", Err: err}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, c := range f.conn {
		if c.name == name {
			c.closed = true
		}
	}
	delete(f.dbs, name)
	return nil
}

// SetWriteFn replaces WriteFn safely while the factory is in use.
func (f *MemFactory) SetWriteFn(fn func(db string, puts []Put, d Durability) error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.WriteFn = fn
}

// Names returns the names of the existing databases, sorted.
func (f *MemFactory) Names() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Sorted(maps.Keys(f.dbs))
}

// CloseAll closes every open connection, as the browser does when it
// clears site data or a tab's database is forcibly closed. Databases and
// their data stay.
func (f *MemFactory) CloseAll() {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, c := range f.conn {
		c.closed = true
	}
	f.conn = nil
}

// Log returns the committed write transactions, oldest first.
func (f *MemFactory) Log() []WriteLog {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.log)
}

// Put stores a record directly, bypassing any connection: for tests that
// prepare a database (an older format's, say).
func (f *MemFactory) Put(db, store, key string, value []byte) {
	f.mu.Lock()
	defer f.mu.Unlock()
	d := f.dbs[db]
	if d == nil {
		d = &memData{stores: map[string]map[string][]byte{}}
		f.dbs[db] = d
	}
	if d.stores[store] == nil {
		d.stores[store] = map[string][]byte{}
	}
	d.stores[store][key] = slices.Clone(value)
}

// Get returns a record directly, for tests.
func (f *MemFactory) Get(db, store, key string) ([]byte, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	d := f.dbs[db]
	if d == nil {
		return nil, false
	}
	v, ok := d.stores[store][key]
	return slices.Clone(v), ok
}

type memDB struct {
	f      *MemFactory
	name   string
	closed bool // guarded by f.mu
}

func (db *memDB) data(op, store string) (*memData, error) {
	if db.closed {
		return nil, &DBError{DB: db.name, Op: op, Store: store, Name: "InvalidStateError", Err: domError("InvalidStateError", "the database connection is closing")}
	}
	d := db.f.dbs[db.name]
	if d == nil {
		return nil, &DBError{DB: db.name, Op: op, Store: store, Err: wrapSentinel(ErrDBClosed, "database deleted")}
	}
	if store != "" && d.stores[store] == nil {
		return nil, &DBError{DB: db.name, Op: op, Store: store, Name: "NotFoundError", Err: domError("NotFoundError", "no such object store")}
	}
	return d, nil
}

func (db *memDB) ReadAll(ctx context.Context, stores []string) ([][]Record, error) {
	if err := ctx.Err(); err != nil {
		return nil, &DBError{DB: db.name, Op: "read", Err: err}
	}
	db.f.mu.Lock()
	defer db.f.mu.Unlock()
	out := make([][]Record, len(stores))
	for i, store := range stores {
		d, err := db.data("read", store)
		if err != nil {
			return nil, err
		}
		m := d.stores[store]
		recs := make([]Record, 0, len(m))
		for _, k := range slices.Sorted(maps.Keys(m)) {
			recs = append(recs, Record{Key: k, Value: slices.Clone(m[k])})
		}
		out[i] = recs
	}
	return out, nil
}

func (db *memDB) Write(ctx context.Context, puts []Put, d Durability) error {
	if err := ctx.Err(); err != nil {
		return &DBError{DB: db.name, Op: "write", Err: err}
	}
	db.f.mu.Lock()
	fn := db.f.WriteFn
	db.f.mu.Unlock()
	if fn != nil {
		if err := fn(db.name, puts, d); err != nil {
			return &DBError{DB: db.name, Op: "write", Err: err}
		}
	}
	db.f.mu.Lock()
	defer db.f.mu.Unlock()
	data, err := db.data("write", "")
	if err != nil {
		return err
	}
	stores := map[string]bool{}
	for _, p := range puts {
		if data.stores[p.Store] == nil {
			return &DBError{DB: db.name, Op: "write", Store: p.Store, Name: "NotFoundError", Err: domError("NotFoundError", "no such object store")}
		}
		stores[p.Store] = true
	}
	for _, p := range puts {
		if p.Delete {
			delete(data.stores[p.Store], p.Key)
		} else {
			data.stores[p.Store][p.Key] = slices.Clone(p.Value)
		}
	}
	db.f.log = append(db.f.log, WriteLog{DB: db.name, Stores: slices.Sorted(maps.Keys(stores)), Puts: len(puts), Durability: d})
	return nil
}

func (db *memDB) Close() {
	db.f.mu.Lock()
	defer db.f.mu.Unlock()
	db.closed = true
}
