package wire

import (
	"bytes"
	"encoding/json"
	"errors"
	"strconv"
	"unicode/utf8"

	"github.com/triplesync/triplesync/internal/errs"
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
		return dst, errs.Wrap("encode "+m.Op(), err)
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
		return nil, malformed("not valid UTF-8")
	}
	var head struct {
		Op *string `json:"op"`
	}
	if op, ok := leadingOp(data); ok {
		head.Op = &op // what Encode writes: no need to decode the frame twice
	} else if err := json.Unmarshal(data, &head); err != nil {
		return nil, malformed(jsonReason(err))
	}
	if head.Op == nil {
		return nil, malformed(`missing "op"`)
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
		return nil, errs.With(ErrUnknownOp.Error()+": "+strconv.Quote(*head.Op), ErrUnknownOp)
	}
	if err := json.Unmarshal(data, m); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return nil, malformed(*head.Op + ": " + jsonReason(err))
		}
		return nil, malformedWrap(*head.Op, err)
	}
	if err := validate(m); err != nil {
		return nil, malformed(*head.Op + ": " + err.Error())
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
		return "field " + strconv.Quote(te.Field) + " must be " + te.Type.String() + ", not " + te.Value
	}
	return err.Error()
}

func validate(m Message) error {
	if len(m.EventID()) > MaxIDLength {
		return errors.New("client-event-id longer than " + strconv.Itoa(MaxIDLength) + " bytes")
	}
	switch m := m.(type) {
	case *AddQuery:
		if len(m.QueryID) > MaxIDLength {
			return errors.New("query-id longer than " + strconv.Itoa(MaxIDLength) + " bytes")
		}
		if t := bytes.TrimSpace(m.Q); len(t) == 0 || t[0] != '{' {
			return errors.New("q must be a JSON object")
		}
	case *RemoveQuery:
		if m.QueryID == "" || len(m.QueryID) > MaxIDLength {
			return errors.New("query-id must be 1 to " + strconv.Itoa(MaxIDLength) + " bytes")
		}
	case *Transact:
		if m.MutationID == "" || len(m.MutationID) > MaxIDLength {
			return errors.New("mutation-id must be 1 to " + strconv.Itoa(MaxIDLength) + " bytes")
		}
		if m.Steps == nil {
			return errors.New("missing tx-steps")
		}
	case *RefreshOK:
		for i, c := range m.Computations {
			if c.QueryID == "" {
				return errors.New("computation " + strconv.Itoa(i) + " has no query-id")
			}
		}
	}
	return nil
}
