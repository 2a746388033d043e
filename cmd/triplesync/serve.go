package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/triplesync/triplesync/internal/perm"
	"github.com/triplesync/triplesync/internal/pgtest"
	"github.com/triplesync/triplesync/internal/server"
	"github.com/triplesync/triplesync/pg"
	"github.com/triplesync/triplesync/session"
)

// managedDatabase is the database serve creates in its managed Postgres.
const managedDatabase = "triplesync"

// connectTimeout bounds starting the server: connecting to Postgres,
// migrating, starting the WAL reader.
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
	srv      *server.Server
	front    *front     // serves the browser client and the demo (client.go)
	serveErr chan error // an error that ended serving, at most one
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
// port in use fails before anything else starts, reads the rules and keys,
// starts the managed Postgres if no DATABASE_URL is given, then starts
// internal/server (which migrates, starts the WAL reader and serves HTTP).
// Nothing is logged before the first failure point that has passed, so a
// configuration error is one line on stderr. After an error, Close undoes
// what was started.
func (m *Main) Run(ctx context.Context) error {
	c := m.Config
	if err := c.validate(); err != nil {
		return err
	}
	m.logger = newLogger(m.Stderr, c.LogFormat)

	if c.DatabaseURL != "" {
		if _, err := pgxpool.ParseConfig(c.DatabaseURL); err != nil {
			return fmt.Errorf("DATABASE_URL: %w", err) // pgx redacts the password
		}
	}
	scfg, err := m.sessionConfig()
	if err != nil {
		return err
	}

	ln, err := net.Listen("tcp", c.Addr)
	if err != nil {
		return err // "listen tcp 127.0.0.1:8888: bind: address already in use"
	}
	m.ln = ln

	dsn, where := c.DatabaseURL, "external"
	if dsn == "" {
		if m.cluster, err = m.startPostgres(ctx); err != nil {
			return err
		}
		dsn, where = m.cluster.DSN(managedDatabase), "managed"
	}

	m.srv, err = server.New(server.Config{
		DSN:        dsn,
		Listener:   m.serverListener(ln), // the front server owns ln (client.go)
		InstanceID: c.InstanceID,
		DataDir:    c.DataDir,
		Session:    scfg,
		Logger:     m.logger,
	})
	if err != nil {
		return err
	}
	openCtx, cancel := context.WithTimeout(ctx, connectTimeout)
	defer cancel()
	if err := m.srv.Open(openCtx); err != nil {
		return err
	}
	m.serveClient()
	go func() {
		if err := <-m.srv.Err(); err != nil {
			m.serveErr <- err
		}
	}()
	m.logger.Info("serving", logKeyAddr, ln.Addr().String(), logKeyPostgres, where,
		logKeySchema, pg.SchemaVersion, logKeyDev, c.Dev, logKeySlot, m.srv.Slot())
	return nil
}

// sessionConfig builds the session configuration: rules, token keys and
// limits.
func (m *Main) sessionConfig() (session.Config, error) {
	c := m.Config
	rules, err := m.loadRules()
	if err != nil {
		return session.Config{}, err
	}
	scfg := session.Config{
		Rules:           rules,
		Dev:             c.Dev,
		AdminToken:      c.AdminToken,
		MaxMessageBytes: c.MaxMessageBytes,
		MaxQueries:      c.MaxQueries,
	}
	switch {
	case c.JWTSecret != "":
		scfg.Verifier = &perm.Verifier{HMACSecret: []byte(c.JWTSecret), Issuer: c.JWTIssuer, Audience: c.JWTAudience, Leeway: jwtLeeway}
	case c.JWTPublicKeyFile != "":
		data, err := os.ReadFile(c.JWTPublicKeyFile)
		if err != nil {
			return session.Config{}, fmt.Errorf("--jwt-public-key: %w", err)
		}
		key, err := jwt.ParseRSAPublicKeyFromPEM(data)
		if err != nil {
			return session.Config{}, fmt.Errorf("--jwt-public-key %s: %w", c.JWTPublicKeyFile, err)
		}
		scfg.Verifier = &perm.Verifier{RSAPublicKey: key, Issuer: c.JWTIssuer, Audience: c.JWTAudience, Leeway: jwtLeeway}
	}
	return scfg, nil
}

// jwtLeeway allows for clock skew between the token issuer and the server.
const jwtLeeway = 30 * time.Second

// loadRules reads and compiles the rules file; no file is no rules.
func (m *Main) loadRules() (*perm.Rules, error) {
	var data []byte
	if f := m.Config.RulesFile; f != "" {
		var err error
		if data, err = os.ReadFile(f); err != nil {
			return nil, fmt.Errorf("--rules: %w", err)
		}
	}
	rules, err := perm.ParseRules(data, m.Config.Dev)
	if err != nil {
		return nil, fmt.Errorf("--rules %s: %w", m.Config.RulesFile, err)
	}
	return rules, nil
}

// ReloadRules reads the rules file again and puts the new rules in force;
// every live query re-runs under them. On error the old rules stay.
func (m *Main) ReloadRules() error {
	rules, err := m.loadRules()
	if err != nil {
		return err
	}
	m.srv.SetRules(rules)
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

// Close stops the server (HTTP, sessions, WAL reader, pool) and the
// managed Postgres, waiting for each. It undoes a partial Run too.
func (m *Main) Close(ctx context.Context) error {
	var errs []error
	if err := m.closeClient(ctx); err != nil {
		errs = append(errs, err)
	}
	if m.srv != nil {
		if err := m.srv.Close(ctx); err != nil {
			errs = append(errs, err)
		}
	} else if m.ln != nil {
		m.ln.Close()
	}
	if m.cluster != nil {
		if err := m.cluster.Close(ctx); err != nil {
			errs = append(errs, fmt.Errorf("stop postgres: %w", err))
		}
	}
	return errors.Join(errs...)
}
