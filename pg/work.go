package pg

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/triplesync/triplesync/store"
)

// work is the state of one transact attempt: what is locked and loaded,
// and the partial snapshots before and after the steps.
type work struct {
	conn *pgxpool.Conn // inside the attempt's transaction after the first round
	req  *TransactRequest
	// exclusive: the steps change attributes, so the schema lock is taken
	// exclusive.
	exclusive bool
	attrs     *store.Attrs // the attrs table

	locked  map[store.EntityID]bool
	full    map[store.EntityID][]row             // entities loaded whole, under their lock
	partial map[store.TripleKey]row              // other rows: links into targets, triples of bulk attributes
	targets map[store.EntityID]bool              // entities whose incoming links are loaded
	pairs   map[pairKey]pairState                // unique values whose holder was looked up
	bulk    map[store.AttrID]bool                // attributes whose triples are all loaded
	flags   map[store.TripleKey]store.IndexFlags // stored flags of the loaded rows

	before, after *store.Snapshot
}

// row is a loaded triple with its stored flags.
type row struct {
	t     store.Triple
	flags store.IndexFlags
}

// pairKey is a value of a unique attribute, as canonical JSON.
type pairKey struct {
	a store.AttrID
	v string
}

// pairState is what the av index said about a pairKey. confirmed: the
// answer cannot change before commit except by a new holder, which the
// unique index refuses (no holder, or a holder this transact has locked
// and loaded).
type pairState struct {
	holder    store.EntityID
	confirmed bool
}

// needs is what a round must lock and load.
type needs struct {
	full    map[store.EntityID]bool // lock and load whole
	lock    map[store.EntityID]bool // lock only: targets of written links
	targets map[store.EntityID]bool // load the links into
	pairs   map[pairKey]bool        // look up the holder
	bulk    map[store.AttrID]bool   // load every triple of
}

func newNeeds() *needs {
	return &needs{full: map[store.EntityID]bool{}, lock: map[store.EntityID]bool{}, targets: map[store.EntityID]bool{},
		pairs: map[pairKey]bool{}, bulk: map[store.AttrID]bool{}}
}

func (n *needs) empty() bool {
	return len(n.full)+len(n.lock)+len(n.targets)+len(n.pairs)+len(n.bulk) == 0
}

func newWork(conn *pgxpool.Conn, req *TransactRequest) *work {
	return &work{conn: conn, req: req, locked: map[store.EntityID]bool{}, full: map[store.EntityID][]row{},
		partial: map[store.TripleKey]row{}, targets: map[store.EntityID]bool{}, pairs: map[pairKey]pairState{},
		bulk: map[store.AttrID]bool{}}
}

// maxRounds bounds the rounds of one attempt. A round only ever adds
// rows, each entity once, so rounds end; the bound catches a bug.
const maxRounds = 1000

// load runs the rounds: it locks and loads what the steps need until
// applying them touches nothing that is not loaded, and leaves the
// snapshots before and after in w. dup is the original tx-id when the
// mutation id was seen before. A step that fails is returned as Apply's
// *store.StepError, once the steps before it are known to have read only
// loaded rows.
func (w *work) load(ctx context.Context, hint []store.EntityID) (dup store.TxID, err error) {
	n := w.initial(hint)
	for round := 0; round < maxRounds; round++ {
		if dup, err := w.fetch(ctx, n, round == 0); dup != 0 || err != nil {
			return dup, err
		}
		before, err := w.snapshot()
		if err != nil {
			return 0, err
		}
		after, applyErr := before.Apply(w.req.Steps, w.req.Now)
		applied := len(w.req.Steps)
		if applyErr != nil {
			var se *store.StepError
			if !errors.As(applyErr, &se) {
				return 0, applyErr
			}
			// The failure counts only if the steps up to it read nothing
			// that was not loaded.
			applied = se.Index
		}
		if n = w.closure(before, applied); n.empty() {
			w.before, w.after = before, after
			return 0, applyErr
		}
	}
	return 0, errors.New("pg: transact: loading does not converge")
}

// initial is the first round's needs, read off the steps before the
// registry is known: the entities they name, the candidates of their
// lookups, their values as holders of unique values (as written; a value
// the attribute normalises is looked up again later), the targets of
// deletes and links, the attributes whose triples they re-check. hint
// holds the entities a previous attempt found it needed.
func (w *work) initial(hint []store.EntityID) *needs {
	n := newNeeds()
	for _, e := range hint {
		n.full[e] = true
	}
	lookup := func(l *store.LookupRef) {
		if l == nil {
			return
		}
		n.pairs[pairKey{l.A, l.V.String()}] = true
		n.full[store.LookupEntityID(l.A, l.V)] = true
		if id, ok := l.V.AsEntityID(); ok {
			n.full[id] = true // a lookup through an id attribute
		}
	}
	for i := range w.req.Steps {
		st := &w.req.Steps[i]
		switch st.Op {
		case store.OpAddTriple, store.OpDeepMergeTriple, store.OpRetractTriple:
			if !st.E.IsZero() {
				n.full[st.E] = true
			}
			lookup(st.Lookup)
			lookup(st.ValueLookup)
			if st.ValueLookup == nil {
				if st.Op == store.OpAddTriple {
					n.pairs[pairKey{st.A, st.V.String()}] = true
				}
				if id, ok := st.V.AsEntityID(); ok {
					n.lock[id] = true // perhaps a link's target
				}
			}
		case store.OpDeleteEntity:
			if !st.E.IsZero() {
				n.full[st.E] = true
				n.targets[st.E] = true
			}
			lookup(st.Lookup)
		case store.OpUpdateAttr:
			n.bulk[st.Attr.ID] = true
			w.exclusive = true
		case store.OpAddAttr, store.OpDeleteAttr:
			w.exclusive = true
		}
	}
	return n
}

// The statements of a round.
const (
	selectMutation = `select id from transactions where mutation_id = $1`
	rowColumns     = `entity_id, attr_id, value::text, created_at, ea, eav, av, ave, vae`
	selectEntities = `select ` + rowColumns + ` from triples where entity_id = any($1::uuid[])`
	selectLinksTo  = `select ` + rowColumns + ` from triples where vae and (value #>> '{}') = any($1::text[])`
	selectBulk     = `select ` + rowColumns + ` from triples where attr_id = any($1::uuid[])`
	selectHolders  = `select p.a, p.v, t.entity_id
		from unnest($1::uuid[], $2::text[]) as p(a, v)
		join triples t on t.av and t.attr_id = p.a and t.value_md5 = md5(p.v::jsonb::text)`
)

// fetch sends one round as one batch: (first round: BEGIN, the mutation
// id's lock and lookup, the schema lock, the registry), the locks of the entities
// new to this round, then their rows, the links into targets, the holders
// of unique values and the triples of bulk attributes. Statements run in
// order, so every read follows the locks it relies on.
func (w *work) fetch(ctx context.Context, n *needs, first bool) (dup store.TxID, err error) {
	b := &pgx.Batch{}
	if first {
		b.Queue("begin") // READ COMMITTED: see Transact
		// JIT would compile the plans of large loads (an update-attr's
		// triples) for longer than they run.
		b.Queue("set local jit = off")
		if id := w.req.MutationID; id != "" {
			k1, k2 := lockArgs([]lockKey{mutationLock(id)})
			b.Queue(lockAll, k1, k2)
			b.Queue(selectMutation, id).Query(func(rows pgx.Rows) error {
				for rows.Next() {
					if err := rows.Scan((*int64)(&dup)); err != nil {
						return err
					}
				}
				return rows.Err()
			})
		}
		lock := "select pg_advisory_xact_lock_shared($1)"
		if w.exclusive {
			lock = "select pg_advisory_xact_lock($1)"
		}
		b.Queue(lock, schemaLock)
		b.Queue(selectAttrs).Query(func(rows pgx.Rows) error {
			attrs, err := collectAttrs(rows)
			w.attrs = attrs
			return err
		})
	}

	var keys []lockKey
	for _, set := range []map[store.EntityID]bool{n.full, n.lock, n.targets} {
		for e := range set {
			if !w.locked[e] {
				w.locked[e] = true
				keys = append(keys, entityLock(e))
			}
		}
	}
	var refused bool
	if len(keys) > 0 {
		k1, k2 := lockArgs(keys)
		if first {
			b.Queue(lockAll, k1, k2)
		} else {
			b.Queue(tryLocks, k1, k2).Query(func(rows pgx.Rows) error {
				refused = rows.Next()
				rows.Close()
				return rows.Err()
			})
		}
	}

	var load [][16]byte
	for e := range n.full {
		if _, ok := w.full[e]; !ok {
			load = append(load, e)
			w.full[e] = nil
		}
	}
	if len(load) > 0 {
		b.Queue(selectEntities, load).Query(func(rows pgx.Rows) error {
			return collectRows(rows, func(r row) { w.full[r.t.E] = append(w.full[r.t.E], r) })
		})
	}
	var targets []string
	for e := range n.targets {
		if !w.targets[e] {
			w.targets[e] = true
			targets = append(targets, e.String())
		}
	}
	if len(targets) > 0 {
		b.Queue(selectLinksTo, targets).Query(func(rows pgx.Rows) error {
			return collectRows(rows, func(r row) { w.partial[r.t.Key()] = r })
		})
	}
	var bulk [][16]byte
	for a := range n.bulk {
		if !w.bulk[a] {
			w.bulk[a] = true
			bulk = append(bulk, a)
		}
	}
	if len(bulk) > 0 {
		b.Queue(selectBulk, bulk).Query(func(rows pgx.Rows) error {
			return collectRows(rows, func(r row) { w.partial[r.t.Key()] = r })
		})
	}
	if len(n.pairs) > 0 {
		var as [][16]byte
		var vs []string
		for p := range n.pairs {
			as = append(as, p.a)
			vs = append(vs, p.v)
			w.pairs[p] = pairState{confirmed: true} // unless a holder turns up
		}
		b.Queue(selectHolders, as, vs).Query(func(rows pgx.Rows) error {
			for rows.Next() {
				var p pairKey
				var holder store.EntityID
				if err := rows.Scan((*[16]byte)(&p.a), &p.v, (*[16]byte)(&holder)); err != nil {
					return err
				}
				// The holder's rows are stable only if it was locked
				// before this read, which is then loaded whole too.
				_, loaded := w.full[holder]
				w.pairs[p] = pairState{holder: holder, confirmed: loaded}
			}
			return rows.Err()
		})
	}
	if err := w.conn.SendBatch(ctx, b).Close(); err != nil {
		return 0, fmt.Errorf("transact: load: %w", err)
	}
	if refused {
		return 0, &restartError{lock: keysOf(w.locked)}
	}
	return dup, nil
}

func keysOf[K comparable, V any](m map[K]V) []K {
	out := make([]K, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

// collectRows reads rows of rowColumns.
func collectRows(rows pgx.Rows, add func(row)) error {
	var text []byte
	for rows.Next() {
		var r row
		var ea, eav, av, ave, vae bool
		if err := rows.Scan((*[16]byte)(&r.t.E), (*[16]byte)(&r.t.A), &text, &r.t.CreatedAt, &ea, &eav, &av, &ave, &vae); err != nil {
			return err
		}
		v, err := parseStored(text)
		if err != nil {
			return fmt.Errorf("triple %s %s: %w", r.t.E, r.t.A, err)
		}
		r.t.V = v
		for i, set := range []bool{ea, eav, av, ave, vae} {
			if set {
				r.flags |= 1 << i
			}
		}
		add(r)
	}
	return rows.Err()
}

// snapshot builds the partial snapshot of everything loaded. An entity
// loaded whole is taken from that load alone, which came under its lock;
// other rows of it, read earlier, are dropped.
func (w *work) snapshot() (*store.Snapshot, error) {
	var ts []store.Triple
	w.flags = map[store.TripleKey]store.IndexFlags{}
	for _, rows := range w.full {
		for _, r := range rows {
			ts = append(ts, r.t)
			w.flags[r.t.Key()] = r.flags
		}
	}
	for k, r := range w.partial {
		if _, ok := w.full[r.t.E]; !ok {
			ts = append(ts, r.t)
			w.flags[k] = r.flags
		}
	}
	s, err := store.Load(w.attrs, ts)
	if err != nil {
		return nil, fmt.Errorf("transact: stored triples: %w", err)
	}
	return s, nil
}
