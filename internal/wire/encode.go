package wire

import (
	"strconv"

	"github.com/triplesync/triplesync/internal/errs"
	"github.com/triplesync/triplesync/internal/jsonlite"
	"github.com/triplesync/triplesync/store"
)

// Each message's append writes its fields after the op, as encoding/json
// wrote the tagged structs these types were: fields in declaration order,
// each as ,"name":value; omitempty fields (below: only when non-empty) left
// out when empty; nil slices as null, except Triples and Keys, whose
// MarshalJSON writes []; and the text of a json.Marshaler (Triples, Keys,
// store.Step, the raw q and original-event) compacted with <, >, &, U+2028
// and U+2029 escaped, as encoding/json does with it.

//go:noinline
func appendField(dst []byte, name string) []byte {
	dst = append(dst, ',', '"')
	dst = append(dst, name...)
	return append(dst, '"', ':')
}

func appendStringField(dst []byte, name, v string) []byte {
	return jsonlite.AppendString(appendField(dst, name), v)
}

func appendIntField(dst []byte, name string, v int64) []byte {
	return strconv.AppendInt(appendField(dst, name), v, 10)
}

func (m *Init) append(dst []byte) ([]byte, error) {
	if m.ClientEventID != "" {
		dst = appendStringField(dst, "client-event-id", m.ClientEventID)
	}
	if m.Token != "" {
		dst = appendStringField(dst, "token", m.Token)
	}
	return dst, nil
}

func (m *AddQuery) append(dst []byte) ([]byte, error) {
	if m.ClientEventID != "" {
		dst = appendStringField(dst, "client-event-id", m.ClientEventID)
	}
	if m.QueryID != "" {
		dst = appendStringField(dst, "query-id", m.QueryID)
	}
	return appendRaw(appendField(dst, "q"), m.Q)
}

func (m *RemoveQuery) append(dst []byte) ([]byte, error) {
	if m.ClientEventID != "" {
		dst = appendStringField(dst, "client-event-id", m.ClientEventID)
	}
	return appendStringField(dst, "query-id", m.QueryID), nil
}

func (m *Transact) append(dst []byte) ([]byte, error) {
	if m.ClientEventID != "" {
		dst = appendStringField(dst, "client-event-id", m.ClientEventID)
	}
	dst = appendStringField(dst, "mutation-id", m.MutationID)
	dst = appendField(dst, "tx-steps")
	if m.Steps == nil {
		return append(dst, "null"...), nil
	}
	dst = append(dst, '[')
	for i, s := range m.Steps {
		if i > 0 {
			dst = append(dst, ',')
		}
		n := len(dst)
		out, err := s.Encode(dst)
		if err != nil {
			return dst, errs.With("json: error calling MarshalJSON for type store.Step: "+err.Error(), err)
		}
		dst = jsonlite.CompactTail(out, n)
	}
	return append(dst, ']'), nil
}

func (m *InitOK) append(dst []byte) ([]byte, error) {
	if m.ClientEventID != "" {
		dst = appendStringField(dst, "client-event-id", m.ClientEventID)
	}
	dst = appendStringField(dst, "session-id", m.SessionID)
	dst = store.AppendAttrsJSON(appendField(dst, "attrs"), m.Attrs)
	if m.AuthID != "" {
		dst = appendStringField(dst, "auth-id", m.AuthID)
	}
	return dst, nil
}

func (m *AddQueryOK) append(dst []byte) ([]byte, error) {
	if m.ClientEventID != "" {
		dst = appendStringField(dst, "client-event-id", m.ClientEventID)
	}
	dst = appendStringField(dst, "query-id", m.QueryID)
	dst, err := appendRaw(appendField(dst, "q"), m.Q)
	if err != nil {
		return dst, err
	}
	dst = appendTriples(appendField(dst, "result"), m.Result, true)
	return appendIntField(dst, "processed-tx-id", int64(m.ProcessedTxID)), nil
}

func (m *RemoveQueryOK) append(dst []byte) ([]byte, error) {
	if m.ClientEventID != "" {
		dst = appendStringField(dst, "client-event-id", m.ClientEventID)
	}
	return appendStringField(dst, "query-id", m.QueryID), nil
}

func (m *TransactOK) append(dst []byte) ([]byte, error) {
	if m.ClientEventID != "" {
		dst = appendStringField(dst, "client-event-id", m.ClientEventID)
	}
	dst = appendStringField(dst, "mutation-id", m.MutationID)
	return appendIntField(dst, "tx-id", int64(m.TxID)), nil
}

func (m *RefreshOK) append(dst []byte) ([]byte, error) {
	dst = appendIntField(dst, "processed-tx-id", int64(m.ProcessedTxID))
	dst = appendField(dst, "computations")
	if m.Computations == nil {
		dst = append(dst, "null"...)
	} else {
		dst = append(dst, '[')
		for i := range m.Computations {
			c := &m.Computations[i]
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = append(dst, `{"query-id":`...)
			dst = jsonlite.AppendString(dst, c.QueryID)
			if c.Full {
				dst = append(dst, `,"full":true`...)
			}
			dst = appendTriples(appendField(dst, "added"), c.Added, true)
			if len(c.Removed) > 0 {
				dst = appendKeys(appendField(dst, "removed"), c.Removed, true)
			}
			dst = append(dst, '}')
		}
		dst = append(dst, ']')
	}
	if len(m.Attrs) > 0 {
		dst = store.AppendAttrsJSON(appendField(dst, "attrs"), m.Attrs)
	}
	return dst, nil
}

func (m *Error) append(dst []byte) ([]byte, error) {
	if m.ClientEventID != "" {
		dst = appendStringField(dst, "client-event-id", m.ClientEventID)
	}
	dst = appendIntField(dst, "status", int64(m.Status))
	dst = appendStringField(dst, "type", m.Type)
	dst = appendStringField(dst, "message", m.Message)
	if m.QueryID != "" {
		dst = appendStringField(dst, "query-id", m.QueryID)
	}
	if m.MutationID != "" {
		dst = appendStringField(dst, "mutation-id", m.MutationID)
	}
	if len(m.OriginalEvent) > 0 {
		return appendRaw(appendField(dst, "original-event"), m.OriginalEvent)
	}
	return dst, nil
}

// appendRaw writes a json.RawMessage as encoding/json did: nil as null,
// anything else checked and compacted.
func appendRaw(dst, raw []byte) ([]byte, error) {
	if raw == nil {
		return append(dst, "null"...), nil
	}
	if err := jsonlite.Check(raw); err != nil {
		return dst, errs.With("json: error calling MarshalJSON for type json.RawMessage: "+err.Error(), err)
	}
	return jsonlite.AppendCompact(dst, raw), nil
}
