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

	// ClientDir is the built browser client, served at /client/
	// (--client-dir, TRIPLESYNC_CLIENT_DIR; see client.go). With Dev, the
	// demo is served at / too.
	ClientDir string

	// Dev allows actions that have no permission rule, and schema changes
	// from any session; the server says so in its log at start (--dev,
	// TRIPLESYNC_DEV). Never in production.
	Dev bool

	// LogFormat is "text" or "json" (--log-format, TRIPLESYNC_LOG_FORMAT).
	LogFormat string

	// InstanceID names this server's replication slot; it must be stable
	// across restarts and unique among the servers sharing a database
	// (--instance-id, TRIPLESYNC_INSTANCE_ID). Empty: a random id kept in
	// DataDir/instance-id.
	InstanceID string

	// RulesFile is the JSON file of permission rules (--rules,
	// TRIPLESYNC_RULES), read at start and again on SIGHUP. Empty: no
	// rules, so every user action is denied (unless Dev).
	RulesFile string

	// AdminToken is the token of the admin API and of admin sessions (env
	// TRIPLESYNC_ADMIN_TOKEN only, to keep it out of process listings).
	// Empty disables both.
	AdminToken string

	// JWTSecret is the HS256 secret user tokens are signed with (env
	// TRIPLESYNC_JWT_SECRET only).
	JWTSecret string

	// JWTPublicKeyFile is a PEM file holding the RS256 public key user
	// tokens are signed with, instead of JWTSecret (--jwt-public-key,
	// TRIPLESYNC_JWT_PUBLIC_KEY).
	JWTPublicKeyFile string

	// JWTIssuer and JWTAudience, when set, must match user tokens' iss and
	// aud claims (--jwt-issuer, TRIPLESYNC_JWT_ISSUER; --jwt-audience,
	// TRIPLESYNC_JWT_AUDIENCE).
	JWTIssuer   string
	JWTAudience string

	// MaxMessageBytes is the frame size limit (--max-message-bytes,
	// TRIPLESYNC_MAX_MESSAGE_BYTES). Zero: 1 MiB.
	MaxMessageBytes int

	// MaxQueries bounds the live queries of one session (--max-queries,
	// TRIPLESYNC_MAX_QUERIES). Zero: 1000.
	MaxQueries int
}

func (c *Config) validate() error {
	switch {
	case c.Addr == "":
		return errors.New("config: --addr is empty")
	case c.DatabaseURL == "" && c.DataDir == "":
		return errors.New("config: --data-dir is empty and no DATABASE_URL is given")
	case c.LogFormat != "text" && c.LogFormat != "json":
		return fmt.Errorf("config: --log-format %q: want text or json", c.LogFormat)
	case c.JWTSecret != "" && c.JWTPublicKeyFile != "":
		return errors.New("config: set TRIPLESYNC_JWT_SECRET or --jwt-public-key, not both")
	case c.JWTSecret != "" && len(c.JWTSecret) < 32:
		return errors.New("config: TRIPLESYNC_JWT_SECRET is shorter than 32 bytes")
	case c.MaxMessageBytes < 0, c.MaxQueries < 0:
		return errors.New("config: limits cannot be negative")
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
	settingInstanceID  = setting{"instance-id", "TRIPLESYNC_INSTANCE_ID", "stable id naming this server's replication slot; default: random, kept in DATA_DIR/instance-id"}
	settingRules       = setting{"rules", "TRIPLESYNC_RULES", "JSON file of permission rules, reloaded on SIGHUP; none: every user action is denied (unless --dev)"}
	settingJWTKey      = setting{"jwt-public-key", "TRIPLESYNC_JWT_PUBLIC_KEY", "PEM file of the RS256 public key of user tokens (or env TRIPLESYNC_JWT_SECRET for HS256)"}
	settingJWTIssuer   = setting{"jwt-issuer", "TRIPLESYNC_JWT_ISSUER", "required iss claim of user tokens"}
	settingJWTAudience = setting{"jwt-audience", "TRIPLESYNC_JWT_AUDIENCE", "required aud claim of user tokens"}
	settingMaxMessage  = setting{"max-message-bytes", "TRIPLESYNC_MAX_MESSAGE_BYTES", "largest WebSocket frame answered normally; 0: 1 MiB"}
	settingMaxQueries  = setting{"max-queries", "TRIPLESYNC_MAX_QUERIES", "most live queries per session; 0: 1000"}
)

// Secrets come only from the environment.
const (
	envAdminToken = "TRIPLESYNC_ADMIN_TOKEN"
	envJWTSecret  = "TRIPLESYNC_JWT_SECRET"
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
	str(&c.ClientDir, settingClientDir, DefaultClientDir)
	str(&c.InstanceID, settingInstanceID, "")
	str(&c.RulesFile, settingRules, "")
	str(&c.JWTPublicKeyFile, settingJWTKey, "")
	str(&c.JWTIssuer, settingJWTIssuer, "")
	str(&c.JWTAudience, settingJWTAudience, "")
	dev, err := strconv.ParseBool(env(settingDev, "false"))
	if err != nil {
		return fmt.Errorf("%s=%q: want true or false", settingDev.env, m.Getenv(settingDev.env))
	}
	fs.BoolVar(&c.Dev, settingDev.flag, dev, settingDev.usage+" (env "+settingDev.env+")")
	for _, x := range []struct {
		p *int
		s setting
	}{{&c.MaxMessageBytes, settingMaxMessage}, {&c.MaxQueries, settingMaxQueries}} {
		n, err := strconv.Atoi(env(x.s, "0"))
		if err != nil {
			return fmt.Errorf("%s=%q: want a number", x.s.env, m.Getenv(x.s.env))
		}
		fs.IntVar(x.p, x.s.flag, n, x.s.usage+" (env "+x.s.env+")")
	}
	c.AdminToken = m.Getenv(envAdminToken)
	c.JWTSecret = m.Getenv(envJWTSecret)

	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fs.SetOutput(m.Stdout)
			fmt.Fprint(m.Stdout, "Usage: triplesync serve [flags]\n\n"+
				"Each flag may instead be given by the environment variable named after it;\n"+
				"a flag wins over its variable. Secrets come from the environment only:\n"+
				"  "+envAdminToken+"  token of the admin API and of admin sessions\n"+
				"  "+envJWTSecret+"   HS256 secret of user tokens (32 bytes or more)\n\nFlags:\n")
			fs.PrintDefaults()
		}
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", strings.Join(fs.Args(), " "))
	}
	return nil
}
