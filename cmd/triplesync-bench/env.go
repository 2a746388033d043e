package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/triplesync/triplesync/internal/perm"
	"github.com/triplesync/triplesync/internal/pgtest"
	"github.com/triplesync/triplesync/internal/server"
	"github.com/triplesync/triplesync/session"
	"github.com/triplesync/triplesync/store"
)

// adminToken authorises the bench's seeding through the admin API; the
// clients themselves open anonymous sessions under allow-all rules, so
// permission checks run as they would for users.
const adminToken = "bench-admin-token"

// env is the system under test: a Postgres cluster, one database, an
// in-process server and a pool for the bench's writes.
type env struct {
	dir     string
	cluster *pgtest.Cluster
	srv     *server.Server
	pool    *pgxpool.Pool
	nAttr   store.AttrID // items.n, the attribute the bench's writes set
	seeded  int          // items 0..seeded-1 exist
}

// item is the entity id of item i.
func item(i int) store.EntityID {
	return store.MustParseEntityID(fmt.Sprintf("00000000-0000-4000-8000-%012d", i))
}

// itemQuery is the live query on item i, by id (an indexed lookup; a
// filter on the unindexed "k" scans every item's k in Postgres on each
// run, which is what dominated the first measurements).
func itemQuery(i int) string { return fmt.Sprintf(`{"items":{"$":{"where":{"id":"%s"}}}}`, item(i)) }

func openEnv(ctx context.Context, log *slog.Logger) (*env, error) {
	dir, err := os.MkdirTemp("", "triplesync-bench-")
	if err != nil {
		return nil, err
	}
	e := &env{dir: dir}
	// As root, postgres runs as the postgres user, which must reach the
	// data directory: MkdirTemp's 0700 would stop it.
	if err := os.Chmod(dir, 0o755); err != nil {
		return e, err
	}
	e.cluster, err = pgtest.StartCluster(ctx, pgtest.Config{
		DataDir:  filepath.Join(dir, "data"),
		NoSync:   true,
		Settings: map[string]string{"max_connections": "200"},
		Logger:   log,
	})
	if err != nil {
		return e, fmt.Errorf("start postgres: %w", err)
	}
	if err := e.cluster.EnsureDatabase(ctx, "bench"); err != nil {
		return e, err
	}
	dsn := e.cluster.DSN("bench")
	rules, err := perm.ParseRules([]byte(`{}`), true)
	if err != nil {
		return e, err
	}
	e.srv, err = server.New(server.Config{
		DSN:               dsn,
		InstanceID:        "bench",
		Session:           session.Config{Rules: rules, Dev: true, AdminToken: adminToken},
		WALStatusInterval: time.Second,
		Logger:            log,
	})
	if err != nil {
		return e, err
	}
	if err := e.srv.Open(ctx); err != nil {
		return e, fmt.Errorf("open server: %w", err)
	}
	e.pool, err = pgxpool.New(ctx, dsn+"&pool_max_conns=32")
	if err != nil {
		return e, err
	}
	if err := e.seed(ctx, 1); err != nil {
		return e, err
	}
	if err := e.pool.QueryRow(ctx, `SELECT id FROM attrs WHERE namespace = 'items' AND label = 'n'`).Scan(&e.nAttr); err != nil {
		return e, fmt.Errorf("find items.n: %w", err)
	}
	return e, nil
}

// seed makes sure items 0..n-1 exist, through the admin API in batches.
func (e *env) seed(ctx context.Context, n int) error {
	const batch = 500
	for e.seeded < n {
		end := min(e.seeded+batch, n)
		ops := make([][]any, 0, end-e.seeded)
		for i := e.seeded; i < end; i++ {
			ops = append(ops, []any{"update", "items", item(i).String(), map[string]any{"k": fmt.Sprintf("k%d", i), "n": 0}})
		}
		if err := e.admin(ctx, "/admin/transact", map[string]any{"ops": ops}); err != nil {
			return fmt.Errorf("seed items %d-%d: %w", e.seeded, end-1, err)
		}
		e.seeded = end
	}
	return nil
}

func (e *env) admin(ctx context.Context, path string, body any) error {
	b, err := json.Marshal(body)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, e.srv.URL()+path, bytes.NewReader(b))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+adminToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %d %s", path, resp.StatusCode, data)
	}
	return nil
}

// write sets item i's n to seq with a plain SQL UPDATE: one transaction,
// one changed triple, delivered to the server through the WAL.
func (e *env) write(ctx context.Context, i, seq int) error {
	_, err := e.pool.Exec(ctx, `UPDATE triples SET value = to_jsonb($1::int) WHERE entity_id = $2 AND attr_id = $3`, seq, item(i), e.nAttr)
	return err
}

// cpu samples the CPU time of this process and of Postgres.
func (e *env) cpu() cpuSample { return sampleCPU(e.cluster.PID()) }

// walLag returns how many bytes of WAL the server's slot has not
// confirmed yet.
func (e *env) walLag(ctx context.Context) (int64, error) {
	var lag float64
	err := e.pool.QueryRow(ctx, `SELECT (pg_current_wal_lsn() - confirmed_flush_lsn)::float8 FROM pg_replication_slots WHERE slot_name = $1`, e.srv.Slot()).Scan(&lag)
	return int64(lag), err
}

func (e *env) Close(ctx context.Context) error {
	var first error
	keep := func(err error) {
		if err != nil && first == nil {
			first = err
		}
	}
	if e.pool != nil {
		e.pool.Close()
	}
	if e.srv != nil {
		keep(e.srv.Close(ctx))
	}
	if e.cluster != nil {
		keep(e.cluster.Close(ctx))
	}
	keep(os.RemoveAll(e.dir))
	return first
}
