package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Defaults of the serve configuration.
const (
	DefaultAddr    = "127.0.0.1:8888"
	DefaultDataDir = ".triplesync"
)

// Config is the configuration of `triplesync serve`. Each field comes from
// a flag, or failing that from an environment variable, or a default.
type Config struct {
	// DatabaseURL is the Postgres to use (flag --database-url, env
	// DATABASE_URL). Empty runs a managed Postgres under DataDir/pg.
	DatabaseURL string

	// Addr is the HTTP listen address (--addr, TRIPLESYNC_ADDR).
	Addr string

	// DataDir holds the managed Postgres: its data directory pg/ and its
	// log postgres.log (--data-dir, TRIPLESYNC_DATA_DIR).
	DataDir string

	// PGBinDir, when set, is the only directory searched for initdb and
	// postgres; by default PATH and /usr/lib/postgresql/*/bin are searched
	// (--pg-bin-dir, TRIPLESYNC_PG_BIN_DIR). Pointing it at an empty
	// directory is how tests check the error for a missing Postgres.
	PGBinDir string

	// Dev turns on development conveniences that later issues define
	// (--dev, TRIPLESYNC_DEV).
	Dev bool

	// LogFormat is "text" or "json" (--log-format, TRIPLESYNC_LOG_FORMAT).
	LogFormat string
}

func (c *Config) validate() error {
	switch {
	case c.Addr == "":
		return errors.New("config: --addr is empty")
	case c.DatabaseURL == "" && c.DataDir == "":
		return errors.New("config: --data-dir is empty and no DATABASE_URL is given")
	case c.LogFormat != "text" && c.LogFormat != "json":
		return fmt.Errorf("config: --log-format %q: want text or json", c.LogFormat)
	}
	return nil
}

// setting is one row of the configuration table: a flag and its variable.
type setting struct {
	flag, env, usage string
}

var (
	settingDatabaseURL = setting{"database-url", "DATABASE_URL", "Postgres URL; empty runs a managed Postgres under DATA_DIR/pg"}
	settingAddr        = setting{"addr", "TRIPLESYNC_ADDR", "HTTP listen address"}
	settingDataDir     = setting{"data-dir", "TRIPLESYNC_DATA_DIR", "directory of the managed Postgres (pg/, postgres.log)"}
	settingPGBinDir    = setting{"pg-bin-dir", "TRIPLESYNC_PG_BIN_DIR", "directory of initdb and postgres; default: PATH, then /usr/lib/postgresql/*/bin"}
	settingDev         = setting{"dev", "TRIPLESYNC_DEV", "development mode"}
	settingLogFormat   = setting{"log-format", "TRIPLESYNC_LOG_FORMAT", "log format: text or json"}
)

// ParseFlags reads m.Config from the serve command's arguments and
// m.Getenv. It returns flag.ErrHelp after printing the usage for -h.
func (m *Main) ParseFlags(args []string) error {
	fs := flag.NewFlagSet("triplesync serve", flag.ContinueOnError)
	fs.SetOutput(io.Discard) // errors are reported once, by the caller
	c := &m.Config
	env := func(s setting, def string) string {
		if v := m.Getenv(s.env); v != "" {
			return v
		}
		return def
	}
	str := func(p *string, s setting, def string) {
		fs.StringVar(p, s.flag, env(s, def), s.usage+" (env "+s.env+")")
	}
	str(&c.DatabaseURL, settingDatabaseURL, "")
	str(&c.Addr, settingAddr, DefaultAddr)
	str(&c.DataDir, settingDataDir, DefaultDataDir)
	str(&c.PGBinDir, settingPGBinDir, "")
	str(&c.LogFormat, settingLogFormat, "text")
	dev, err := strconv.ParseBool(env(settingDev, "false"))
	if err != nil {
		return fmt.Errorf("%s=%q: want true or false", settingDev.env, m.Getenv(settingDev.env))
	}
	fs.BoolVar(&c.Dev, settingDev.flag, dev, settingDev.usage+" (env "+settingDev.env+")")

	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fs.SetOutput(m.Stdout)
			fmt.Fprint(m.Stdout, "Usage: triplesync serve [flags]\n\n"+
				"Each flag may instead be given by the environment variable named after it;\n"+
				"a flag wins over its variable.\n\nFlags:\n")
			fs.PrintDefaults()
		}
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", strings.Join(fs.Args(), " "))
	}
	return nil
}
