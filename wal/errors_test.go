package wal_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/triplesync/triplesync/wal"
)

func TestRetryable(t *testing.T) {
	pgErr := func(code string) error { return &pgconn.PgError{Severity: "FATAL", Code: code} }
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"nil", nil, false},
		{"walsender terminated", fmt.Errorf("receive: %w", pgErr("57P01")), true},
		{"server starting", pgErr("57P03"), true},
		{"slot still active", pgErr("55006"), true},
		{"too many connections", pgErr("53300"), true},
		{"connection failure", pgErr("08006"), true},
		{"eof", fmt.Errorf("receive: %w", io.ErrUnexpectedEOF), true},
		{"server ended stream", fmt.Errorf("x: %w", io.EOF), true},
		{"bad password", pgErr("28P01"), false},
		{"no database", pgErr("3D000"), false},
		{"syntax", pgErr("42601"), false},
		{"cancelled", fmt.Errorf("x: %w", context.Canceled), false},
		{"decode", &wal.DecodeError{Op: "Insert", Err: wal.ErrProtocol}, false},
		{"handle", &wal.HandleError{Err: io.EOF}, false},
		{"config", fmt.Errorf("%w: x", wal.ErrInvalidConfig), false},
		{"slot mismatch", fmt.Errorf("%w: x", wal.ErrSlotMismatch), false},
		{"other", errors.New("something"), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, wal.Retryable(tt.err), "Retryable(%v)", tt.err)
		})
	}
}

func TestDecodeErrorMessage(t *testing.T) {
	err := &wal.DecodeError{LSN: 0x1_0000_00AB, Op: "Update", Err: wal.ErrProtocol}
	assert.Equal(t, "wal: decode Update at 1/AB: wal: protocol violation", err.Error())
	assert.ErrorIs(t, err, wal.ErrProtocol)
}

func TestSlotName(t *testing.T) {
	tests := []struct {
		instance string
		want     string
	}{
		{"web1", "triplesync_web1"},
		{"eu_west_3", "triplesync_eu_west_3"},
		{"Web-1.example.com", "triplesync_web_1_example_com_"},
		{strings.Repeat("a", 80), "triplesync_" + strings.Repeat("a", 43) + "_"},
	}
	seen := map[string]string{}
	for _, tt := range tests {
		got := wal.SlotName(tt.instance)
		assert.True(t, strings.HasPrefix(got, tt.want), "SlotName(%q)=%q, want prefix %q", tt.instance, got, tt.want)
		assert.LessOrEqual(t, len(got), 63)
		assert.Equal(t, got, wal.SlotName(tt.instance), "stable")
		seen[got] = tt.instance
	}
	assert.NotEqual(t, wal.SlotName("web-1"), wal.SlotName("web_1"), "folding does not merge ids")
	// Every name SlotName makes is one the reader accepts.
	for name := range seen {
		_, err := wal.NewReader(wal.Config{DSN: "postgres://localhost/x", Slot: name, Publication: "p",
			Handle: func(context.Context, wal.Transaction) error { return nil }})
		assert.NoError(t, err, name)
	}
}

func TestConfigValidate(t *testing.T) {
	ok := func(context.Context, wal.Transaction) error { return nil }
	valid := wal.Config{DSN: "postgres://localhost/x", Slot: "s", Publication: "p", Handle: ok}
	tests := []struct {
		name string
		edit func(*wal.Config)
	}{
		{"no dsn", func(c *wal.Config) { c.DSN = "" }},
		{"bad dsn", func(c *wal.Config) { c.DSN = "postgres://%zz" }},
		{"no slot", func(c *wal.Config) { c.Slot = "" }},
		{"slot upper case", func(c *wal.Config) { c.Slot = "Slot" }},
		{"slot with quote", func(c *wal.Config) { c.Slot = "s'; drop" }},
		{"slot too long", func(c *wal.Config) { c.Slot = strings.Repeat("s", 64) }},
		{"slot starts with digit", func(c *wal.Config) { c.Slot = "1s" }},
		{"bad publication", func(c *wal.Config) { c.Publication = "a b" }},
		{"no handle", func(c *wal.Config) { c.Handle = nil }},
		{"negative interval", func(c *wal.Config) { c.StatusInterval = -1 }},
		{"backoff inverted", func(c *wal.Config) { c.MinBackoff, c.MaxBackoff = 2, 1 }},
	}
	_, err := wal.NewReader(valid)
	require.NoError(t, err)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := valid
			tt.edit(&cfg)
			_, err := wal.NewReader(cfg)
			assert.ErrorIs(t, err, wal.ErrInvalidConfig)
		})
	}
}
