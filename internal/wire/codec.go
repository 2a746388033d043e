package wire

import (
	"bytes"
	"errors"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/triplesync/triplesync/internal/errs"
	"github.com/triplesync/triplesync/internal/jsonlite"
)

// DefaultMaxMessageBytes is the frame size limit both sides use unless
// configured otherwise.
const DefaultMaxMessageBytes = 1 << 20

// MaxIDLength bounds client-chosen ids (client-event-id, query-id,
// mutation-id).
const MaxIDLength = 128

// Encode appends m as one JSON object with its "op" first. The bytes are
// those encoding/json wrote for the tagged structs these types were (see
// encode.go), after the op.
func Encode(dst []byte, m Message) ([]byte, error) {
	out := appendOp(dst, m)
	var err error
	switch m := m.(type) {
	case *InitOK:
		out, err = m.append(out)
	case *AddQueryOK:
		out, err = m.append(out)
	case *RemoveQueryOK:
		out, err = m.append(out)
	case *TransactOK:
		out, err = m.append(out)
	case *RefreshOK:
		out, err = m.append(out)
	case *Error:
		out, err = m.append(out)
	default:
		return EncodeRequest(dst, m) // a client's message: writes the op again
	}
	return endFrame(dst, out, m, err)
}

// EncodeRequest is Encode for the messages a client sends: init,
// add-query, remove-query and transact. Any other it refuses, as Encode
// refuses a type it does not know. The client calls it, not Encode, so
// that the encoders of the server's messages stay out of the wasm (they
// are reached through a type switch, never an interface, for that).
func EncodeRequest(dst []byte, m Message) ([]byte, error) {
	out := appendOp(dst, m)
	var err error
	switch m := m.(type) {
	case *Init:
		out, err = m.append(out)
	case *AddQuery:
		out, err = m.append(out)
	case *RemoveQuery:
		out, err = m.append(out)
	case *Transact:
		out, err = m.append(out)
	default:
		return dst, errors.New("encode " + m.Op() + ": json: unsupported message type")
	}
	return endFrame(dst, out, m, err)
}

// appendOp begins m's frame: {"op":"<op>".
func appendOp(dst []byte, m Message) []byte {
	out := append(dst, `{"op":"`...)
	out = append(out, m.Op()...)
	return append(out, '"')
}

// endFrame closes the frame out that m's encoder made, or returns dst
// and the encoder's error.
func endFrame(dst, out []byte, m Message, err error) ([]byte, error) {
	if err != nil {
		return dst, errs.Wrap("encode "+m.Op(), err)
	}
	return append(out, '}'), nil
}

// Parse decodes one message of either direction. The error wraps
// ErrMalformed or ErrUnknownOp and names what was wrong. Parse keeps nothing
// of data.
func Parse(data []byte) (Message, error) {
	if !utf8.Valid(data) {
		return nil, malformed("not valid UTF-8")
	}
	op, ok := leadingOp(data) // what Encode writes: no need to decode the frame twice
	if !ok {
		var err error
		if op, ok, err = headOp(data); err != nil {
			return nil, err
		}
		if !ok {
			return nil, malformed(`missing "op"`)
		}
	}
	p := parser{data: data}
	p.d.Reset(data)
	var m Message
	switch op {
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
		return nil, errs.With(ErrUnknownOp.Error()+": "+strconv.Quote(op), ErrUnknownOp)
	}
	err := p.message(m)
	if err == nil {
		err = p.d.End()
	}
	if err == nil && p.typeErr != nil {
		err = p.typeErr
	}
	if err != nil {
		if serr := jsonlite.Check(data); serr != nil {
			return nil, malformedWrap(op, serr) // encoding/json checked the syntax first
		}
		if te, ok := errors.AsType[*typeError](err); ok {
			return nil, malformed(op + ": " + te.reason())
		}
		return nil, malformedWrap(op, err)
	}
	if err := validate(m); err != nil {
		return nil, malformed(op + ": " + err.Error())
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

// headOp finds the op of a frame that does not start with it, as
// encoding/json into struct{ Op *string `json:"op"` } did: the last "op"
// key (in any case) wins, null unsets it; ok is false when there is none.
func headOp(data []byte) (op string, ok bool, err error) {
	if err := jsonlite.Check(data); err != nil {
		return "", false, malformed(err.Error())
	}
	d := jsonlite.NewDecoder(data)
	switch k := d.Peek(); k {
	case jsonlite.Object:
	case jsonlite.Null:
		return "", false, nil
	default:
		return "", false, malformed("json: cannot unmarshal " + k.ValueName() + ` into Go value of type struct { Op *string "json:\"op\"" }`)
	}
	var typeErr string
	err = d.Object(func(k string) error {
		if k != "op" && !strings.EqualFold(k, "op") {
			return d.Skip()
		}
		switch d.Peek() {
		case jsonlite.String:
			s, err := d.String()
			op, ok = s, true
			return err
		case jsonlite.Null:
			op, ok = "", false
			return d.Skip()
		}
		if typeErr == "" {
			typeErr = `field "op" must be string, not ` + d.Peek().ValueName()
		}
		return d.Skip()
	})
	if err != nil {
		return "", false, malformed(err.Error())
	}
	if typeErr != "" {
		return "", false, malformed(typeErr)
	}
	return op, ok, nil
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
