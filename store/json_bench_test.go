package store

import (
	"strconv"
	"testing"
)

var benchValueJSON = []byte(`{"title":"Buy milk & eggs","done":false,"tags":["a","b"],"n":12.5,"meta":{"by":"ann","at":1700000000000}}`)

func benchStepsJSON() []byte {
	b := []byte{'['}
	for i := range 100 {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `["add-triple","e0000000-0000-4000-8000-`...)
		b = append(b, []byte(strconv.Itoa(100000000000+i))...)
		b = append(b, `","a0000000-0000-4000-8000-000000000002",{"x":`...)
		b = strconv.AppendInt(b, int64(i), 10)
		b = append(b, `,"s":"text"},{"mode":"create"}]`...)
	}
	return append(b, ']')
}

// BenchmarkParseValueObject parses an object value (the canonical path),
// with jsonlite and with the encoding/json code it replaced.
func BenchmarkParseValueObject(b *testing.B) {
	for _, c := range []struct {
		name  string
		parse func([]byte) (Value, error)
	}{{"jsonlite", ParseValue}, {"encoding-json", oracleParseValue}} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(benchValueJSON)))
			for b.Loop() {
				if _, err := c.parse(benchValueJSON); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkDecodeSteps decodes 100 add-triple steps with object values.
func BenchmarkDecodeSteps(b *testing.B) {
	data := benchStepsJSON()
	for _, c := range []struct {
		name   string
		decode func([]byte) ([]Step, error)
	}{{"jsonlite", DecodeSteps}, {"encoding-json", oracleDecodeSteps}} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				if _, err := c.decode(data); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
