package main

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestPercentiles(t *testing.T) {
	ms := func(xs ...int) []time.Duration {
		out := make([]time.Duration, len(xs))
		for i, x := range xs {
			out[i] = time.Duration(x) * time.Millisecond
		}
		return out
	}
	tests := []struct {
		name string
		in   []time.Duration
		want []time.Duration // p50, p95, p99
	}{
		{"empty", nil, ms(0, 0, 0)},
		{"one", ms(7), ms(7, 7, 7)},
		{"unsorted", ms(5, 1, 4, 2, 3), ms(3, 5, 5)},
		{"hundred", func() []time.Duration {
			var ds []time.Duration
			for i := 100; i >= 1; i-- {
				ds = append(ds, time.Duration(i)*time.Millisecond)
			}
			return ds
		}(), ms(50, 95, 99)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, percentiles(tt.in, 50, 95, 99))
		})
	}
}

func TestParseFlags(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		clients []int
		idle    int
		wantErr bool
	}{
		{"defaults", nil, []int{1, 100, 1000}, 10000, false},
		{"quick", []string{"-quick"}, []int{1, 10, 100}, 500, false},
		{"quick keeps explicit sizes", []string{"-quick", "-idle", "2000", "-clients", "5"}, []int{5}, 2000, false},
		{"unknown scenario", []string{"-scenarios", "nope"}, nil, 0, true},
		{"bad count", []string{"-clients", "1,x"}, nil, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := NewMain()
			err := m.ParseFlags(tt.args)
			if tt.wantErr {
				require.Error(t, err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.clients, m.Clients)
			assert.Equal(t, tt.idle, m.Idle)
		})
	}
}
