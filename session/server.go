package session

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"

	"github.com/triplesync/triplesync/internal/perm"
	"github.com/triplesync/triplesync/invalidator"
	"github.com/triplesync/triplesync/store"
)

// Server serves sessions over WebSockets and the admin HTTP API, and
// refreshes live queries as committed changes arrive through Apply.
//
// NewServer starts nothing; Open loads the attribute registry and starts
// taking sessions; Close ends every session and waits for its goroutines.
type Server struct {
	cfg     Config
	log     *slog.Logger
	inv     *invalidator.Invalidator
	attrs   atomic.Pointer[store.Attrs]
	rules   atomic.Pointer[perm.Rules]
	wm      *watermark
	hub     hub
	runs    runner
	stats   counters
	metrics *metrics
	mux     *http.ServeMux
	upgrade websocket.Upgrader

	applyMu sync.Mutex // Apply calls one at a time, in commit order

	mu       sync.Mutex
	state    int // stateNew, stateOpen, stateClosed
	sessions map[invalidator.SessionID]*session
	nextID   invalidator.SessionID
	ctx      context.Context // parent of every session's context
	cancel   context.CancelCauseFunc
	wg       sync.WaitGroup // session goroutines
}

const (
	stateNew = iota
	stateOpen
	stateClosed
)

// Per-connection buffers. A session is mostly idle, so it owns only a
// small read buffer (its reader sits in a read of the next frame header);
// frames larger than the buffer are read past it. The write buffer is
// borrowed from writeBuffers for the duration of one frame: 10,000 idle
// sessions would otherwise hold 160 MB of write buffers they rarely use.
const (
	readBufferSize  = 1 << 10
	writeBufferSize = 16 << 10
)

// writeBuffers are the write buffers of every server's connections (see
// websocket.Upgrader.WriteBufferPool).
var writeBuffers sync.Pool

// NewServer checks cfg and returns a server that has not started.
func NewServer(cfg Config) (*Server, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	s := &Server{
		cfg:      cfg,
		log:      cfg.Logger,
		inv:      invalidator.New(),
		wm:       newWatermark(),
		hub:      hub{regs: make(map[invalidator.QueryKey]*shared)},
		sessions: make(map[invalidator.SessionID]*session),
	}
	rules := cfg.Rules
	if rules == nil {
		var err error
		if rules, err = perm.ParseRules(nil, cfg.Dev); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrInvalidConfig, err)
		}
	}
	s.runs.srv = s
	s.rules.Store(rules)
	s.attrs.Store(store.MustNewAttrs())
	m, err := newMetrics(s, cfg.Registerer)
	if err != nil {
		return nil, fmt.Errorf("%w: register metrics: %w", ErrInvalidConfig, err)
	}
	s.metrics = m
	s.upgrade = websocket.Upgrader{
		ReadBufferSize:  readBufferSize,
		WriteBufferSize: writeBufferSize,
		WriteBufferPool: &writeBuffers,
		CheckOrigin:     cfg.CheckOrigin,
	}
	if s.upgrade.CheckOrigin == nil {
		s.upgrade.CheckOrigin = func(*http.Request) bool { return true }
	}
	s.mux = http.NewServeMux()
	s.mux.HandleFunc("GET /runtime/session", s.handleSession)
	s.mux.HandleFunc("POST /admin/query", s.handleAdminQuery)
	s.mux.HandleFunc("POST /admin/transact", s.handleAdminTransact)
	return s, nil
}

// Open loads the attribute registry and starts taking sessions. Call it
// before the first Apply's change could matter: the registry it loads
// must not be older than the WAL position Apply's changes start from
// (open the WAL reader first, then the server).
func (s *Server) Open(ctx context.Context) error {
	s.mu.Lock()
	if s.state != stateNew {
		s.mu.Unlock()
		return ErrClosed
	}
	s.mu.Unlock()
	attrs, err := s.cfg.Backend.LoadAttrs(ctx)
	if err != nil {
		return fmt.Errorf("load attrs: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.state != stateNew {
		return ErrClosed
	}
	s.attrs.Store(attrs)
	s.ctx, s.cancel = context.WithCancelCause(context.Background())
	s.state = stateOpen
	return nil
}

// Close ends every session (sending a "going away" close frame) and waits
// for their goroutines, or for ctx.
func (s *Server) Close(ctx context.Context) error {
	s.mu.Lock()
	if s.state == stateClosed {
		s.mu.Unlock()
		return nil
	}
	wasOpen := s.state == stateOpen
	s.state = stateClosed
	s.mu.Unlock()
	if !wasOpen {
		return nil
	}
	s.cancel(ErrClosed)
	done := make(chan struct{})
	go func() {
		s.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("close sessions: %w", ctx.Err())
	}
}

// ServeHTTP serves GET /runtime/session (the WebSocket), POST /admin/query
// and POST /admin/transact.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// Committed is one committed transaction as the WAL pipeline hands it to
// Apply.
type Committed struct {
	store.Change
	// Reset means every query may be stale (the WAL reader could not rule
	// out a gap, or rows could not be decoded).
	Reset bool
	// CommitTime is when Postgres committed it, for the write-to-push
	// latency histogram; zero when unknown.
	CommitTime time.Time
}

// Apply handles one committed transaction, in commit order: attribute
// changes update the registry, the invalidator marks the affected live
// queries stale, the processed tx-id advances to c.TxID, and only then are
// the affected sessions woken, so that a refresh always reads a processed
// tx-id its results include.
//
// A schema change or a reset marks every query stale; a schema change also
// pushes the new registry to every session. A reset reloads the registry
// from the backend (the gap it stands for may have held attribute
// changes), which is then a schema change if the registry differs. Apply
// returns an error only when the registry could neither be updated from
// the change nor reloaded from the backend; the WAL reader then stops
// without acknowledging c.
func (s *Server) Apply(ctx context.Context, c Committed) error {
	s.applyMu.Lock()
	defer s.applyMu.Unlock()
	schema := len(c.Attrs) > 0
	switch {
	case c.Reset:
		// The WAL may have skipped attribute changes with the rest: the
		// registry is read again, and pushed to every session if it
		// differs.
		next, err := s.cfg.Backend.LoadAttrs(ctx)
		if err != nil {
			return fmt.Errorf("reload attrs after a wal reset: %w", err)
		}
		schema = schema || !slices.Equal(next.List(), s.attrs.Load().List())
		s.attrs.Store(next)
	case schema:
		next, err := applyAttrChanges(s.attrs.Load(), c.Attrs)
		if err != nil {
			s.log.Warn("attribute change does not apply to the registry; reloading it", logKeyTxID, c.TxID, logKeyError, err)
			if next, err = s.cfg.Backend.LoadAttrs(ctx); err != nil {
				return fmt.Errorf("reload attrs: %w", err)
			}
		}
		s.attrs.Store(next)
	}
	var woken []invalidator.SessionID
	if schema || c.Reset {
		woken = s.inv.MarkAllStale(c.TxID)
		s.stats.resets.Add(1)
	} else {
		woken = s.inv.Apply(&c.Change)
	}
	s.stats.changes.Add(1)
	s.wm.advance(c.TxID)

	commit := c.CommitTime.UnixNano()
	if c.CommitTime.IsZero() {
		commit = 0
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if schema {
		for _, ss := range s.sessions {
			ss.notify(commit)
		}
		return nil
	}
	for _, id := range woken {
		if ss := s.sessions[id]; ss != nil {
			ss.notify(commit)
		}
	}
	return nil
}

// SetProcessed raises the processed tx-id to tx: at start, the highest
// tx-id committed before the WAL reader's position, which the WAL will not
// deliver.
func (s *Server) SetProcessed(tx store.TxID) { s.wm.advance(tx) }

// Processed returns the processed tx-id: every transaction with a tx-id up
// to it has been handled.
func (s *Server) Processed() store.TxID {
	p, _ := s.wm.load()
	return p
}

// WaitProcessed blocks until the processed tx-id reaches tx or ctx ends.
func (s *Server) WaitProcessed(ctx context.Context, tx store.TxID) error {
	return s.wm.wait(ctx, tx)
}

// Attrs returns the attribute registry the server resolves queries with.
func (s *Server) Attrs() *store.Attrs { return s.attrs.Load() }

// SetRules replaces the permission rules. Queries run from now on use
// them; every live query is marked stale and re-run, since what a user may
// see can change with the rules.
func (s *Server) SetRules(r *perm.Rules) {
	s.applyMu.Lock()
	defer s.applyMu.Unlock()
	s.rules.Store(r)
	woken := s.inv.MarkAllStale(s.Processed())
	s.stats.resets.Add(1)
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, id := range woken {
		if ss := s.sessions[id]; ss != nil {
			ss.notify(0)
		}
	}
}

// Rules returns the permission rules in force.
func (s *Server) Rules() *perm.Rules { return s.rules.Load() }

// Stats returns the server's counters.
func (s *Server) Stats() Stats {
	c := &s.stats
	return Stats{
		Sessions:      int(c.sessions.Load()),
		Subscriptions: int(c.subscriptions.Load()),
		Queries:       s.queryCount(),
		Runs:          c.runs.Load(),
		Reads:         c.reads.Load(),
		Refreshes:     c.refreshes.Load(),
		Unchanged:     c.unchanged.Load(),
		Pushes:        c.pushes.Load(),
		PushBytes:     c.pushBytes.Load(),
		SentFrames:    c.sentFrames.Load(),
		SentBytes:     c.sentBytes.Load(),
		QueuedFrames:  s.queuedFrames(),
		SlowConsumers: c.slowConsumers.Load(),
		Changes:       c.changes.Load(),
		Resets:        c.resets.Load(),
		Processed:     int64(s.Processed()),
	}
}

func (s *Server) queuedFrames() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, ss := range s.sessions {
		n += ss.out.len()
	}
	return n
}

func (s *Server) queryCount() int {
	s.hub.mu.Lock()
	defer s.hub.mu.Unlock()
	return len(s.hub.regs)
}

// authenticate turns an init token into an Auth: none is anonymous, the
// admin token is an admin, anything else must be a JWT the verifier
// accepts.
func (s *Server) authenticate(token string) (perm.Auth, error) {
	switch {
	case token == "":
		return perm.Auth{}, nil
	case s.isAdminToken(token):
		return perm.Auth{Admin: true}, nil
	case s.cfg.Verifier == nil:
		return perm.Auth{}, fmt.Errorf("%w: this server accepts no user tokens", ErrUnauthorized)
	}
	return s.cfg.Verifier.Verify(token, time.Now())
}

func (s *Server) isAdminToken(token string) bool {
	return s.cfg.AdminToken != "" && subtle.ConstantTimeCompare([]byte(token), []byte(s.cfg.AdminToken)) == 1
}

// register adds a new session, or reports that the server is not open.
func (s *Server) register(ss *session) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.state != stateOpen {
		return ErrClosed
	}
	s.nextID++
	ss.id = s.nextID
	ss.ctx, ss.cancel = context.WithCancelCause(s.ctx)
	s.sessions[ss.id] = ss
	s.wg.Add(3)
	s.stats.sessions.Add(1)
	return nil
}

// drop removes a session whose goroutines are ending, with its
// subscriptions.
func (s *Server) drop(ss *session) {
	s.mu.Lock()
	delete(s.sessions, ss.id)
	s.mu.Unlock()
	s.stats.sessions.Add(-1)
}

// errorf logs an uncoded error. Coded errors are the client's business.
func (s *Server) logInternal(msg string, err error, args ...any) {
	if errors.Is(err, context.Canceled) {
		return
	}
	s.log.Error(msg, append(args, logKeyError, err)...)
}
