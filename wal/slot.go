package wal

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pglogrepl"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/triplesync/triplesync/store"
)

// slotPrefix starts every slot name [SlotName] makes, so an operator can
// tell triplesync's slots apart in pg_replication_slots.
const slotPrefix = "triplesync_"

// SlotName returns the replication slot name for a server instance: the
// prefix "triplesync_" and instance folded to lower-case letters, digits
// and underscores. The instance id must be stable across restarts (a host
// name, a configured id) so the server resumes its own slot. Ids too long
// for Postgres's 63-byte names are shortened with a hash suffix, so two
// ids never share a slot by truncation.
func SlotName(instance string) string {
	var b strings.Builder
	b.WriteString(slotPrefix)
	for _, r := range strings.ToLower(instance) {
		if 'a' <= r && r <= 'z' || '0' <= r && r <= '9' || r == '_' {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	s := b.String()
	if len(s) > 63 || s != slotPrefix+instance {
		// Folding may map two ids to one name; a hash of the original
		// keeps them apart.
		sum := sha256.Sum256([]byte(instance))
		h := hex.EncodeToString(sum[:4])
		s = s[:min(len(s), 63-len(h)-1)] + "_" + h
	}
	return s
}

// slotInfo is what the reader needs to know about its slot.
type slotInfo struct {
	confirmed store.LSN // confirmed_flush_lsn: streaming from LSN 0 starts here
	created   bool      // the reader just made it (nothing before it can be streamed)
	recreated bool      // it existed but was lost (WAL removed) and was made again
}

// ensureSlot makes sure the permanent slot exists on conn's database with
// the pgoutput plugin and returns its position. A slot whose WAL the
// server removed (wal_status 'lost') can never stream again: it is dropped
// and made anew. A slot that belongs to another database or plugin is an
// error wrapping ErrSlotMismatch. It also checks that the publication
// exists: Postgres would otherwise only say so at the first change.
func ensureSlot(ctx context.Context, conn *pgconn.PgConn, slot, publication string) (slotInfo, error) {
	var info slotInfo
	rows, err := query(ctx, conn, fmt.Sprintf(`SELECT current_database(), EXISTS (SELECT FROM pg_publication WHERE pubname = '%s')`, publication))
	if err != nil {
		return info, fmt.Errorf("check publication: %w", err)
	}
	db := rows[0][0]
	if rows[0][1] != "t" {
		return info, fmt.Errorf("%w: publication %q does not exist in database %q", ErrInvalidConfig, publication, db)
	}
	for attempt := 0; ; attempt++ {
		rows, err := query(ctx, conn, fmt.Sprintf(`SELECT slot_type, coalesce(plugin, ''), coalesce(database, ''),
			coalesce(confirmed_flush_lsn::text, ''), coalesce(wal_status, '')
			FROM pg_replication_slots WHERE slot_name = '%s'`, slot))
		if err != nil {
			return info, fmt.Errorf("look up slot: %w", err)
		}
		if len(rows) == 0 {
			if attempt > 0 {
				return info, fmt.Errorf("slot %s vanished while being made", slot)
			}
			if err := createSlot(ctx, conn, slot); err != nil {
				var pe *pgconn.PgError
				if errors.As(err, &pe) && pe.Code == "42710" { // duplicate_object: made concurrently
					continue
				}
				return info, err
			}
			info.created = true
			continue
		}
		r := rows[0]
		switch {
		case r[0] != "logical" || r[1] != "pgoutput":
			return info, fmt.Errorf("%w: slot %s is %s with plugin %q, want logical pgoutput", ErrSlotMismatch, slot, r[0], r[1])
		case r[2] != db:
			return info, fmt.Errorf("%w: slot %s belongs to database %q, not %q", ErrSlotMismatch, slot, r[2], db)
		case r[4] == "lost" && attempt == 0:
			if err := pglogrepl.DropReplicationSlot(ctx, conn, slot, pglogrepl.DropReplicationSlotOptions{}); err != nil {
				return info, fmt.Errorf("drop lost slot: %w", err)
			}
			if err := createSlot(ctx, conn, slot); err != nil {
				return info, err
			}
			info.recreated = true
			continue
		}
		lsn, err := pglogrepl.ParseLSN(r[3])
		if err != nil {
			return info, fmt.Errorf("slot %s confirmed_flush_lsn %q: %w", slot, r[3], err)
		}
		info.confirmed = store.LSN(lsn)
		return info, nil
	}
}

func createSlot(ctx context.Context, conn *pgconn.PgConn, slot string) error {
	_, err := pglogrepl.CreateReplicationSlot(ctx, conn, slot, "pgoutput", pglogrepl.CreateReplicationSlotOptions{
		Mode:           pglogrepl.LogicalReplication,
		SnapshotAction: "NOEXPORT_SNAPSHOT",
	})
	if err != nil {
		return fmt.Errorf("create slot %s: %w", slot, err)
	}
	return nil
}

// query runs sql with the simple protocol (the only one a walsender
// speaks) and returns the text of its rows' columns; NULL reads "".
func query(ctx context.Context, conn *pgconn.PgConn, sql string) ([][]string, error) {
	results, err := conn.Exec(ctx, sql).ReadAll()
	if err != nil {
		return nil, err
	}
	var out [][]string
	for _, res := range results {
		for _, row := range res.Rows {
			r := make([]string, len(row))
			for i, v := range row {
				r[i] = string(v)
			}
			out = append(out, r)
		}
	}
	return out, nil
}

// DropSlot drops the replication slot slot on dsn's server, waiting for a
// walsender still using it to let go. A slot that does not exist is not
// an error. Use it when a server instance is retired for good: a slot no
// reader consumes keeps every WAL segment after its position.
func DropSlot(ctx context.Context, dsn, slot string) error {
	if !validIdent(slot) {
		return fmt.Errorf("%w: slot %q", ErrInvalidConfig, slot)
	}
	cfg, err := replicationConfig(dsn)
	if err != nil {
		return err
	}
	conn, err := pgconn.ConnectConfig(ctx, cfg)
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	err = pglogrepl.DropReplicationSlot(ctx, conn, slot, pglogrepl.DropReplicationSlotOptions{Wait: true})
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "42704" { // undefined_object
		return nil
	}
	if err != nil {
		return fmt.Errorf("drop slot %s: %w", slot, err)
	}
	return nil
}
