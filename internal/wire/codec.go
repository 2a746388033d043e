package wire

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"unicode/utf8"
)

// DefaultMaxMessageBytes is the frame size limit both sides use unless
// configured otherwise.
const DefaultMaxMessageBytes = 1 << 20

// MaxIDLength bounds client-chosen ids (client-event-id, query-id,
// mutation-id).
const MaxIDLength = 128

// Encode appends m as one JSON object with its "op" first.
func Encode(dst []byte, m Message) ([]byte, error) {
	body, err := json.Marshal(m)
	if err != nil {
		return dst, fmt.Errorf("encode %s: %w", m.Op(), err)
	}
	dst = append(dst, `{"op":"`...)
	dst = append(dst, m.Op()...)
	dst = append(dst, '"')
	if len(body) > 2 {
		dst = append(dst, ',')
	}
	return append(dst, body[1:]...), nil
}

// Parse decodes one message of either direction. The error wraps
// ErrMalformed or ErrUnknownOp and names what was wrong. Parse keeps nothing
// of data.
func Parse(data []byte) (Message, error) {
	if !utf8.Valid(data) {
		return nil, fmt.Errorf("%w: not valid UTF-8", ErrMalformed)
	}
	var head struct {
		Op *string `json:"op"`
	}
	if op, ok := leadingOp(data); ok {
		head.Op = &op // what Encode writes: no need to decode the frame twice
	} else if err := json.Unmarshal(data, &head); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, jsonReason(err))
	}
	if head.Op == nil {
		return nil, fmt.Errorf("%w: missing \"op\"", ErrMalformed)
	}
	var m Message
	switch *head.Op {
	case OpInit:
		m = new(Init)
	case OpAddQuery:
		m = new(AddQuery)
	case OpRemoveQuery:
		m = new(RemoveQuery)
	case OpTransact:
		m = new(Transact)
	case OpInitOK:
		m = new(InitOK)
	case OpAddQueryOK:
		m = new(AddQueryOK)
	case OpRemoveQueryOK:
		m = new(RemoveQueryOK)
	case OpTransactOK:
		m = new(TransactOK)
	case OpRefreshOK:
		m = new(RefreshOK)
	case OpError:
		m = new(Error)
	default:
		return nil, fmt.Errorf("%w: %q", ErrUnknownOp, *head.Op)
	}
	if err := json.Unmarshal(data, m); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return nil, fmt.Errorf("%w: %s: %v", ErrMalformed, *head.Op, jsonReason(err))
		}
		return nil, fmt.Errorf("%w: %s: %w", ErrMalformed, *head.Op, err)
	}
	if err := validate(m); err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrMalformed, *head.Op, err)
	}
	return m, nil
}

// leadingOp reads the op of a frame that starts {"op":"<op>", as every
// frame Encode writes does. The full decode that follows checks the rest.
func leadingOp(data []byte) (string, bool) {
	const prefix = `{"op":"`
	if len(data) < len(prefix) || string(data[:len(prefix)]) != prefix {
		return "", false
	}
	for i := len(prefix); i < len(data); i++ {
		switch c := data[i]; {
		case c == '"':
			if i+1 < len(data) && (data[i+1] == ',' || data[i+1] == '}') {
				return string(data[len(prefix):i]), true
			}
			return "", false
		case c == '\\' || c < 0x20:
			return "", false
		}
	}
	return "", false
}

// jsonReason turns encoding/json's errors into text that names the field.
func jsonReason(err error) string {
	if te, ok := err.(*json.UnmarshalTypeError); ok && te.Field != "" {
		return fmt.Sprintf("field %q must be %s, not %s", te.Field, te.Type, te.Value)
	}
	return err.Error()
}

func validate(m Message) error {
	if len(m.EventID()) > MaxIDLength {
		return fmt.Errorf("client-event-id longer than %d bytes", MaxIDLength)
	}
	switch m := m.(type) {
	case *AddQuery:
		if len(m.QueryID) > MaxIDLength {
			return fmt.Errorf("query-id longer than %d bytes", MaxIDLength)
		}
		if t := bytes.TrimSpace(m.Q); len(t) == 0 || t[0] != '{' {
			return fmt.Errorf("q must be a JSON object")
		}
	case *RemoveQuery:
		if m.QueryID == "" || len(m.QueryID) > MaxIDLength {
			return fmt.Errorf("query-id must be 1 to %d bytes", MaxIDLength)
		}
	case *Transact:
		if m.MutationID == "" || len(m.MutationID) > MaxIDLength {
			return fmt.Errorf("mutation-id must be 1 to %d bytes", MaxIDLength)
		}
		if m.Steps == nil {
			return fmt.Errorf("missing tx-steps")
		}
	case *RefreshOK:
		for i, c := range m.Computations {
			if c.QueryID == "" {
				return fmt.Errorf("computation %d has no query-id", i)
			}
		}
	}
	return nil
}
