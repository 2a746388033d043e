package wasm

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/triplesync/triplesync/internal/errs"
	"github.com/triplesync/triplesync/internal/jsonlite"
	"github.com/triplesync/triplesync/reactor"
)

// FormatVersion is the storage format [Storage] writes: the layout of its
// object stores and records. It is part of the database name, so a new
// format opens a new database and migrates the previous one's records
// (IndexedDB's own version numbers cannot roll back, and a version change
// blocks while another tab holds the old version open).
const FormatVersion = 1

// The object stores of a storage database.
const (
	storeMeta      = "meta"      // the format marker, written once the database is complete
	storeSettings  = "settings"  // reactor settings by name
	storeQueries   = "queries"   // cached query results, one record per query-id
	storeMutations = "mutations" // pending mutations, one record per mutation-id
)

var storeNames = []string{storeMeta, storeSettings, storeQueries, storeMutations}

// metaFormat is the meta record that marks a database as complete: created
// empty, or with every record of the previous format copied in.
const metaFormat = "format"

// deleteTimeout bounds waiting for an old database's deletion after a
// migration: another tab may hold it open and never let go. The browser
// goes on with the deletion in the background.
const deleteTimeout = 2 * time.Second

// DBName returns the database name of app's storage in format version
// format: "triplesync_<app>_v<format>".
func DBName(app string, format int) string {
	return "triplesync_" + app + "_v" + strconv.Itoa(format)
}

// StorageConfig configures a [Storage].
type StorageConfig struct {
	// App names the application; one database per app (and format).
	// Required: letters, digits, '-', '_' and '.', at most 100 bytes.
	App string
	// Factory opens databases: [IndexedDB] in a browser, [MemFactory] in
	// tests. Required.
	Factory Factory
	// Format is the format version to open. Zero means [FormatVersion];
	// tests set others to exercise migration.
	Format int
}

func (c *StorageConfig) validate() error {
	switch {
	case c.Factory == nil:
		return errors.New("wasm: storage config: Factory is required")
	case c.App == "" || len(c.App) > 100:
		return validApp(c.App)
	case c.Format < 0:
		return errors.New("wasm: storage config: Format " + strconv.Itoa(c.Format) + " is negative")
	}
	return validApp(c.App)
}

// validApp checks StorageConfig.App, as validate does.
func validApp(app string) error {
	if app == "" || len(app) > 100 {
		return errors.New("wasm: storage config: App " + strconv.Quote(app) + ": want 1 to 100 bytes")
	}
	for _, r := range app {
		if !(r == '-' || r == '_' || r == '.' || '0' <= r && r <= '9' || 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z') {
			return errors.New("wasm: storage config: App " + strconv.Quote(app) + ": only letters, digits, '-', '_' and '.'")
		}
	}
	return nil
}

// Storage is the browser's [reactor.Storage]: one IndexedDB database per
// app and format version, with an object store per kind of record —
// settings, cached query results (one record per query) and pending
// mutations (one record per mutation). A [reactor.Batch] is written as at
// most two transactions, each with all its puts: pending mutations with
// strict durability (they are the user's writes), settings and cached
// results with relaxed durability (the server can send them again).
//
// The connection is opened on first use and reopened when the browser
// closes it (ErrDBClosed): the failed operation is retried once on the new
// connection. Every other error, a full quota (ErrQuotaExceeded) first of
// all, is returned to the caller; the [reactor.Client] reports it through
// its OnError and keeps the write for the next attempt.
//
// A Storage is safe for concurrent use. Several tabs of one app share the
// database: each loads every pending mutation at start, its own and other
// tabs' (re-sending another tab's unconfirmed mutation is harmless, the
// server applies a mutation-id once), and cached results are
// last-writer-wins. A tab reads the database only at start: it sees what
// another open tab writes once the server has it, not before. Each tab
// numbers its mutations from its own counter, so a tab that loads
// another's holds mutations of equal Seq; Load gives those in key
// (mutation-id) order.
type Storage struct {
	cfg  StorageConfig
	name string

	mu     sync.Mutex
	db     DB
	closed bool
}

var _ reactor.Storage = (*Storage)(nil)

// NewStorage returns a Storage; it opens nothing until [Storage.Open] or
// the first Load or Write.
func NewStorage(cfg StorageConfig) (*Storage, error) {
	if cfg.Format == 0 {
		cfg.Format = FormatVersion
	}
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	return &Storage{cfg: cfg, name: DBName(cfg.App, cfg.Format)}, nil
}

// Name returns the database name.
func (s *Storage) Name() string { return s.name }

// Open opens the database, creating it, and migrating the records of the
// newest older format present, on first use. Load and Write open it too;
// calling Open first reports a browser without IndexedDB, or one refusing
// it, before anything else happens.
func (s *Storage) Open(ctx context.Context) error {
	_, err := s.conn(ctx)
	return err
}

// Close closes the connection; later calls fail with [ErrClosed].
func (s *Storage) Close(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.db != nil {
		s.db.Close()
		s.db = nil
	}
	s.closed = true
	return nil
}

// conn returns the open connection, opening (and on first use preparing)
// the database when there is none.
func (s *Storage) conn(ctx context.Context) (DB, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, ErrClosed
	}
	if s.db != nil {
		return s.db, nil
	}
	db, _, err := s.cfg.Factory.Open(ctx, s.name, storeNames)
	if err != nil {
		return nil, err
	}
	if err := s.prepare(ctx, db); err != nil {
		db.Close()
		return nil, err
	}
	s.db = db
	return db, nil
}

// drop forgets db after it was found closed, so the next conn reopens.
func (s *Storage) drop(db DB) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.db == db {
		s.db.Close()
		s.db = nil
	}
}

// prepare makes sure db is complete: it carries the format marker, or
// gets the records of the newest older-format database and then the
// marker, in one transaction, after which the old database is deleted.
// A migration cut short (a closed tab) leaves no marker and runs again.
func (s *Storage) prepare(ctx context.Context, db DB) error {
	recs, err := db.ReadAll(ctx, []string{storeMeta})
	if err != nil {
		return err
	}
	if slices.ContainsFunc(recs[0], func(r Record) bool { return r.Key == metaFormat }) {
		return nil
	}
	marker := []byte(`{"format":` + strconv.Itoa(s.cfg.Format) + `}`)
	puts := []Put{{Store: storeMeta, Key: metaFormat, Value: marker}}
	var old string
	for v := s.cfg.Format - 1; v >= 1 && old == ""; v-- {
		name := DBName(s.cfg.App, v)
		ok, err := s.cfg.Factory.Exists(ctx, name)
		if err != nil {
			return err
		}
		if ok {
			old = name
		}
	}
	if old != "" {
		recs, err := readOld(ctx, s.cfg.Factory, old)
		if err != nil {
			return errs.Wrap("migrate "+old, err)
		}
		puts = append(recs, puts...)
	}
	if err := db.Write(ctx, puts, Strict); err != nil {
		return err
	}
	if old != "" {
		dctx, cancel := context.WithTimeout(ctx, deleteTimeout)
		defer cancel()
		_ = s.cfg.Factory.Delete(dctx, old) // the copy is complete; a stuck delete finishes later
	}
	return nil
}

// readOld returns the records of an older-format database as puts into
// the current format. Every format so far shares the object store layout
// and the records carry their own version, so this copies them as they
// are; a format that changes them converts here.
func readOld(ctx context.Context, f Factory, name string) ([]Put, error) {
	db, _, err := f.Open(ctx, name, storeNames)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	stores := []string{storeSettings, storeQueries, storeMutations}
	all, err := db.ReadAll(ctx, stores)
	if err != nil {
		return nil, err
	}
	var puts []Put
	for i, recs := range all {
		for _, r := range recs {
			puts = append(puts, Put{Store: stores[i], Key: r.Key, Value: r.Value})
		}
	}
	return puts, nil
}

// retry runs fn on the connection, and once more on a new connection if
// the browser closed the first.
func (s *Storage) retry(ctx context.Context, fn func(DB) error) error {
	for attempt := 0; ; attempt++ {
		db, err := s.conn(ctx)
		if err != nil {
			return err
		}
		err = fn(db)
		if err == nil || attempt == 1 || !errors.Is(err, ErrDBClosed) {
			return err
		}
		s.drop(db)
	}
}

// Load implements [reactor.Storage]. A cached query whose record does not
// decode is dropped (and deleted); a mutation that does not decode is an
// error wrapping [reactor.ErrCorrupt], since it is a user's write.
func (s *Storage) Load(ctx context.Context) (*reactor.State, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var all [][]Record
	err := s.retry(ctx, func(db DB) error {
		var err error
		all, err = db.ReadAll(ctx, []string{storeSettings, storeQueries, storeMutations})
		return err
	})
	if err != nil {
		return nil, err
	}
	settings, queries, mutations := all[0], all[1], all[2]
	st := &reactor.State{Settings: make(map[string][]byte, len(settings))}
	for _, r := range settings {
		st.Settings[r.Key] = r.Value
	}
	var bad []Put
	for _, r := range queries {
		var q reactor.CachedQuery
		if err := q.UnmarshalJSON(r.Value); err != nil || q.ID != r.Key {
			bad = append(bad, Put{Store: storeQueries, Key: r.Key, Delete: true})
			continue
		}
		st.Queries = append(st.Queries, q)
	}
	sortByID(st.Queries)
	for _, r := range mutations {
		var m reactor.Mutation
		if err := jsonlite.Unmarshal(r.Value, m.UnmarshalJSON); err != nil {
			return nil, errs.Wrap("load mutation "+r.Key, err)
		}
		if m.ID != r.Key {
			return nil, errs.With("load mutation "+r.Key+": "+reactor.ErrCorrupt.Error()+": stored under another id "+m.ID, reactor.ErrCorrupt)
		}
		st.Mutations = append(st.Mutations, m)
	}
	reactor.SortBySeq(st.Mutations)
	if len(bad) > 0 {
		_ = s.retry(ctx, func(db DB) error { return db.Write(ctx, bad, Relaxed) }) // only a cache
	}
	return st, nil
}

// sortByID sorts queries by ID, as pointers (see reactor.SortBySeq): the
// records usually come sorted already, in key order.
func sortByID(qs []reactor.CachedQuery) {
	ps := make([]*reactor.CachedQuery, len(qs))
	sorted := true
	for i := range qs {
		ps[i] = &qs[i]
		sorted = sorted && (i == 0 || qs[i-1].ID <= qs[i].ID)
	}
	if sorted {
		return
	}
	slices.SortFunc(ps, func(a, b *reactor.CachedQuery) int { return cmpString(a.ID, b.ID) })
	out := make([]reactor.CachedQuery, len(qs))
	for i, p := range ps {
		out[i] = *p
	}
	copy(qs, out)
}

func cmpString(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// Write implements [reactor.Storage]: pending mutations in one strict
// transaction, settings and cached queries in one relaxed transaction,
// both at once. Each transaction applies wholly or not at all; when one
// fails the other may still have applied, which the contract allows.
func (s *Storage) Write(ctx context.Context, b *reactor.Batch) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	muts, caches, err := encodeBatch(b)
	if err != nil {
		return err
	}
	writeMuts := func() error { return s.retry(ctx, func(db DB) error { return db.Write(ctx, muts, Strict) }) }
	writeCaches := func() error { return s.retry(ctx, func(db DB) error { return db.Write(ctx, caches, Relaxed) }) }
	switch {
	case len(muts) == 0 && len(caches) == 0:
		return nil
	case len(caches) == 0:
		return writeMuts()
	case len(muts) == 0:
		return writeCaches()
	}
	// Both: the two transactions run at once (they touch different stores).
	var wg sync.WaitGroup
	var errMuts error
	wg.Add(1)
	go func() {
		defer wg.Done()
		errMuts = writeMuts()
	}()
	errCaches := writeCaches()
	wg.Wait()
	return errors.Join(errMuts, errCaches)
}

// encodeBatch turns b into the puts of the two transactions: every put,
// then every delete, per the [reactor.Storage] contract.
func encodeBatch(b *reactor.Batch) (muts, caches []Put, err error) {
	for _, m := range b.PutMutations {
		data, err := m.MarshalJSON()
		if err != nil {
			err = jsonlite.MarshalerError("reactor.Mutation", err)
			return nil, nil, errs.Wrap("encode mutation "+m.ID, err)
		}
		muts = append(muts, Put{Store: storeMutations, Key: m.ID, Value: data})
	}
	for _, k := range b.DeleteMutations {
		muts = append(muts, Put{Store: storeMutations, Key: k, Delete: true})
	}
	for _, st := range b.PutSettings {
		caches = append(caches, Put{Store: storeSettings, Key: st.Key, Value: slices.Clone(st.Value)})
	}
	for _, q := range b.PutQueries {
		data, err := q.MarshalJSON()
		if err != nil {
			err = jsonlite.MarshalerError("reactor.CachedQuery", err)
			return nil, nil, errs.Wrap("encode query "+q.ID, err)
		}
		caches = append(caches, Put{Store: storeQueries, Key: q.ID, Value: data})
	}
	for _, k := range b.DeleteSettings {
		caches = append(caches, Put{Store: storeSettings, Key: k, Delete: true})
	}
	for _, k := range b.DeleteQueries {
		caches = append(caches, Put{Store: storeQueries, Key: k, Delete: true})
	}
	return muts, caches, nil
}
