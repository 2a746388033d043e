package store

import (
	"testing"
	"time"
)

// parseDateOracle is what Check did before parseDate: time.Parse with
// RFC3339Nano, then DateOnly.
func parseDateOracle(s string) (int64, bool) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		if t, err = time.Parse(time.DateOnly, s); err != nil {
			return 0, false
		}
	}
	return t.UnixMilli(), true
}

var parseDateSeeds = []string{
	"", "2024", "2024-03-01", "2024-3-01", "2024-03-1", "+024-03-01", "-024-03-01", "0000-01-01", "0000-02-29", "0001-02-29",
	"9999-12-31", "9999-12-31T23:59:59.999999999Z", "9999-12-31T23:59:59.999999999-24:00", "0000-01-01T00:00:00+24:60",
	"2024-02-29", "2023-02-29", "1900-02-29", "2000-02-29", "2100-02-28", "2024-04-31", "2024-13-01", "2024-00-10", "2024-01-00", "2024-01-32",
	"1969-12-31T23:59:59.999Z", "1969-12-31T23:59:59.0001Z", "1970-01-01T00:00:00Z", "1600-03-01T00:00:00Z", "0400-02-29T12:00:00Z",
	"2024-03-01T12:00:00Z", "2024-03-01t12:00:00Z", "2024-03-01T12:00:00z", "2024-03-01 12:00:00Z", "2024-03-01T12:00:00",
	"2024-03-01T12:00:00.5Z", "2024-03-01T12:00:00,5Z", "2024-03-01T12:00:00.Z", "2024-03-01T12:00:00,Z", "2024-03-01T12:00:00.5",
	"2024-03-01T12:00:00.1234567891234Z", "2024-03-01T12:00:00.000000000000000000000000000001Z",
	"2024-03-01T13:00:00.5+01:00", "2024-03-01T13:00:00-01:30", "2024-03-01T13:00:00+0100", "2024-03-01T13:00:00+01", "2024-03-01T13:00:00+01:00:00",
	"2024-03-01T13:00:00+23:59", "2024-03-01T13:00:00+24:00", "2024-03-01T13:00:00+25:00", "2024-03-01T13:00:00-24:61", "2024-03-01T13:00:00 01:00",
	"2024-03-01T13:00:00+1:000", "2024-03-01T13:00:00+01:0a", "2024-03-01T13:00:00Z ", "2024-03-01T13:00:00ZZ",
	"2024-03-01T24:00:00Z", "2024-03-01T23:60:00Z", "2024-03-01T23:59:60Z", "2024-03-01T5:04:05Z", "2024-03-01T5:4:05Z", "2024-03-01T05:04:5Z",
	"2024-03-01T:04:05Z", "2024-03-01T123:04:05Z", "2024-03-01T", "2024-03-01T1", "2024-03-01T12:", "2024-03-01T12:00", "2024-03-01T12:00:",
	"2024-03-01T12:00:00", "2024-03-01Z", "2024-03-01x", "2024/03/01", "yesterday", "2024-03-01T12:00:00.5+01:00x",
}

func TestParseDate(t *testing.T) {
	for _, s := range parseDateSeeds {
		wantMS, wantOK := parseDateOracle(s)
		ms, ok := parseDate(s)
		if ms != wantMS || ok != wantOK {
			t.Errorf("parseDate(%q) = %d, %v; time.Parse says %d, %v", s, ms, ok, wantMS, wantOK)
		}
	}
}

// FuzzParseDate: parseDate accepts what time.Parse does and gives the same
// instant.
func FuzzParseDate(f *testing.F) {
	for _, s := range parseDateSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		wantMS, wantOK := parseDateOracle(s)
		ms, ok := parseDate(s)
		if ms != wantMS || ok != wantOK {
			t.Fatalf("parseDate(%q) = %d, %v; time.Parse says %d, %v", s, ms, ok, wantMS, wantOK)
		}
	})
}
