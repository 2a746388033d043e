package reactor

import (
	"github.com/triplesync/triplesync/internal/sha2"

	"github.com/triplesync/triplesync/internal/errs"
	"github.com/triplesync/triplesync/store"
)

var errNotObject = errs.With("reactor: query: "+store.ErrInvalidValue.Error()+": not a JSON object", store.ErrInvalidValue)

// QueryID returns the query-id the client sends with add-query for q and
// stores its cached result under: "q" and 32 hex digits of the SHA-256 of
// q's canonical JSON text (keys sorted, no insignificant space, numbers
// normalised: the text query.Query.Text gives). Queries written
// differently but equal as JSON share one id, and the id survives
// restarts, so a cached result is found again. It needs no attribute
// registry, so a query subscribed before the client knows the schema
// already has its id. It also returns the canonical text.
func QueryID(q []byte) (id string, text []byte, err error) {
	v, err := store.ParseValue(q)
	if err != nil {
		return "", nil, errs.Wrap("reactor: query", err)
	}
	if v.Kind() != store.KindJSON || len(q) == 0 {
		return "", nil, errNotObject
	}
	text = v.AppendJSON(nil)
	if text[0] != '{' {
		return "", nil, errNotObject
	}
	sum := sha2.Sum256(text)
	// Hex by hand: encoding/hex imports fmt, which links fmt's and os's
	// initialisation into the wasm client (~80 KB gzip).
	const digits = "0123456789abcdef"
	id = "q"
	var b [32]byte
	for i, c := range sum[:16] {
		b[2*i], b[2*i+1] = digits[c>>4], digits[c&0xf]
	}
	return id + string(b[:]), text, nil
}
