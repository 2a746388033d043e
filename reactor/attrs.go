package reactor

import (
	"github.com/triplesync/triplesync/internal/wire"
	"github.com/triplesync/triplesync/store"
)

// The attribute registry is stored (the SettingAttrs setting) as the JSON
// array init-ok carries, which encoding/json wrote from []store.Attr. It
// is written by store.AppendAttrsJSON and read by wire's decoder for
// init-ok's attrs, to the same bytes and accepting the same texts; the
// tests hold both to encoding/json.

// decodeAttrs reads what json.Unmarshal into []store.Attr accepted, to
// the same list; it fails where that failed (the error says less).
func decodeAttrs(data []byte) ([]store.Attr, error) { return wire.DecodeAttrs(data) }
