package reactor

import "sync"

// dispatcher runs user callbacks, in order, on a goroutine of their own,
// so that the driver never waits for user code and user code may call the
// client from a callback. Its queue is unbounded: callbacks are few per
// input, and a slow callback delays only other callbacks.
type dispatcher struct {
	mu      sync.Mutex
	queue   []func()
	stopped bool
	wake    chan struct{}
	done    chan struct{}
}

func newDispatcher() *dispatcher {
	return &dispatcher{wake: make(chan struct{}, 1), done: make(chan struct{})}
}

// push queues fn; after stop it is dropped.
func (d *dispatcher) push(fn func()) {
	d.mu.Lock()
	if !d.stopped {
		d.queue = append(d.queue, fn)
	}
	d.mu.Unlock()
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

// run executes queued callbacks until stop.
func (d *dispatcher) run() {
	defer close(d.done)
	for {
		d.mu.Lock()
		batch, stopped := d.queue, d.stopped
		d.queue = nil
		d.mu.Unlock()
		if stopped {
			return
		}
		for _, fn := range batch {
			d.mu.Lock()
			stopped = d.stopped
			d.mu.Unlock()
			if stopped {
				return
			}
			fn()
		}
		if len(batch) == 0 {
			<-d.wake
		}
	}
}

// stop drops queued callbacks and waits for the running one to return.
// It must not be called from a callback.
func (d *dispatcher) stop() {
	d.mu.Lock()
	d.stopped = true
	d.queue = nil
	d.mu.Unlock()
	select {
	case d.wake <- struct{}{}:
	default:
	}
	<-d.done
}
