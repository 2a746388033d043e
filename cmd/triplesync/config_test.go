package main

import (
	"bytes"
	"errors"
	"flag"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseFlags(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		args []string
		want Config
	}{
		{"defaults", nil, nil, Config{Addr: DefaultAddr, DataDir: DefaultDataDir, LogFormat: "text", ClientDir: DefaultClientDir}},
		{"env", map[string]string{
			"DATABASE_URL": "postgres://x/y", "TRIPLESYNC_ADDR": ":1", "TRIPLESYNC_DATA_DIR": "/d",
			"TRIPLESYNC_PG_BIN_DIR": "/b", "TRIPLESYNC_DEV": "true", "TRIPLESYNC_LOG_FORMAT": "json",
			"TRIPLESYNC_INSTANCE_ID": "i1", "TRIPLESYNC_RULES": "/r.json", "TRIPLESYNC_ADMIN_TOKEN": "adm",
			"TRIPLESYNC_JWT_SECRET": "sec", "TRIPLESYNC_JWT_PUBLIC_KEY": "/k.pem", "TRIPLESYNC_JWT_ISSUER": "iss",
			"TRIPLESYNC_JWT_AUDIENCE": "aud", "TRIPLESYNC_MAX_MESSAGE_BYTES": "2048", "TRIPLESYNC_MAX_QUERIES": "5",
			"TRIPLESYNC_CLIENT_DIR": "/c",
		}, nil, Config{DatabaseURL: "postgres://x/y", Addr: ":1", DataDir: "/d", PGBinDir: "/b", Dev: true, LogFormat: "json", ClientDir: "/c",
			InstanceID: "i1", RulesFile: "/r.json", AdminToken: "adm", JWTSecret: "sec", JWTPublicKeyFile: "/k.pem",
			JWTIssuer: "iss", JWTAudience: "aud", MaxMessageBytes: 2048, MaxQueries: 5}},
		{"flags", nil, []string{"--instance-id", "i2", "--rules", "r", "--max-queries", "7", "--max-message-bytes", "4096", "--client-dir", ""},
			Config{Addr: DefaultAddr, DataDir: DefaultDataDir, LogFormat: "text", InstanceID: "i2", RulesFile: "r", MaxQueries: 7, MaxMessageBytes: 4096}},
		{"flags win over env", map[string]string{"TRIPLESYNC_ADDR": ":1", "TRIPLESYNC_DEV": "true"},
			[]string{"--addr", ":2", "--dev=false", "--database-url", "postgres://z", "--pg-bin-dir", "/p"},
			Config{DatabaseURL: "postgres://z", Addr: ":2", DataDir: DefaultDataDir, PGBinDir: "/p", LogFormat: "text", ClientDir: DefaultClientDir}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := NewMain()
			m.Getenv = func(k string) string { return tt.env[k] }
			require.NoError(t, m.ParseFlags(tt.args))
			assert.Equal(t, tt.want, m.Config, "ParseFlags(%q) with env %v", tt.args, tt.env)
		})
	}
}

func TestParseFlags_Errors(t *testing.T) {
	m := NewMain()
	m.Getenv = func(k string) string { return map[string]string{"TRIPLESYNC_DEV": "maybe"}[k] }
	assert.ErrorContains(t, m.ParseFlags(nil), "TRIPLESYNC_DEV")

	m = NewMain()
	m.Getenv = func(string) string { return "" }
	assert.ErrorContains(t, m.ParseFlags([]string{"extra"}), `unexpected argument "extra"`)

	m = NewMain()
	m.Getenv = func(k string) string { return map[string]string{"TRIPLESYNC_MAX_QUERIES": "many"}[k] }
	assert.ErrorContains(t, m.ParseFlags(nil), "TRIPLESYNC_MAX_QUERIES")

	var out bytes.Buffer
	m = NewMain()
	m.Getenv, m.Stdout = func(string) string { return "" }, &out
	err := m.ParseFlags([]string{"-h"})
	assert.True(t, errors.Is(err, flag.ErrHelp))
	assert.Contains(t, out.String(), "TRIPLESYNC_DATA_DIR")
	assert.Contains(t, out.String(), "TRIPLESYNC_ADMIN_TOKEN")
}

func TestConfigValidate(t *testing.T) {
	ok := Config{Addr: DefaultAddr, DataDir: DefaultDataDir, LogFormat: "text"}
	require.NoError(t, ok.validate())
	tests := []struct {
		name   string
		change func(*Config)
	}{
		{"no addr", func(c *Config) { c.Addr = "" }},
		{"no data dir", func(c *Config) { c.DataDir = "" }},
		{"log format", func(c *Config) { c.LogFormat = "xml" }},
		{"two jwt keys", func(c *Config) { c.JWTSecret, c.JWTPublicKeyFile = "0123456789abcdef0123456789abcdef", "k.pem" }},
		{"short jwt secret", func(c *Config) { c.JWTSecret = "short" }},
		{"negative limit", func(c *Config) { c.MaxQueries = -1 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := ok
			tt.change(&c)
			assert.Error(t, c.validate())
		})
	}
}
