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
		{"defaults", nil, nil, Config{Addr: DefaultAddr, DataDir: DefaultDataDir, LogFormat: "text"}},
		{"env", map[string]string{
			"DATABASE_URL": "postgres://x/y", "TRIPLESYNC_ADDR": ":1", "TRIPLESYNC_DATA_DIR": "/d",
			"TRIPLESYNC_PG_BIN_DIR": "/b", "TRIPLESYNC_DEV": "true", "TRIPLESYNC_LOG_FORMAT": "json",
		}, nil, Config{DatabaseURL: "postgres://x/y", Addr: ":1", DataDir: "/d", PGBinDir: "/b", Dev: true, LogFormat: "json"}},
		{"flags win over env", map[string]string{"TRIPLESYNC_ADDR": ":1", "TRIPLESYNC_DEV": "true"},
			[]string{"--addr", ":2", "--dev=false", "--database-url", "postgres://z", "--pg-bin-dir", "/p"},
			Config{DatabaseURL: "postgres://z", Addr: ":2", DataDir: DefaultDataDir, PGBinDir: "/p", LogFormat: "text"}},
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

	var out bytes.Buffer
	m = NewMain()
	m.Getenv, m.Stdout = func(string) string { return "" }, &out
	err := m.ParseFlags([]string{"-h"})
	assert.True(t, errors.Is(err, flag.ErrHelp))
	assert.Contains(t, out.String(), "TRIPLESYNC_DATA_DIR")
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
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := ok
			tt.change(&c)
			assert.Error(t, c.validate())
		})
	}
}
