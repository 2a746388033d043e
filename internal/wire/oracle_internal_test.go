package wire

// The codec as it was with encoding/json (struct tags on mirror types,
// json.RawMessage, the old Transact.UnmarshalJSON and the old id fallback
// of the triples decoder), kept as the oracle for the hand-written one.

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"unicode/utf8"

	"github.com/triplesync/triplesync/store"
)

type oInit struct {
	ClientEventID string `json:"client-event-id,omitempty"`
	Token         string `json:"token,omitempty"`
}

type oAddQuery struct {
	ClientEventID string          `json:"client-event-id,omitempty"`
	QueryID       string          `json:"query-id,omitempty"`
	Q             json.RawMessage `json:"q"`
}

type oRemoveQuery struct {
	ClientEventID string `json:"client-event-id,omitempty"`
	QueryID       string `json:"query-id"`
}

type oTransact struct {
	ClientEventID string       `json:"client-event-id,omitempty"`
	MutationID    string       `json:"mutation-id"`
	Steps         []store.Step `json:"tx-steps"`
}

type oInitOK struct {
	ClientEventID string       `json:"client-event-id,omitempty"`
	SessionID     string       `json:"session-id"`
	Attrs         []store.Attr `json:"attrs"`
	AuthID        string       `json:"auth-id,omitempty"`
}

type oAddQueryOK struct {
	ClientEventID string          `json:"client-event-id,omitempty"`
	QueryID       string          `json:"query-id"`
	Q             json.RawMessage `json:"q"`
	Result        oTriples        `json:"result"`
	ProcessedTxID store.TxID      `json:"processed-tx-id"`
}

type oRemoveQueryOK struct {
	ClientEventID string `json:"client-event-id,omitempty"`
	QueryID       string `json:"query-id"`
}

type oTransactOK struct {
	ClientEventID string     `json:"client-event-id,omitempty"`
	MutationID    string     `json:"mutation-id"`
	TxID          store.TxID `json:"tx-id"`
}

type oRefreshOK struct {
	ProcessedTxID store.TxID     `json:"processed-tx-id"`
	Computations  []oComputation `json:"computations"`
	Attrs         []store.Attr   `json:"attrs,omitempty"`
}

type oComputation struct {
	QueryID string   `json:"query-id"`
	Full    bool     `json:"full,omitempty"`
	Added   oTriples `json:"added"`
	Removed oKeys    `json:"removed,omitempty"`
}

type oError struct {
	ClientEventID string          `json:"client-event-id,omitempty"`
	Status        int             `json:"status"`
	Type          string          `json:"type"`
	Message       string          `json:"message"`
	QueryID       string          `json:"query-id,omitempty"`
	MutationID    string          `json:"mutation-id,omitempty"`
	OriginalEvent json.RawMessage `json:"original-event,omitempty"`
}

// UnmarshalJSON is the old Transact.UnmarshalJSON.
func (m *oTransact) UnmarshalJSON(b []byte) error {
	var raw struct {
		ClientEventID string          `json:"client-event-id"`
		MutationID    string          `json:"mutation-id"`
		Steps         json.RawMessage `json:"tx-steps"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	*m = oTransact{ClientEventID: raw.ClientEventID, MutationID: raw.MutationID}
	if raw.Steps == nil || string(raw.Steps) == "null" {
		return nil
	}
	steps, err := store.DecodeSteps(raw.Steps)
	if err != nil {
		return err
	}
	m.Steps = steps
	return nil
}

// oTriples encodes each triple through encoding/json and decodes with the
// old scanner, whose ids with escapes went through encoding/json.
type oTriples []store.Triple

func (ts oTriples) MarshalJSON() ([]byte, error) {
	out := []any{}
	for _, t := range ts {
		out = append(out, []any{t.E.String(), t.A.String(), json.RawMessage(t.V.AppendJSON(nil)), t.CreatedAt})
	}
	return json.Marshal(out)
}

func (ts *oTriples) UnmarshalJSON(b []byte) error {
	out := make([]store.Triple, 0, 8)
	err := decodeTuples(b, 4, func(i int, r [][]byte) error {
		e, a, v, err := oDecodeKey(r[:3])
		if err != nil {
			return fmt.Errorf("triple %d: %v", i, err)
		}
		t, err := parseInt(r[3])
		if err != nil {
			return fmt.Errorf("triple %d created-at: %v", i, err)
		}
		out = append(out, store.Triple{E: e, A: a, V: v, CreatedAt: t})
		return nil
	})
	if err != nil {
		return fmt.Errorf("%w: triples: %v", ErrMalformed, err)
	}
	*ts = out
	return nil
}

type oKeys []store.TripleKey

func (ks oKeys) MarshalJSON() ([]byte, error) {
	out := []any{}
	for _, k := range ks {
		out = append(out, []any{k.E.String(), k.A.String(), json.RawMessage(k.V.AppendJSON(nil))})
	}
	return json.Marshal(out)
}

func (ks *oKeys) UnmarshalJSON(b []byte) error {
	out := make([]store.TripleKey, 0, 8)
	err := decodeTuples(b, 3, func(i int, r [][]byte) error {
		e, a, v, err := oDecodeKey(r)
		if err != nil {
			return fmt.Errorf("key %d: %v", i, err)
		}
		out = append(out, store.TripleKey{E: e, A: a, V: v})
		return nil
	})
	if err != nil {
		return fmt.Errorf("%w: keys: %v", ErrMalformed, err)
	}
	*ks = out
	return nil
}

func oParseID(raw []byte) (store.EntityID, error) {
	if in, ok := plainString(raw); ok {
		return store.ParseEntityID(string(in))
	}
	var id store.EntityID
	err := json.Unmarshal(raw, &id)
	return id, err
}

func oDecodeKey(r [][]byte) (e, a store.EntityID, v store.Value, err error) {
	if e, err = oParseID(r[0]); err != nil {
		return e, a, v, fmt.Errorf("entity: %v", err)
	}
	if a, err = oParseID(r[1]); err != nil {
		return e, a, v, fmt.Errorf("attribute: %v", err)
	}
	if v, err = store.ParseValue(r[2]); err != nil {
		return e, a, v, fmt.Errorf("value: %v", err)
	}
	return e, a, v, nil
}

// toMirror and fromMirror convert between the message types and their
// tagged mirrors.
func toMirror(m Message) any {
	switch m := m.(type) {
	case *Init:
		return &oInit{m.ClientEventID, m.Token}
	case *AddQuery:
		return &oAddQuery{m.ClientEventID, m.QueryID, m.Q}
	case *RemoveQuery:
		return &oRemoveQuery{m.ClientEventID, m.QueryID}
	case *Transact:
		return &oTransact{m.ClientEventID, m.MutationID, m.Steps}
	case *InitOK:
		return &oInitOK{m.ClientEventID, m.SessionID, m.Attrs, m.AuthID}
	case *AddQueryOK:
		return &oAddQueryOK{m.ClientEventID, m.QueryID, m.Q, oTriples(m.Result), m.ProcessedTxID}
	case *RemoveQueryOK:
		return &oRemoveQueryOK{m.ClientEventID, m.QueryID}
	case *TransactOK:
		return &oTransactOK{m.ClientEventID, m.MutationID, m.TxID}
	case *RefreshOK:
		var cs []oComputation
		if m.Computations != nil {
			cs = make([]oComputation, len(m.Computations))
		}
		for i, c := range m.Computations {
			cs[i] = oComputation{c.QueryID, c.Full, oTriples(c.Added), oKeys(c.Removed)}
		}
		return &oRefreshOK{m.ProcessedTxID, cs, m.Attrs}
	case *Error:
		return &oError{m.ClientEventID, m.Status, m.Type, m.Message, m.QueryID, m.MutationID, m.OriginalEvent}
	}
	panic(fmt.Sprintf("toMirror %T", m))
}

func fromMirror(o any) Message {
	switch m := o.(type) {
	case *oInit:
		return &Init{m.ClientEventID, m.Token}
	case *oAddQuery:
		return &AddQuery{m.ClientEventID, m.QueryID, m.Q}
	case *oRemoveQuery:
		return &RemoveQuery{m.ClientEventID, m.QueryID}
	case *oTransact:
		return &Transact{m.ClientEventID, m.MutationID, m.Steps}
	case *oInitOK:
		return &InitOK{m.ClientEventID, m.SessionID, m.Attrs, m.AuthID}
	case *oAddQueryOK:
		return &AddQueryOK{m.ClientEventID, m.QueryID, m.Q, Triples(m.Result), m.ProcessedTxID}
	case *oRemoveQueryOK:
		return &RemoveQueryOK{m.ClientEventID, m.QueryID}
	case *oTransactOK:
		return &TransactOK{m.ClientEventID, m.MutationID, m.TxID}
	case *oRefreshOK:
		var cs []Computation
		if m.Computations != nil {
			cs = make([]Computation, len(m.Computations))
		}
		for i, c := range m.Computations {
			cs[i] = Computation{c.QueryID, c.Full, Triples(c.Added), Keys(c.Removed)}
		}
		return &RefreshOK{m.ProcessedTxID, cs, m.Attrs}
	case *oError:
		return &Error{m.ClientEventID, m.Status, m.Type, m.Message, m.QueryID, m.MutationID, m.OriginalEvent}
	}
	panic(fmt.Sprintf("fromMirror %T", o))
}

// oldEncode is Encode as it was.
func oldEncode(dst []byte, m Message) ([]byte, error) {
	body, err := json.Marshal(toMirror(m))
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

// oldParse is Parse as it was.
func oldParse(data []byte) (Message, error) {
	m, err := oldParse1(data)
	if err != nil {
		// The mirror's name where encoding/json named the real type.
		return nil, renamed{err, strings.ReplaceAll(err.Error(), "wire.oComputation", "wire.Computation")}
	}
	return m, nil
}

type renamed struct {
	err error
	msg string
}

func (r renamed) Error() string { return r.msg }
func (r renamed) Unwrap() error { return r.err }

func oldParse1(data []byte) (Message, error) {
	if !utf8.Valid(data) {
		return nil, fmt.Errorf("%w: not valid UTF-8", ErrMalformed)
	}
	var head struct {
		Op *string `json:"op"`
	}
	if op, ok := leadingOp(data); ok {
		head.Op = &op
	} else if err := json.Unmarshal(data, &head); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, oJSONReason(err))
	}
	if head.Op == nil {
		return nil, fmt.Errorf("%w: missing \"op\"", ErrMalformed)
	}
	var m any
	switch *head.Op {
	case OpInit:
		m = new(oInit)
	case OpAddQuery:
		m = new(oAddQuery)
	case OpRemoveQuery:
		m = new(oRemoveQuery)
	case OpTransact:
		m = new(oTransact)
	case OpInitOK:
		m = new(oInitOK)
	case OpAddQueryOK:
		m = new(oAddQueryOK)
	case OpRemoveQueryOK:
		m = new(oRemoveQueryOK)
	case OpTransactOK:
		m = new(oTransactOK)
	case OpRefreshOK:
		m = new(oRefreshOK)
	case OpError:
		m = new(oError)
	default:
		return nil, fmt.Errorf("%w: %q", ErrUnknownOp, *head.Op)
	}
	if err := json.Unmarshal(data, m); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return nil, fmt.Errorf("%w: %s: %v", ErrMalformed, *head.Op, oJSONReason(err))
		}
		return nil, fmt.Errorf("%w: %s: %w", ErrMalformed, *head.Op, err)
	}
	msg := fromMirror(m)
	if err := validate(msg); err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrMalformed, *head.Op, err)
	}
	return msg, nil
}

func oJSONReason(err error) string {
	if te, ok := err.(*json.UnmarshalTypeError); ok && te.Field != "" {
		return fmt.Sprintf("field %q must be %s, not %s", te.Field, te.Type, te.Value)
	}
	return err.Error()
}

// sameParse reports how Parse and oldParse differ on data, "" if not.
func sameParse(data []byte) string {
	m, err := Parse(data)
	om, oerr := oldParse(data)
	if (err == nil) != (oerr == nil) {
		return fmt.Sprintf("Parse(%q):\n new: %#v, %v\n old: %#v, %v", data, m, err, om, oerr)
	}
	if err != nil {
		if err.Error() != oerr.Error() {
			return fmt.Sprintf("Parse(%q) errors differ:\n new: %v\n old: %v", data, err, oerr)
		}
		for _, target := range []error{ErrMalformed, ErrUnknownOp, store.ErrMalformedStep, store.ErrInvalidID, store.ErrInvalidAttr} {
			if errors.Is(err, target) != errors.Is(oerr, target) {
				return fmt.Sprintf("Parse(%q): errors.Is(%v) differs: new %v, old %v", data, target, err, oerr)
			}
		}
		var se, ose *store.StepError
		if errors.As(err, &se) != errors.As(oerr, &ose) || se != nil && se.Index != ose.Index {
			return fmt.Sprintf("Parse(%q): StepError differs: new %v, old %v", data, err, oerr)
		}
		return ""
	}
	if !reflect.DeepEqual(m, om) {
		return fmt.Sprintf("Parse(%q) messages differ:\n new: %#v\n old: %#v", data, m, om)
	}
	return ""
}

// sameEncode reports how Encode and oldEncode differ on m, "" if not.
func sameEncode(m Message) string {
	b, err := Encode([]byte("x"), m)
	ob, oerr := oldEncode([]byte("x"), m)
	if (err == nil) != (oerr == nil) || err != nil && err.Error() != oerr.Error() {
		return fmt.Sprintf("Encode(%#v) errors differ:\n new: %v\n old: %v", m, err, oerr)
	}
	if !bytes.Equal(b, ob) {
		return fmt.Sprintf("Encode(%#v) bytes differ:\n new: %s\n old: %s", m, b, ob)
	}
	return ""
}
