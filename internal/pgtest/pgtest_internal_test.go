package pgtest

import (
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDBName(t *testing.T) {
	tests := []struct {
		name, test, prefix string
	}{
		{"plain", "TestX", "testx_"},
		{"subtests", "TestWAL/Restart#01", "testwal_restart_01_"},
		{"symbols only", "Test/💥", "test_"},
		{"digit first", "9lives", "t_9lives_"},
		{"empty", "", "t__"},
		{"long", strings.Repeat("Abc", 30), strings.Repeat("abc", 13) + "a_"},
	}
	valid := regexp.MustCompile(`^[a-z_][a-z0-9_]{0,62}$`) // a valid slot name too
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := dbName(tt.test)
			assert.True(t, strings.HasPrefix(got, tt.prefix), "dbName(%q)=%q, want prefix %q", tt.test, got, tt.prefix)
			assert.Regexp(t, valid, got)
			assert.LessOrEqual(t, len(got), 54)
		})
	}
	assert.NotEqual(t, dbName("TestX"), dbName("TestX"), "names must be unique")
}

func TestRequirePostgres(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want bool
	}{
		{"nothing", nil, false},
		{"ci", map[string]string{"CI": "true"}, true},
		{"ci false", map[string]string{"CI": "false"}, false},
		{"require", map[string]string{EnvRequire: "1"}, true},
		{"require garbage", map[string]string{EnvRequire: "yes please"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := requirePostgres(func(k string) string { return tt.env[k] })
			assert.Equal(t, tt.want, got, "requirePostgres(%v)", tt.env)
		})
	}
}

func TestParseVersion(t *testing.T) {
	tests := []struct {
		out     string
		version string
		major   int
	}{
		{"postgres (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)\n", "15.18", 15},
		{"postgres (PostgreSQL) 17beta1\n", "17beta1", 17},
		{"postgres (PostgreSQL) 9.6.24\n", "9.6.24", 9},
	}
	for _, tt := range tests {
		v, major, err := parseVersion(tt.out)
		require.NoError(t, err, "parseVersion(%q)", tt.out)
		assert.Equal(t, tt.version, v)
		assert.Equal(t, tt.major, major)
	}
	_, _, err := parseVersion("something else")
	assert.Error(t, err)
}

func TestSummary(t *testing.T) {
	log := "LOG:  starting\nFATAL:  could not bind IPv4 address\nLOG:  shutting down\n"
	assert.Equal(t, "FATAL:  could not bind IPv4 address", summary(log))
	assert.Equal(t, "b | c | d", summary("a\nb\n\nc\nd\n"))
	assert.Equal(t, "no output", summary(""))
	assert.NotContains(t, summary(log), "\n")
}
