package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/triplesync/triplesync/internal/perm"
	"github.com/triplesync/triplesync/pg"
	"github.com/triplesync/triplesync/session"
	"github.com/triplesync/triplesync/store"
	"github.com/triplesync/triplesync/wal"
)

// pingTimeout bounds one health check of Postgres.
const pingTimeout = 2 * time.Second

// Server is one triplesync server: Postgres (pg), the WAL reader (wal),
// the invalidator and the sessions (session), and the HTTP routes that
// expose them. See the package documentation.
type Server struct {
	cfg      Config
	log      *slog.Logger
	registry *prometheus.Registry
	sess     *session.Server
	mux      *http.ServeMux

	pool    *pgxpool.Pool
	db      *pg.DB
	reader  atomic.Pointer[wal.Reader]
	ready   chan struct{} // closed once the session server is open: Apply may run
	vis     visibility
	slot    string
	ln      net.Listener
	http    *http.Server
	pingFn  func(ctx context.Context) error // replaces the pool's Ping in tests
	applied func(tx wal.Transaction)        // tests: called once the session server has applied tx

	mu     sync.Mutex
	state  int // stateNew, stateOpen, stateClosed
	errc   chan error
	served chan struct{} // closed when the HTTP server's goroutine returns
	wg     sync.WaitGroup
}

const (
	stateNew = iota
	stateOpen
	stateClosed
)

// New checks cfg and returns a server that has not started.
func New(cfg Config) (*Server, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	s := &Server{
		cfg:      cfg,
		log:      cfg.Logger,
		registry: prometheus.NewRegistry(),
		ready:    make(chan struct{}),
		errc:     make(chan error, 1),
	}
	s.registry.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	s.registerWALMetrics()
	scfg := cfg.Session
	if pc, err := pgxpool.ParseConfig(cfg.DSN); err == nil && scfg.MaxRuns == 0 {
		// Live-query runs take at most half the pool; transacts, the
		// admin API and health checks keep the rest.
		scfg.MaxRuns = max(1, int(pc.MaxConns)/2)
	}
	scfg.Backend = backend{srv: s}
	scfg.Registerer = s.registry
	sess, err := session.NewServer(scfg)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidConfig, err)
	}
	s.sess = sess
	s.mux = http.NewServeMux()
	s.mux.HandleFunc("GET /healthz", s.handleHealthz)
	s.mux.Handle("GET /metrics", promhttp.HandlerFor(s.registry, promhttp.HandlerOpts{ErrorLog: slog.NewLogLogger(s.log.Handler(), slog.LevelWarn)}))
	s.mux.Handle("/runtime/", sess)
	s.mux.Handle("/admin/", sess)
	return s, nil
}

// Open connects to Postgres and migrates it, starts the WAL reader on the
// instance's slot, opens the session server and serves HTTP. It returns
// once the server serves; after an error, Close undoes what was started.
func (s *Server) Open(ctx context.Context) error {
	s.mu.Lock()
	if s.state != stateNew {
		s.mu.Unlock()
		return ErrClosed
	}
	s.state = stateOpen
	s.mu.Unlock()

	var err error
	if s.pool, err = pgxpool.New(ctx, s.cfg.DSN); err != nil {
		return fmt.Errorf("connect postgres: %w", err)
	}
	if err := s.pool.Ping(ctx); err != nil {
		return fmt.Errorf("connect postgres: %w", err)
	}
	if err := pg.Migrate(ctx, s.pool); err != nil {
		return err
	}
	s.db = pg.NewDB(s.pool, s.log)
	s.vis.dsn = s.cfg.DSN

	instance := s.cfg.InstanceID
	if instance == "" {
		if instance, err = LoadInstanceID(s.cfg.DataDir); err != nil {
			return err
		}
	}
	s.slot = wal.SlotName(instance)

	// The WAL reader comes first, so the slot exists before the registry
	// is loaded and the processed tx-id read: every change after them
	// arrives through the WAL. Its deliveries wait for ready.
	reader, err := wal.NewReader(wal.Config{
		DSN:            s.cfg.DSN,
		Slot:           s.slot,
		Publication:    s.cfg.Publication,
		Handle:         s.handle,
		Logger:         s.log,
		StatusInterval: s.cfg.WALStatusInterval,
	})
	if err != nil {
		return err
	}
	if err := reader.Open(ctx); err != nil {
		return fmt.Errorf("start wal reader: %w", err)
	}
	s.reader.Store(reader)
	var maxTx int64
	if err := s.pool.QueryRow(ctx, "SELECT coalesce(max(id), 0) FROM transactions").Scan(&maxTx); err != nil {
		return fmt.Errorf("read last tx-id: %w", err)
	}
	if err := s.sess.Open(ctx); err != nil {
		return err
	}
	s.sess.SetProcessed(store.TxID(maxTx))
	close(s.ready)
	s.log.Info("wal reader started", logKeyInstance, instance, logKeySlot, s.slot, logKeyTxID, maxTx)
	if s.cfg.Session.Dev {
		s.log.Warn("dev mode: actions without a permission rule are allowed, and any session may change the schema")
	}

	s.wg.Add(2)
	go s.watchReader(reader)
	go s.keepWarm(reader)

	ln := s.cfg.Listener
	if ln == nil {
		if ln, err = net.Listen("tcp", s.cfg.Addr); err != nil {
			return err
		}
	}
	s.ln = ln
	s.http = &http.Server{
		Handler:           s,
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	s.served = make(chan struct{})
	go func() {
		defer close(s.served)
		if err := s.http.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			s.fail(fmt.Errorf("serve http: %w", err))
		}
	}()
	return nil
}

// handle is the WAL reader's Handle: one committed transaction, in commit
// order, to the session server (invalidator, processed tx-id, wake-ups).
// The reader acknowledges the transaction's LSN once this returns. An
// error (Postgres restarting under the visibility check) must not be
// retried here: the reader ends its connection and delivers the
// transaction again, and a retry loop here would hold back the
// acknowledgement a Postgres fast shutdown waits for (issue 9).
func (s *Server) handle(ctx context.Context, tx wal.Transaction) error {
	select {
	case <-s.ready:
	case <-ctx.Done():
		return ctx.Err()
	}
	if err := s.vis.wait(ctx, tx.Xid); err != nil {
		return err
	}
	if tx.Reset {
		s.log.Warn("wal reset: every query is stale", logKeyReason, tx.ResetReason, logKeyLSN, uint64(tx.LSN))
	}
	if err := s.sess.Apply(ctx, session.Committed{Change: tx.Change, Reset: tx.Reset, CommitTime: tx.CommitTime}); err != nil {
		return err
	}
	if s.applied != nil {
		s.applied(tx)
	}
	return nil
}

// watchReader reports a WAL reader that stopped on its own: the server can
// no longer refresh anything, so it must stop.
func (s *Server) watchReader(r *wal.Reader) {
	defer s.wg.Done()
	<-r.Done()
	if err := r.Err(); err != nil {
		s.fail(fmt.Errorf("wal reader stopped: %w", err))
	}
}

// keepWarm calls the visibility check's warm until the reader stops (see
// visibility).
func (s *Server) keepWarm(r *wal.Reader) {
	defer s.wg.Done()
	t := time.NewTicker(warmEvery)
	defer t.Stop()
	for {
		select {
		case <-r.Done():
			return
		case <-t.C:
			s.vis.warm(context.Background(), warmIdle)
		}
	}
}

// fail reports the first error that ends serving.
func (s *Server) fail(err error) {
	select {
	case s.errc <- err:
	default:
	}
}

// Err yields the error if the server stops working on its own: the WAL
// reader failed for good, or the HTTP server stopped.
func (s *Server) Err() <-chan error { return s.errc }

// Close stops serving HTTP, ends every session, stops the WAL reader
// (acknowledging what was handled) and closes the pool, waiting for each.
// It undoes a partial Open too.
func (s *Server) Close(ctx context.Context) error {
	s.mu.Lock()
	if s.state == stateClosed {
		s.mu.Unlock()
		return nil
	}
	s.state = stateClosed
	s.mu.Unlock()
	var errs []error
	if s.http != nil {
		if err := s.http.Shutdown(ctx); err != nil {
			errs = append(errs, fmt.Errorf("shutdown http: %w", err))
		}
		<-s.served
	} else if s.cfg.Listener != nil {
		s.cfg.Listener.Close()
	}
	if err := s.sess.Close(ctx); err != nil {
		errs = append(errs, err)
	}
	if r := s.reader.Load(); r != nil {
		if err := r.Close(ctx); err != nil {
			errs = append(errs, fmt.Errorf("close wal reader: %w", err))
		}
		select {
		case <-r.Done(): // the reader's goroutines, its only users, are done
			s.vis.close(ctx)
		default:
		}
	}
	s.wg.Wait()
	if s.pool != nil {
		s.pool.Close()
	}
	return errors.Join(errs...)
}

// ServeHTTP serves the server's routes: GET /healthz, GET /metrics, and
// the session server's (GET /runtime/session, POST /admin/query, POST
// /admin/transact).
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// Addr returns the address the server listens on ("127.0.0.1:43121"),
// once Open has returned.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// URL returns the server's base URL, "http://" + Addr.
func (s *Server) URL() string { return "http://" + s.Addr() }

// SessionURL returns the WebSocket URL clients connect to,
// "ws://<addr>/runtime/session".
func (s *Server) SessionURL() string { return "ws://" + s.Addr() + "/runtime/session" }

// Slot returns the replication slot the server reads, once Open has
// chosen it.
func (s *Server) Slot() string { return s.slot }

// Sessions returns the session server, e.g. for its Stats.
func (s *Server) Sessions() *session.Server { return s.sess }

// SetRules replaces the permission rules (on SIGHUP in triplesync serve);
// every live query re-runs under them.
func (s *Server) SetRules(r *perm.Rules) { s.sess.SetRules(r) }

// handleHealthz answers 200 {"status":"ok"} while Postgres answers a ping
// and 503 {"status":"unavailable"} otherwise; the reason goes to the log,
// not to whoever probes. A failed ping is tried again while time is left:
// the first may have drawn a pooled connection that died with a Postgres
// restart.
func (s *Server) handleHealthz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), pingTimeout)
	defer cancel()
	err := s.ping(ctx)
	for try := 1; err != nil && try < 3 && ctx.Err() == nil; try++ {
		err = s.ping(ctx)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	if err != nil {
		s.log.Warn("healthz: postgres does not answer", logKeyError, err)
		w.WriteHeader(http.StatusServiceUnavailable)
		_ = json.NewEncoder(w).Encode(map[string]string{"status": "unavailable"})
		return
	}
	_ = json.NewEncoder(w).Encode(map[string]string{"status": "ok"})
}

func (s *Server) ping(ctx context.Context) error {
	if s.pingFn != nil {
		return s.pingFn(ctx)
	}
	if s.pool == nil {
		return errors.New("not connected")
	}
	return s.pool.Ping(ctx)
}

// registerWALMetrics registers the WAL reader's gauges, read from its
// Stats at scrape time (zero before Open).
func (s *Server) registerWALMetrics() {
	stat := func(f func(wal.Stats) float64) func() float64 {
		return func() float64 {
			if r := s.reader.Load(); r != nil {
				return f(r.Stats())
			}
			return 0
		}
	}
	s.registry.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "triplesync_wal_lag_bytes",
			Help: "WAL the server has written that this reader has not handled yet, in bytes.",
		}, stat(func(st wal.Stats) float64 { return float64(st.LagBytes) })),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "triplesync_wal_lag_seconds",
			Help: "How long after its commit the last transaction was handled.",
		}, stat(func(st wal.Stats) float64 { return st.CommitLag.Seconds() })),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "triplesync_wal_transactions_total",
			Help: "Committed transactions the WAL reader handed on.",
		}, stat(func(st wal.Stats) float64 { return float64(st.Transactions) })),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "triplesync_wal_reconnects_total",
			Help: "Replication connections made after the first.",
		}, stat(func(st wal.Stats) float64 { return float64(st.Reconnects) })),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "triplesync_wal_handle_errors_total",
			Help: "Committed transactions the server failed to hand on (Postgres unreachable for the visibility check); each ended the replication connection and came again.",
		}, stat(func(st wal.Stats) float64 { return float64(st.HandleErrors) })),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "triplesync_wal_resets_total",
			Help: "Reset transactions: the reader could not rule out a gap, so every query was marked stale.",
		}, stat(func(st wal.Stats) float64 { return float64(st.Resets) })),
	)
}

// DropSlot drops the replication slot of the server instance instance on
// dsn's database. A permanent slot keeps every WAL segment after its
// position while its server is down; drop it when retiring the instance
// for good. A slot that does not exist is not an error.
func DropSlot(ctx context.Context, dsn, instance string) (slot string, err error) {
	slot = wal.SlotName(instance)
	return slot, wal.DropSlot(ctx, dsn, slot)
}
