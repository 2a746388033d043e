package main

import (
	"io"
	"log/slog"
)

// Log keys used by this package.
const (
	logKeyAddr     = "addr"
	logKeyDataDir  = "data_dir"
	logKeyDev      = "dev"
	logKeyError    = "err"
	logKeyPostgres = "postgres"
	logKeySchema   = "schema_version"
	logKeySlot     = "slot"
	logKeyRules    = "rules"
)

// newLogger writes structured logs to w, as logfmt-style text or as JSON.
func newLogger(w io.Writer, format string) *slog.Logger {
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, nil))
	}
	return slog.New(slog.NewTextHandler(w, nil))
}
