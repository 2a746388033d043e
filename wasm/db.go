package wasm

import "context"

// Durability is an IndexedDB transaction's durability hint: whether the
// transaction completes only once its data is flushed to disk (strict) or
// as soon as the browser has it (relaxed).
type Durability string

// The durabilities [Storage] uses.
const (
	// Strict: pending mutations, which the client must never lose once it
	// has shown them.
	Strict Durability = "strict"
	// Relaxed: settings and cached query results, which the server can
	// always send again.
	Relaxed Durability = "relaxed"
)

// Record is one stored value under its key.
type Record struct {
	Key   string
	Value []byte
}

// Put is one write of a transaction: a put of Value under Key in Store, or
// with Delete, a delete of Key.
type Put struct {
	Store  string
	Key    string
	Value  []byte
	Delete bool
}

// Factory opens, lists and deletes databases: IndexedDB's indexedDB object
// reduced to what [Storage] needs. The browser's is [IndexedDB] (js/wasm
// only); [MemFactory] is its in-memory twin for tests on the host.
type Factory interface {
	// Open opens the database name, creating it with the object stores
	// stores when it does not exist (created reports that), and adding any
	// of stores it lacks. Errors are *[DBError].
	Open(ctx context.Context, name string, stores []string) (db DB, created bool, err error)
	// Exists reports whether the database name exists.
	Exists(ctx context.Context, name string) (bool, error)
	// Delete deletes the database name; deleting one that does not exist
	// succeeds. It waits for other connections to close.
	Delete(ctx context.Context, name string) error
}

// DB is an open database: object stores of byte values under string keys.
// Its methods may be called from several goroutines at once.
type DB interface {
	// ReadAll returns every record of each of stores, in key order, read
	// in one transaction (one round trip, and a consistent view). Errors
	// are *[DBError]; they wrap [ErrDBClosed] once the connection is gone.
	ReadAll(ctx context.Context, stores []string) ([][]Record, error)
	// Write applies puts in order in one transaction over the stores they
	// name, and returns once it has completed: all of them or, on error,
	// none. Errors are *[DBError], wrapping [ErrQuotaExceeded] when the
	// browser is out of space and [ErrDBClosed] once the connection is gone.
	Write(ctx context.Context, puts []Put, d Durability) error
	// Close closes the connection. Further calls fail with [ErrDBClosed].
	Close()
}
