package reactor

import (
	"crypto/sha256"
	"encoding/hex"

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
	sum := sha256.Sum256(text)
	return "q" + hex.EncodeToString(sum[:16]), text, nil
}
