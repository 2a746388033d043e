//go:build js && wasm

package wasm

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall/js"
)

// IndexedDB is the browser's [Factory]: the global indexedDB. Request and
// transaction callbacks only send on buffered channels; the goroutine that
// called waits, never the JS thread.
type IndexedDB struct {
	idb js.Value
}

var (
	_ Factory = (*IndexedDB)(nil)
	_ DB      = (*idb)(nil)
)

// NewIndexedDB returns the browser's IndexedDB, or [ErrNoIndexedDB].
func NewIndexedDB() (*IndexedDB, error) {
	idb := js.Global().Get("indexedDB")
	if idb.IsUndefined() || idb.IsNull() {
		return nil, ErrNoIndexedDB
	}
	return &IndexedDB{idb: idb}, nil
}

// handlers holds the JS callbacks of one request or transaction, to be
// released together once it has settled.
type handlers []js.Func

func (h *handlers) add(fn func(this js.Value, args []js.Value) any) js.Func {
	f := js.FuncOf(fn)
	*h = append(*h, f)
	return f
}

func (h handlers) release() {
	for _, f := range h {
		f.Release()
	}
}

// Open implements [Factory]. The database is opened at its current
// version, or version 1 when new; a store it lacks is added by reopening
// it one version higher (never needed within one format, whose stores are
// fixed, but harmless).
func (f *IndexedDB) Open(ctx context.Context, name string, stores []string) (DB, bool, error) {
	db, created, err := f.open(ctx, name, stores, 0)
	if err != nil {
		return nil, false, err
	}
	names := db.Get("objectStoreNames")
	missing := slices.ContainsFunc(stores, func(s string) bool { return !names.Call("contains", s).Bool() })
	if missing {
		v := db.Get("version").Int() + 1
		db.Call("close")
		db, _, err = f.open(ctx, name, stores, v)
		if err != nil {
			return nil, false, err
		}
	}
	return newIDB(name, db), created, nil
}

func (f *IndexedDB) open(ctx context.Context, name string, stores []string, version int) (js.Value, bool, error) {
	type outcome struct {
		db  js.Value
		err error
	}
	var req js.Value
	var err error
	if version == 0 {
		req, err = call(f.idb, "open", name)
	} else {
		req, err = call(f.idb, "open", name, version)
	}
	if err != nil {
		return js.Undefined(), false, &DBError{DB: name, Op: "open", Err: err}
	}
	ch := make(chan outcome, 1)
	var created, abandoned atomic.Bool
	var h handlers
	req.Set("onupgradeneeded", h.add(func(_ js.Value, args []js.Value) any {
		if arg(args, 0).Get("oldVersion").Int() == 0 {
			created.Store(true)
		}
		db, err := get(req, "result")
		if err != nil {
			return nil
		}
		names := db.Get("objectStoreNames")
		for _, s := range stores {
			if !names.Call("contains", s).Bool() {
				db.Call("createObjectStore", s)
			}
		}
		return nil
	}))
	req.Set("onsuccess", h.add(func(js.Value, []js.Value) any {
		db, err := get(req, "result")
		if err != nil {
			ch <- outcome{err: &DBError{DB: name, Op: "open", Err: err}}
			return nil
		}
		if abandoned.Load() {
			db.Call("close")
			return nil
		}
		ch <- outcome{db: db}
		return nil
	}))
	req.Set("onerror", h.add(func(_ js.Value, args []js.Value) any {
		e, _ := get(req, "error")
		ch <- outcome{err: &DBError{DB: name, Op: "open", Name: jsErrorName(e), Err: jsError(e)}}
		arg(args, 0).Call("preventDefault")
		return nil
	}))
	// onblocked: another tab holds an older version open; it gets a
	// versionchange event and closes (see newIDB), then onsuccess follows.
	select {
	case o := <-ch:
		h.release()
		return o.db, created.Load(), o.err
	case <-ctx.Done():
		abandoned.Store(true) // the handlers stay: the request may still settle
		return js.Undefined(), false, &DBError{DB: name, Op: "open", Err: ctx.Err()}
	}
}

// Exists implements [Factory] with indexedDB.databases(). A browser
// without it reports false: the previous format is then not migrated.
func (f *IndexedDB) Exists(ctx context.Context, name string) (bool, error) {
	if f.idb.Get("databases").Type() != js.TypeFunction {
		return false, nil
	}
	p, err := call(f.idb, "databases")
	if err != nil {
		return false, &DBError{DB: name, Op: "list", Err: err}
	}
	list, err := await(ctx, p)
	if err != nil {
		return false, &DBError{DB: name, Op: "list", Err: err}
	}
	for i := range list.Length() {
		if n := list.Index(i).Get("name"); n.Type() == js.TypeString && n.String() == name {
			return true, nil
		}
	}
	return false, nil
}

// Delete implements [Factory].
func (f *IndexedDB) Delete(ctx context.Context, name string) error {
	req, err := call(f.idb, "deleteDatabase", name)
	if err != nil {
		return &DBError{DB: name, Op: "delete", Err: err}
	}
	ch := make(chan error, 1)
	var h handlers
	req.Set("onsuccess", h.add(func(js.Value, []js.Value) any {
		ch <- nil
		return nil
	}))
	req.Set("onerror", h.add(func(js.Value, []js.Value) any {
		e, _ := get(req, "error")
		ch <- &DBError{DB: name, Op: "delete", Name: jsErrorName(e), Err: jsError(e)}
		return nil
	}))
	select {
	case err := <-ch:
		h.release()
		return err
	case <-ctx.Done():
		return &DBError{DB: name, Op: "delete", Err: ctx.Err()}
	}
}

// idb is an open IndexedDB connection.
type idb struct {
	name   string
	db     js.Value
	closed atomic.Bool
	funcs  handlers
}

func newIDB(name string, db js.Value) *idb {
	d := &idb{name: name, db: db}
	db.Set("onclose", d.funcs.add(func(js.Value, []js.Value) any {
		d.closed.Store(true)
		return nil
	}))
	// Another tab deletes or upgrades the database: let it, and reopen
	// (Storage does) when next needed.
	db.Set("onversionchange", d.funcs.add(func(js.Value, []js.Value) any {
		d.closed.Store(true)
		db.Call("close")
		return nil
	}))
	return d
}

func (d *idb) closedError(op, store string) error {
	return &DBError{DB: d.name, Op: op, Store: store, Err: wrapSentinel(ErrDBClosed, "connection closed")}
}

// transaction starts a transaction and waits for it to complete. fill
// issues its requests; it runs synchronously, while the transaction is
// active.
func (d *idb) transaction(ctx context.Context, op string, stores []string, mode string, dur Durability, fill func(tx js.Value) error) error {
	store := ""
	if len(stores) == 1 {
		store = stores[0]
	}
	if err := ctx.Err(); err != nil {
		return &DBError{DB: d.name, Op: op, Store: store, Err: err}
	}
	if d.closed.Load() {
		return d.closedError(op, store)
	}
	names := make([]any, len(stores))
	for i, s := range stores {
		names[i] = s
	}
	var tx js.Value
	var err error
	if dur != "" {
		tx, err = call(d.db, "transaction", names, mode, map[string]any{"durability": string(dur)})
	} else {
		tx, err = call(d.db, "transaction", names, mode)
	}
	if err != nil {
		return &DBError{DB: d.name, Op: op, Store: store, Err: err}
	}
	ch := make(chan error, 1)
	var h handlers
	fail := func(js.Value, []js.Value) any {
		e, _ := get(tx, "error")
		var err error = &DBError{DB: d.name, Op: op, Store: store, Name: jsErrorName(e), Err: jsError(e)}
		if e.IsNull() || e.IsUndefined() {
			err = &DBError{DB: d.name, Op: op, Store: store, Err: errors.New("transaction aborted")}
		}
		select {
		case ch <- err:
		default:
		}
		return nil
	}
	tx.Set("oncomplete", h.add(func(js.Value, []js.Value) any {
		select {
		case ch <- nil:
		default:
		}
		return nil
	}))
	tx.Set("onabort", h.add(fail))
	tx.Set("onerror", h.add(func(this js.Value, args []js.Value) any {
		return nil // the abort that follows reports it
	}))
	if err := fill(tx); err != nil {
		_, _ = call(tx, "abort")
		<-ch // the abort event
		h.release()
		return &DBError{DB: d.name, Op: op, Store: store, Err: err}
	}
	if tx.Get("commit").Type() == js.TypeFunction {
		_, _ = call(tx, "commit") // completes sooner than waiting for idleness
	}
	select {
	case err := <-ch:
		h.release()
		return err
	case <-ctx.Done():
		_, _ = call(tx, "abort")
		return &DBError{DB: d.name, Op: op, Store: store, Err: ctx.Err()} // the handlers stay; they only send
	}
}

// ReadAll reads keys and values with getAllKeys and getAll per store in
// one readonly transaction, and waits for every request's success event,
// not for the transaction's complete event: Chromium delivers large values
// (stored as blobs) to their request after it may already have reported
// the transaction complete.
func (d *idb) ReadAll(ctx context.Context, stores []string) ([][]Record, error) {
	where := strings.Join(stores, ",")
	fail := func(err error) error { return &DBError{DB: d.name, Op: "read", Store: where, Err: err} }
	if err := ctx.Err(); err != nil {
		return nil, fail(err)
	}
	if d.closed.Load() {
		return nil, d.closedError("read", where)
	}
	names := make([]any, len(stores))
	for i, s := range stores {
		names[i] = s
	}
	tx, err := call(d.db, "transaction", names, "readonly")
	if err != nil {
		return nil, fail(err)
	}
	done := make(chan error, 2*len(stores)+1)
	var h handlers
	defer func() { h.release() }()
	reqs := make([][2]js.Value, len(stores))
	for i, store := range stores {
		os, err := call(tx, "objectStore", store)
		if err != nil {
			_, _ = call(tx, "abort")
			return nil, fail(err)
		}
		for j, method := range []string{"getAllKeys", "getAll"} {
			req, err := call(os, method)
			if err != nil {
				_, _ = call(tx, "abort")
				return nil, fail(err)
			}
			reqs[i][j] = req
			req.Set("onsuccess", h.add(func(js.Value, []js.Value) any {
				done <- nil
				return nil
			}))
			req.Set("onerror", h.add(func(_ js.Value, args []js.Value) any {
				e, _ := get(req, "error")
				done <- &DBError{DB: d.name, Op: "read", Store: store, Name: jsErrorName(e), Err: jsError(e)}
				arg(args, 0).Call("preventDefault")
				return nil
			}))
		}
	}
	tx.Set("onabort", h.add(func(js.Value, []js.Value) any {
		e, _ := get(tx, "error")
		done <- &DBError{DB: d.name, Op: "read", Store: where, Name: jsErrorName(e), Err: jsError(e)}
		return nil
	}))
	for range 2 * len(stores) {
		select {
		case err := <-done:
			if err != nil {
				return nil, err
			}
		case <-ctx.Done():
			_, _ = call(tx, "abort")
			h = nil // the handlers stay: events may still come, and only send
			return nil, fail(ctx.Err())
		}
	}
	out := make([][]Record, len(stores))
	for i := range stores {
		keys, err := get(reqs[i][0], "result")
		if err != nil {
			return nil, fail(err)
		}
		vals, err := get(reqs[i][1], "result")
		if err != nil {
			return nil, fail(err)
		}
		n := keys.Length()
		if vals.Length() != n {
			return nil, fail(errors.New(stores[i] + ": " + strconv.Itoa(n) + " keys but " + strconv.Itoa(vals.Length()) + " values"))
		}
		recs := make([]Record, 0, n)
		for k := range n {
			key := keys.Index(k)
			if key.Type() != js.TypeString {
				continue // not ours
			}
			recs = append(recs, Record{Key: key.String(), Value: bytesFromJS(vals.Index(k))})
		}
		out[i] = recs
	}
	return out, nil
}

func (d *idb) Write(ctx context.Context, puts []Put, dur Durability) error {
	if len(puts) == 0 {
		return nil
	}
	var stores []string
	for _, p := range puts {
		if !slices.Contains(stores, p.Store) {
			stores = append(stores, p.Store)
		}
	}
	return d.transaction(ctx, "write", stores, "readwrite", dur, func(tx js.Value) error {
		os := map[string]js.Value{}
		for _, s := range stores {
			v, err := call(tx, "objectStore", s)
			if err != nil {
				return err
			}
			os[s] = v
		}
		for _, p := range puts {
			var err error
			if p.Delete {
				_, err = call(os[p.Store], "delete", p.Key)
			} else {
				_, err = call(os[p.Store], "put", bytesToJS(p.Value), p.Key)
			}
			if err != nil {
				return err
			}
		}
		return nil
	})
}

func (d *idb) Close() {
	if d.closed.Swap(true) {
		return
	}
	d.db.Call("close")
}
