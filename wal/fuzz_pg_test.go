package wal_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/jackc/pglogrepl"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgproto3"
	"github.com/stretchr/testify/require"

	"github.com/triplesync/triplesync/pg"
	"github.com/triplesync/triplesync/store"
	"github.com/triplesync/triplesync/wal"
)

var recordSeeds = flag.Bool("record-seeds", false, "TestReaderRecordFuzzSeeds: rewrite testdata/fuzz/FuzzDecode/pg15-* from a real Postgres stream")

// TestReaderRecordFuzzSeeds streams a scenario that exercises every
// message kind the decoder meets (relations, inserts, updates with
// unchanged TOAST, deletes, truncate, streamed transactions with a rolled
// back savepoint, an aborted streamed transaction) from a real Postgres
// over a raw pglogrepl connection, checks that the decoder takes it, and
// with -record-seeds writes it as FuzzDecode seeds.
func TestReaderRecordFuzzSeeds(t *testing.T) {
	t.Parallel()
	f := mustOpenFixture(t)
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()

	cfg, err := pgconn.ParseConfig(f.db.ReplicationDSN())
	require.NoError(t, err)
	cfg.RuntimeParams["logical_decoding_work_mem"] = "64kB"
	conn, err := pgconn.ConnectConfig(ctx, cfg)
	require.NoError(t, err)
	defer conn.Close(context.Background())
	slot := f.prefix + "_seeds"
	_, err = pglogrepl.CreateReplicationSlot(ctx, conn, slot, "pgoutput", pglogrepl.CreateReplicationSlotOptions{Temporary: true, Mode: pglogrepl.LogicalReplication})
	require.NoError(t, err)
	require.NoError(t, pglogrepl.StartReplication(ctx, conn, slot, 0, pglogrepl.StartReplicationOptions{
		Mode: pglogrepl.LogicalReplication, PluginArgs: []string{"proto_version '2'", "publication_names '" + pg.Publication + "'", "streaming 'true'"},
	}))

	random := make([]byte, 3000)
	_, _ = rand.Read(random)
	big := `"` + hex.EncodeToString(random) + `"`
	groups := []struct {
		name string
		sql  []string
	}{
		{"rows", []string{
			`INSERT INTO attrs (id, namespace, label, value_type) VALUES ('a77e0000-0000-4000-8000-000000000009', 'users', 'name', 'string')`,
			`BEGIN; INSERT INTO transactions (mutation_id) VALUES ('m1');
			 INSERT INTO triples (entity_id, attr_id, value, ea, ave) VALUES ('` + e1 + `', '` + a1 + `', '{"t": [1, "x"]}', true, true);
			 INSERT INTO triples (entity_id, attr_id, value, eav, vae) VALUES ('` + e1 + `', '` + a2 + `', '"` + e2 + `"', true, true); COMMIT`,
			`UPDATE triples SET value = '"new"', ave = false WHERE attr_id = '` + a1 + `'`,
			`DELETE FROM triples WHERE attr_id = '` + a2 + `'`,
			`UPDATE attrs SET cardinality = 'many', is_indexed = true WHERE label = 'name'`,
		}},
		{"toast", []string{
			`INSERT INTO triples (entity_id, attr_id, value) VALUES ('` + e2 + `', '` + a1 + `', '` + big + `')`,
			`UPDATE triples SET created_at = 5 WHERE entity_id = '` + e2 + `'`,
			`TRUNCATE triples`,
		}},
		{"stream", []string{
			`BEGIN; INSERT INTO triples (entity_id, attr_id, value) SELECT gen_random_uuid(), '` + a1 + `', to_jsonb(i) FROM generate_series(1, 400) i; ROLLBACK`,
			`BEGIN; INSERT INTO transactions (mutation_id) VALUES ('m2');
			 INSERT INTO triples (entity_id, attr_id, value) SELECT gen_random_uuid(), '` + a1 + `', to_jsonb(i) FROM generate_series(1, 400) i;
			 SAVEPOINT s; INSERT INTO triples (entity_id, attr_id, value) SELECT gen_random_uuid(), '` + a2 + `', '"` + e1 + `"' FROM generate_series(1, 200) i;
			 ROLLBACK TO s; INSERT INTO triples (entity_id, attr_id, value) VALUES ('` + e1 + `', '` + a1 + `', 'null'); COMMIT`,
		}},
	}
	var d wal.Decoder
	for _, g := range groups {
		for _, sql := range g.sql {
			_, err := f.conn.PgConn().Exec(ctx, sql).ReadAll()
			require.NoError(t, err, sql)
		}
		// A marker transaction ends the group.
		var marker int64
		require.NoError(t, f.conn.QueryRow(ctx, `INSERT INTO transactions (mutation_id) VALUES ($1) RETURNING id`, "end-"+g.name).Scan(&marker))
		var msgs [][]byte
		var txs []*wal.Transaction
		for done := false; !done; {
			raw, err := conn.ReceiveMessage(ctx)
			require.NoError(t, err)
			cd, ok := raw.(*pgproto3.CopyData)
			if !ok || cd.Data[0] != pglogrepl.XLogDataByteID {
				continue
			}
			xld, err := pglogrepl.ParseXLogData(cd.Data[1:])
			require.NoError(t, err)
			msgs = append(msgs, append([]byte(nil), xld.WALData...))
			tx, err := d.Decode(store.LSN(xld.WALStart), xld.WALData)
			require.NoError(t, err)
			if tx != nil {
				txs = append(txs, tx)
				done = tx.TxID == store.TxID(marker)
			}
		}
		t.Logf("%s: %d messages, %d transactions", g.name, len(msgs), len(txs))
		for i, tx := range txs {
			t.Logf("  tx %d: txid %d, %d triples, %d attrs, reset %q", i, tx.TxID, len(tx.Triples), len(tx.Attrs), tx.ResetReason)
		}
		if *recordSeeds {
			dir := filepath.Join("testdata", "fuzz", "FuzzDecode")
			require.NoError(t, os.MkdirAll(dir, 0o755))
			seed := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", frames(msgs...))
			require.NoError(t, os.WriteFile(filepath.Join(dir, "pg15-"+g.name), []byte(seed), 0o644))
		}
	}
}
