package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/triplesync/triplesync/internal/pgtest"
	"github.com/triplesync/triplesync/pg"
)

// managedDatabase is the database serve creates in its managed Postgres.
const managedDatabase = "triplesync"

// connectTimeout bounds the first connection to Postgres at start.
const connectTimeout = 15 * time.Second

// Main is `triplesync serve`: ParseFlags, then Run to start, then Close to
// stop and wait.
type Main struct {
	Config Config

	Stdout, Stderr io.Writer
	Getenv         func(string) string

	logger   *slog.Logger
	ln       net.Listener
	cluster  *pgtest.Cluster // nil with DATABASE_URL
	pool     *pgxpool.Pool
	http     *http.Server
	served   chan struct{} // closed when the HTTP server's goroutine returns
	serveErr chan error    // an error that ended serving, at most one
}

// NewMain returns a Main on the process's stdio and environment.
func NewMain() *Main {
	return &Main{
		Stdout:   os.Stdout,
		Stderr:   os.Stderr,
		Getenv:   os.Getenv,
		logger:   slog.New(slog.DiscardHandler),
		serveErr: make(chan error, 1),
	}
}

// Run starts the server and returns once it serves: it listens first, so a
// port in use fails before anything else starts, then starts the managed
// Postgres if no DATABASE_URL is given, connects, migrates, and serves HTTP.
// Nothing is logged before the first failure point that has passed, so a
// configuration error is one line on stderr. After an error, Close undoes
// what was started.
func (m *Main) Run(ctx context.Context) error {
	c := m.Config
	if err := c.validate(); err != nil {
		return err
	}
	m.logger = newLogger(m.Stderr, c.LogFormat)

	var poolCfg *pgxpool.Config
	if c.DatabaseURL != "" {
		var err error
		if poolCfg, err = pgxpool.ParseConfig(c.DatabaseURL); err != nil {
			return fmt.Errorf("DATABASE_URL: %w", err) // pgx redacts the password
		}
	}

	ln, err := net.Listen("tcp", c.Addr)
	if err != nil {
		return err // "listen tcp 127.0.0.1:8888: bind: address already in use"
	}
	m.ln = ln

	where := "external"
	if poolCfg == nil {
		if m.cluster, err = m.startPostgres(ctx); err != nil {
			return err
		}
		if poolCfg, err = pgxpool.ParseConfig(m.cluster.DSN(managedDatabase)); err != nil {
			return fmt.Errorf("managed postgres: %w", err)
		}
		where = "managed"
	}

	if m.pool, err = pgxpool.NewWithConfig(ctx, poolCfg); err != nil {
		return fmt.Errorf("connect postgres: %w", err)
	}
	pingCtx, cancel := context.WithTimeout(ctx, connectTimeout)
	defer cancel()
	if err := m.pool.Ping(pingCtx); err != nil {
		return fmt.Errorf("connect postgres: %w", err)
	}
	if err := pg.Migrate(ctx, m.pool); err != nil {
		return err
	}

	srv := newServer(m.logger, m.pool.Ping)
	m.http = &http.Server{
		Handler:           srv,
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(m.logger.Handler(), slog.LevelWarn),
	}
	m.served = make(chan struct{})
	go func() {
		defer close(m.served)
		if err := m.http.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			m.serveErr <- fmt.Errorf("serve http: %w", err)
		}
	}()
	m.logger.Info("serving", logKeyAddr, ln.Addr().String(), logKeyPostgres, where,
		logKeySchema, pg.SchemaVersion, logKeyDev, c.Dev)
	return nil
}

// startPostgres starts (creating on first use) the managed Postgres under
// DataDir/pg and its database.
func (m *Main) startPostgres(ctx context.Context) (*pgtest.Cluster, error) {
	dir, err := filepath.Abs(m.Config.DataDir)
	if err != nil {
		return nil, fmt.Errorf("data dir: %w", err)
	}
	// StartCluster creates dir (0755) and dir/pg, after checking as root that
	// the postgres user will be able to reach them.
	cluster, err := pgtest.StartCluster(ctx, pgtest.Config{
		DataDir: filepath.Join(dir, "pg"),
		BinDir:  m.Config.PGBinDir,
		Logger:  m.logger,
	})
	if errors.Is(err, pgtest.ErrNoBinaries) {
		return nil, fmt.Errorf("start postgres: %w; install PostgreSQL (apt-get install postgresql-15), set --pg-bin-dir, or set DATABASE_URL", err)
	}
	if errors.Is(err, pgtest.ErrUnreachable) {
		return nil, fmt.Errorf("start postgres: %w; as root, choose a --data-dir the postgres user can reach (not under /root), or run as another user", err)
	}
	if err != nil {
		return nil, fmt.Errorf("start postgres: %w", err)
	}
	if err := cluster.EnsureDatabase(ctx, managedDatabase); err != nil {
		_ = cluster.Close(context.WithoutCancel(ctx))
		return nil, fmt.Errorf("start postgres: %w", err)
	}
	return cluster, nil
}

// Err returns a channel that yields the error if serving stops on its own.
func (m *Main) Err() <-chan error { return m.serveErr }

// Close stops serving (waiting for requests in flight), closes the pool and
// stops the managed Postgres, waiting for each. It undoes a partial Run too.
func (m *Main) Close(ctx context.Context) error {
	var errs []error
	if m.http != nil {
		if err := m.http.Shutdown(ctx); err != nil {
			errs = append(errs, fmt.Errorf("shutdown http: %w", err))
		}
		<-m.served
	} else if m.ln != nil {
		m.ln.Close()
	}
	if m.pool != nil {
		m.pool.Close()
	}
	if m.cluster != nil {
		if err := m.cluster.Close(ctx); err != nil {
			errs = append(errs, fmt.Errorf("stop postgres: %w", err))
		}
	}
	return errors.Join(errs...)
}
