package session

import (
	"bytes"
	"encoding/json"
	"slices"
	"strconv"

	"github.com/triplesync/triplesync/internal/wire"
	"github.com/triplesync/triplesync/query"
	"github.com/triplesync/triplesync/store"
)

// diffTriples compares two results' triples, both in EAV order without
// duplicates (query.Result.Triples), in one merge pass: added holds the
// triples of next not in prev, including those whose key is in prev with
// another created-at (a client replaces a triple by key); removed the keys
// of prev not in next.
func diffTriples(prev, next []store.Triple) (added []store.Triple, removed []store.TripleKey) {
	i, j := 0, 0
	for i < len(prev) && j < len(next) {
		switch c := query.CompareIndex(query.EAV, prev[i], next[j]); {
		case c < 0:
			removed = append(removed, prev[i].Key())
			i++
		case c > 0:
			added = append(added, next[j])
			j++
		default:
			if prev[i].CreatedAt != next[j].CreatedAt {
				added = append(added, next[j])
			}
			i++
			j++
		}
	}
	for ; i < len(prev); i++ {
		removed = append(removed, prev[i].Key())
	}
	added = append(added, next[j:]...)
	return added, removed
}

// appendTriples appends ts in the wire's compact form.
func appendTriples(dst []byte, ts []store.Triple) []byte {
	b, _ := wire.Triples(ts).MarshalJSON() // cannot fail
	return append(dst, b...)
}

// appendDeltaBody appends the fields of a delta computation after its
// query-id: `"added":[...]` and, when there are any, `,"removed":[...]`.
func appendDeltaBody(dst []byte, added []store.Triple, removed []store.TripleKey) []byte {
	dst = append(dst, `"added":`...)
	if added == nil {
		added = []store.Triple{}
	}
	dst = appendTriples(dst, added)
	if len(removed) > 0 {
		b, _ := wire.Keys(removed).MarshalJSON() // cannot fail
		dst = append(dst, `,"removed":`...)
		dst = append(dst, b...)
	}
	return dst
}

// computation is one entry of a refresh-ok, pre-encoded: body is a delta
// body (appendDeltaBody) or, when full, the whole result's triples.
type computation struct {
	queryID string
	full    bool
	body    []byte
	// v and from are the versions the delta goes between, when it is one.
	v, from *version
}

// The frames below are spliced from pre-encoded parts instead of going
// through wire.Encode, so a result shared by many sessions is encoded once.
// They decode with wire.Parse exactly as wire.Encode's output does (a test
// keeps it so).

// appendAddQueryOK appends an add-query-ok frame; result is the triples'
// JSON array.
func appendAddQueryOK(dst []byte, eventID, queryID string, q json.RawMessage, result []byte, processed store.TxID) []byte {
	dst = slices.Grow(dst, len(result)+len(q)+len(eventID)+len(queryID)+100)
	dst = append(dst, `{"op":"add-query-ok"`...)
	if eventID != "" {
		dst = append(dst, `,"client-event-id":`...)
		dst = appendString(dst, eventID)
	}
	dst = append(dst, `,"query-id":`...)
	dst = appendString(dst, queryID)
	dst = append(dst, `,"q":`...)
	n := len(dst)
	buf := bytes.NewBuffer(dst)
	if err := json.Compact(buf, q); err != nil {
		dst = append(dst[:n], q...) // q was validated when its message was parsed
	} else {
		dst = buf.Bytes()
	}
	dst = append(dst, `,"result":`...)
	dst = append(dst, result...)
	dst = append(dst, `,"processed-tx-id":`...)
	dst = strconv.AppendInt(dst, int64(processed), 10)
	return append(dst, '}')
}

// appendRefreshOK appends a refresh-ok frame. attrs is nil unless the
// registry changed since the session last saw it.
func appendRefreshOK(dst []byte, processed store.TxID, comps []computation, attrs []store.Attr) []byte {
	n := 80
	for _, c := range comps {
		n += len(c.body) + len(c.queryID) + 40
	}
	dst = slices.Grow(dst, n)
	dst = append(dst, `{"op":"refresh-ok","processed-tx-id":`...)
	dst = strconv.AppendInt(dst, int64(processed), 10)
	dst = append(dst, `,"computations":[`...)
	for i, c := range comps {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, `{"query-id":`...)
		dst = appendString(dst, c.queryID)
		if c.full {
			dst = append(dst, `,"full":true,"added":`...)
		} else {
			dst = append(dst, ',')
		}
		dst = append(dst, c.body...)
		dst = append(dst, '}')
	}
	dst = append(dst, ']')
	if len(attrs) > 0 {
		b, _ := json.Marshal(attrs) // attributes always encode
		dst = append(dst, `,"attrs":`...)
		dst = append(dst, b...)
	}
	return append(dst, '}')
}

// appendString appends s as a JSON string.
func appendString(dst []byte, s string) []byte {
	b, _ := json.Marshal(s) // a string always encodes
	return append(dst, b...)
}
