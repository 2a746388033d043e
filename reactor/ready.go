package reactor

import (
	"maps"
	"slices"
	"time"

	"github.com/triplesync/triplesync/internal/wire"
	"github.com/triplesync/triplesync/query"
	"github.com/triplesync/triplesync/store"
)

// Ready is what the core asks of its driver after an input: IO to do and
// callbacks to run. The driver takes it with [Core.Ready], acts on it, and
// then calls [Core.Advance] — with no other call on the core in between.
// It acts in this order:
//
//  1. Batch: write it to storage in one [Storage.Write], and wait for it.
//     This comes before the IO below, in particular before Messages: a
//     transact is sent only once its mutation is stored, so a mutation the
//     server may apply is never one the client could forget in a crash.
//     A failed write is reported and does not stop the rest (the
//     [Client] merges it into the next batch and tries again). User
//     callbacks (step 5) need not wait for it.
//  2. Messages: send them, in order, on the current connection. When the
//     connection has gone meanwhile, drop them: after reconnecting the
//     core re-sends whatever still matters (queries, unconfirmed
//     mutations).
//  3. Disconnect: close the current connection, and after Advance report
//     it with [Core.ConnClosed].
//  4. Connect: dial a new connection, and report the outcome with
//     [Core.ConnOpened] or [Core.ConnClosed].
//  5. Statuses, Notifications and Settled: hand them to user code in this
//     order, each in its own order. They may run before, during or after
//     the write of step 1 (none depends on it: a subscriber may see an
//     optimistic write before it is durable, and loses it in a crash
//     before the write, as it would a moment earlier), but never on the
//     driver's own goroutine if user code can call back into the client.
//     The [Client] hands Statuses and Notifications over before it
//     writes, so a slow disk never delays what subscribers see, and
//     settles mutations after.
//  6. Timer: call [Core.Tick] no later than this time (zero: no timer is
//     wanted). A new Ready's Timer replaces the previous one.
//
// The slices of a Ready belong to the driver once taken.
type Ready struct {
	Batch         Batch
	Messages      []wire.Message
	Disconnect    bool
	Connect       bool
	Statuses      []Status
	Notifications []Notification
	Settled       []Settled
	Timer         time.Time
}

// Notification is a query result for one subscriber: the callback of
// subscription Sub must be called with it.
type Notification struct {
	Sub     SubID
	QueryID string
	// Result is the query's result with pending mutations applied; nil
	// when Err is set. It is shared by every subscriber of the query and
	// with the core: read it, never modify it.
	Result *query.Result
	// Err is why there is no result: the server refused the query, or it
	// does not parse against the client's attributes.
	Err error
	// FromCache says the result rests on a stored result: the server has
	// not answered since the client started.
	FromCache bool
}

// Settled is the outcome of a mutation: confirmed with TxID, or rejected
// with Err (a *[ServerError]). Rejected mutations are rolled back.
type Settled struct {
	MutationID string
	TxID       store.TxID
	Err        error
}

// output accumulates what the next Ready carries.
type output struct {
	putSettings map[string][]byte
	delSettings map[string]bool
	putQueries  map[string]CachedQuery
	delQueries  map[string]bool
	putMuts     map[string]Mutation
	delMuts     map[string]bool

	msgs       []wire.Message
	connect    bool
	disconnect bool
	statuses   []Status
	notes      []Notification
	settled    []Settled
}

func newOutput() output {
	return output{
		putSettings: map[string][]byte{}, delSettings: map[string]bool{},
		putQueries: map[string]CachedQuery{}, delQueries: map[string]bool{},
		putMuts: map[string]Mutation{}, delMuts: map[string]bool{},
	}
}

func (o *output) empty() bool {
	return len(o.putSettings) == 0 && len(o.delSettings) == 0 && len(o.putQueries) == 0 && len(o.delQueries) == 0 &&
		len(o.putMuts) == 0 && len(o.delMuts) == 0 && len(o.msgs) == 0 && !o.connect && !o.disconnect &&
		len(o.statuses) == 0 && len(o.notes) == 0 && len(o.settled) == 0
}

func (o *output) putSetting(k string, v []byte) {
	o.putSettings[k] = v
	delete(o.delSettings, k)
}

func (o *output) putQuery(q CachedQuery) {
	o.putQueries[q.ID] = q
	delete(o.delQueries, q.ID)
}

func (o *output) delQuery(id string) {
	delete(o.putQueries, id)
	o.delQueries[id] = true
}

func (o *output) putMutation(m Mutation) {
	o.putMuts[m.ID] = m
	delete(o.delMuts, m.ID)
}

func (o *output) delMutation(id string) {
	delete(o.putMuts, id)
	o.delMuts[id] = true
}

func (o *output) batch() Batch {
	var b Batch
	for _, k := range slices.Sorted(maps.Keys(o.putSettings)) {
		b.PutSettings = append(b.PutSettings, Setting{Key: k, Value: o.putSettings[k]})
	}
	for _, k := range slices.Sorted(maps.Keys(o.putQueries)) {
		b.PutQueries = append(b.PutQueries, o.putQueries[k])
	}
	for _, m := range o.putMuts {
		b.PutMutations = append(b.PutMutations, m)
	}
	SortBySeq(b.PutMutations)
	b.DeleteSettings = sortedKeys(o.delSettings)
	b.DeleteQueries = sortedKeys(o.delQueries)
	b.DeleteMutations = sortedKeys(o.delMuts)
	return b
}

// HasReady reports whether [Core.Ready] has anything to do: output, or a
// timer other than the one last handed out.
func (c *Core) HasReady() bool {
	return !c.out.empty() || !c.timer().Equal(c.lastTimer)
}

// Ready returns what the driver must do now (see [Ready]). It changes
// nothing: call [Core.Advance] with it once done.
func (c *Core) Ready() Ready {
	return Ready{
		Batch:         c.out.batch(),
		Messages:      c.out.msgs,
		Disconnect:    c.out.disconnect,
		Connect:       c.out.connect,
		Statuses:      c.out.statuses,
		Notifications: c.out.notes,
		Settled:       c.out.settled,
		Timer:         c.timer(),
	}
}

// Advance tells the core the driver has acted on rd, the last Ready it
// took. The core forgets that output.
func (c *Core) Advance(rd Ready) {
	c.out = newOutput()
	c.lastTimer = rd.Timer
}

// timer returns the earliest time the core needs a Tick: a reconnect or a
// cache flush. Zero for none.
func (c *Core) timer() time.Time {
	var t time.Time
	earliest := func(x time.Time) {
		if !x.IsZero() && (t.IsZero() || x.Before(t)) {
			t = x
		}
	}
	if c.loaded && !c.closed && !c.connected && !c.dialing {
		earliest(c.retryAt)
	}
	earliest(c.flushAt)
	return t
}
