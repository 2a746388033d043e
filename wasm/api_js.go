//go:build js && wasm

package wasm

import (
	"context"
	"sync"
	"syscall/js"
	"time"

	"github.com/triplesync/triplesync/reactor"
)

// openTimeout bounds opening the storage and loading it in open.
const openTimeout = 30 * time.Second

// Export returns the object the JS module (client/triplesync.js) drives:
//
//	open(optionsJSON, onStatus(statusJSON), onError(errorJSON)) → Promise<client>
//
// and a client is
//
//	subscribe(queryJSON, cb(resultJSON)) → subscription number (each result
//	  after the first may be a patch against the one before: see Patcher)
//	unsubscribe(number)
//	transact(opsJSON, onSettled(errorJSON | null, txId)) → Promise<mutationId>
//	status() → statusJSON
//	close() → Promise<undefined>
//
// Everything crosses as JSON text (one string per call is cheaper than
// building JS objects value by value through syscall/js). No function
// blocks the JS thread: each either only queues work for a goroutine or
// returns a Promise that a goroutine settles. A client's subscribe,
// unsubscribe and transact calls take effect in the order JS made them.
func Export() js.Value {
	api := js.Global().Get("Object").New()
	api.Set("open", js.FuncOf(func(_ js.Value, args []js.Value) any {
		opts, onStatus, onError := arg(args, 0).String(), arg(args, 1), arg(args, 2)
		return promise(func() (any, error) { return open([]byte(opts), onStatus, onError) })
	}))
	return api
}

// invoke calls a JS callback, never letting an exception it throws unwind
// into the Go goroutine that called it (the JS module wraps callbacks
// too; this is the last line).
func invoke(fn js.Value, args ...any) {
	if fn.Type() != js.TypeFunction {
		return
	}
	defer func() {
		if r := recover(); r != nil {
			js.Global().Get("console").Call("error", "triplesync: callback threw:", recovered(r).Error())
		}
	}()
	fn.Invoke(args...)
}

// jsClient is one client behind its JS object.
type jsClient struct {
	client  *reactor.Client
	storage *Storage // nil with memory storage
	work    *queue

	mu   sync.Mutex
	subs map[int]*jsSub
	next int
}

type jsSub struct {
	mu        sync.Mutex
	cancelled bool
	unsub     func()
}

func open(optsJSON []byte, onStatus, onError js.Value) (any, error) {
	mark("triplesync:open")
	opts, err := ParseOptions(optsJSON)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), openTimeout)
	defer cancel()
	report := func(err error) { invoke(onError, string(AppendError(nil, err))) }

	cfg := opts.ClientConfig()
	cfg.Transport = &WebSocket{URL: opts.URL}
	cfg.OnError = report
	var st *Storage
	if opts.Storage == "indexeddb" {
		st, err = openIndexedDB(ctx, opts.AppID)
		if err != nil {
			// The app still works, without persistence: say so and go on.
			report(&reactor.StorageError{Op: "open", Err: err})
			st = nil
		}
	}
	mark("triplesync:storage-open")
	if st != nil {
		cfg.Storage = st
	}
	client, err := reactor.NewClient(cfg)
	if err != nil {
		return nil, err
	}
	if err := client.Open(ctx); err != nil {
		return nil, err
	}
	mark("triplesync:loaded")
	c := &jsClient{client: client, storage: st, work: newQueue(), subs: map[int]*jsSub{}}
	go c.work.run()
	client.SubscribeStatus(func(s reactor.Status) { invoke(onStatus, string(AppendStatus(nil, s))) })
	return c.object(), nil
}

func openIndexedDB(ctx context.Context, app string) (*Storage, error) {
	f, err := NewIndexedDB()
	if err != nil {
		return nil, err
	}
	st, err := NewStorage(StorageConfig{App: app, Factory: f})
	if err != nil {
		return nil, err
	}
	if err := st.Open(ctx); err != nil {
		return nil, err
	}
	return st, nil
}

// object builds the client's JS object.
func (c *jsClient) object() js.Value {
	o := js.Global().Get("Object").New()
	o.Set("subscribe", js.FuncOf(func(_ js.Value, args []js.Value) any {
		return c.subscribe(arg(args, 0).String(), arg(args, 1))
	}))
	o.Set("unsubscribe", js.FuncOf(func(_ js.Value, args []js.Value) any {
		c.unsubscribe(arg(args, 0).Int())
		return nil
	}))
	o.Set("transact", js.FuncOf(func(_ js.Value, args []js.Value) any {
		return c.transact(arg(args, 0).String(), arg(args, 1))
	}))
	o.Set("status", js.FuncOf(func(js.Value, []js.Value) any {
		return string(AppendStatus(nil, c.client.Status()))
	}))
	o.Set("close", js.FuncOf(func(js.Value, []js.Value) any {
		return promise(func() (any, error) {
			err := c.client.Close(context.Background())
			c.work.stop()
			if c.storage != nil {
				_ = c.storage.Close(context.Background())
			}
			return js.Undefined(), err
		})
	}))
	return o
}

func (c *jsClient) subscribe(q string, cb js.Value) int {
	s := &jsSub{}
	c.mu.Lock()
	c.next++
	id := c.next
	c.subs[id] = s
	c.mu.Unlock()
	c.work.push(func() {
		var p Patcher // the callbacks of one subscription run one at a time, in order
		u := c.client.SubscribeQuery([]byte(q), func(r reactor.QueryResult) {
			s.mu.Lock()
			cancelled := s.cancelled
			s.mu.Unlock()
			if !cancelled {
				invoke(cb, string(p.Append(nil, r)))
			}
		})
		s.mu.Lock()
		s.unsub = u
		cancelled := s.cancelled
		s.mu.Unlock()
		if cancelled {
			u()
		}
	})
	return id
}

func (c *jsClient) unsubscribe(id int) {
	c.mu.Lock()
	s := c.subs[id]
	delete(c.subs, id)
	c.mu.Unlock()
	if s == nil {
		return
	}
	s.mu.Lock()
	s.cancelled = true
	s.mu.Unlock()
	c.work.push(func() {
		s.mu.Lock()
		u := s.unsub
		s.mu.Unlock()
		if u != nil {
			u()
		}
	})
}

func (c *jsClient) transact(opsJSON string, onSettled js.Value) js.Value {
	var resolve, reject js.Value
	executor := js.FuncOf(func(_ js.Value, args []js.Value) any {
		resolve, reject = args[0], args[1]
		return nil
	})
	p := js.Global().Get("Promise").New(executor)
	executor.Release()
	c.work.push(func() {
		ops, err := DecodeOps([]byte(opsJSON))
		if err != nil {
			invoke(reject, errorValue(err))
			return
		}
		tx, err := c.client.Transact(ops)
		if err != nil {
			invoke(reject, errorValue(err))
			return
		}
		invoke(resolve, tx.MutationID())
		go func() {
			id, err := tx.Wait(context.Background())
			if err != nil {
				invoke(onSettled, errorValue(err), 0)
				return
			}
			invoke(onSettled, js.Null(), float64(id))
		}()
	})
	return p
}

// queue runs functions one at a time, in the order pushed, on its own
// goroutine. push never blocks, so JS callbacks may call it.
type queue struct {
	mu    sync.Mutex
	items []func()
	done  bool
	wake  chan struct{}
}

func newQueue() *queue { return &queue{wake: make(chan struct{}, 1)} }

func (q *queue) push(fn func()) {
	q.mu.Lock()
	q.items = append(q.items, fn)
	q.mu.Unlock()
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

func (q *queue) stop() {
	q.mu.Lock()
	q.done = true
	q.mu.Unlock()
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

func (q *queue) run() {
	for {
		q.mu.Lock()
		if len(q.items) == 0 {
			done := q.done
			q.mu.Unlock()
			if done {
				return
			}
			<-q.wake
			continue
		}
		fn := q.items[0]
		q.items[0] = nil
		q.items = q.items[1:]
		q.mu.Unlock()
		func() {
			defer func() {
				if r := recover(); r != nil {
					js.Global().Get("console").Call("error", "triplesync:", recovered(r).Error())
				}
			}()
			fn()
		}()
	}
}

// mark records a performance mark (the start-up figures read them).
func mark(name string) {
	if p := js.Global().Get("performance"); p.Type() == js.TypeObject {
		_, _ = call(p, "mark", name)
	}
}
