package session

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/triplesync/triplesync/internal/wire"
	"github.com/triplesync/triplesync/query"
	"github.com/triplesync/triplesync/store"
)

// The admin HTTP API serves trusted server-side code. Every request carries
// the admin token as "Authorization: Bearer <token>"; rules do not apply.
//
//	POST /admin/query    {"query": {...}}  → {"result": <result tree>}
//	POST /admin/transact {"ops": [...]}    → {"tx-id": N}
//
// An op is an array: [action, namespace, id, args], where action is
// create, update, merge, delete, link or unlink, id is the entity's UUID
// (or a lookup [label, value] through a unique attribute; null for create
// to draw a new one), and args is {label: value} (for link and unlink
// {label: target id or ids}); delete takes no args. Unknown attributes are
// created on first write. Errors are {"type": ..., "message": ...} with
// the status of the error type; nothing is written on any error.

func (s *Server) handleAdminQuery(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Query json.RawMessage `json:"query"`
	}
	if !s.adminRequest(w, r, &req) {
		return
	}
	if len(bytes.TrimSpace(req.Query)) == 0 {
		s.adminError(w, fmt.Errorf("%w: missing \"query\"", ErrBadRequest))
		return
	}
	q, err := query.Parse(req.Query, s.attrs.Load())
	if err != nil {
		s.adminError(w, err)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.cfg.RequestTimeout)
	defer cancel()
	var res *query.Result
	err = s.cfg.Backend.Read(ctx, func(src query.Source) error {
		var err error
		res, err = query.Eval(src, q)
		return err
	})
	if err != nil {
		s.adminError(w, fmt.Errorf("run query: %w", err))
		return
	}
	s.stats.runs.Add(1)
	out := append([]byte(`{"result":`), res.AppendJSON(nil)...)
	writeJSON(w, http.StatusOK, append(out, "}\n"...))
}

func (s *Server) handleAdminTransact(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Ops []json.RawMessage `json:"ops"`
	}
	if !s.adminRequest(w, r, &req) {
		return
	}
	if req.Ops == nil {
		s.adminError(w, fmt.Errorf("%w: missing \"ops\"", ErrBadRequest))
		return
	}
	ops := make([]store.TxOp, len(req.Ops))
	for i, raw := range req.Ops {
		op, err := parseAdminOp(raw)
		if err != nil {
			s.adminError(w, fmt.Errorf("%w: op %d: %w", ErrBadRequest, i, err))
			return
		}
		ops[i] = op
	}
	newID := func() store.EntityID {
		id, _ := store.NewEntityID(rand.Reader) // crypto/rand does not fail
		return id
	}
	steps, err := store.Transform(s.attrs.Load(), ops, newID, store.TransformOptions{CreateMissingAttrs: true})
	if err != nil {
		s.adminError(w, err)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.cfg.RequestTimeout)
	defer cancel()
	res, err := s.cfg.Backend.Transact(ctx, TransactRequest{Steps: steps, Now: time.Now().UnixMilli()})
	if err != nil {
		s.adminError(w, err)
		return
	}
	if hasSchemaSteps(steps) {
		// The next admin query may name the new attributes.
		s.waitSchema(r.Context(), res.TxID)
	}
	writeJSON(w, http.StatusOK, []byte(`{"tx-id":`+strconv.FormatInt(int64(res.TxID), 10)+"}\n"))
}

// adminRequest checks the admin token and decodes the JSON body into v,
// answering the error itself when either fails.
func (s *Server) adminRequest(w http.ResponseWriter, r *http.Request, v any) bool {
	token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || !s.isAdminToken(strings.TrimSpace(token)) {
		s.adminError(w, fmt.Errorf("%w: the admin API needs Authorization: Bearer <admin token>", ErrUnauthorized))
		return false
	}
	body := http.MaxBytesReader(w, r.Body, int64(s.cfg.MaxMessageBytes))
	dec := json.NewDecoder(body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			s.adminError(w, fmt.Errorf("%w: body over %d bytes", ErrMessageTooLarge, tooBig.Limit))
		} else {
			s.adminError(w, fmt.Errorf("%w: %v", ErrBadRequest, err))
		}
		return false
	}
	if dec.More() {
		s.adminError(w, fmt.Errorf("%w: trailing data after the JSON body", ErrBadRequest))
		return false
	}
	return true
}

// parseAdminOp decodes one op: [action, namespace, id, args].
func parseAdminOp(raw json.RawMessage) (store.TxOp, error) {
	var parts []json.RawMessage
	if err := json.Unmarshal(raw, &parts); err != nil {
		return store.TxOp{}, errors.New("an op must be an array [action, namespace, id, args]")
	}
	if len(parts) < 3 || len(parts) > 4 {
		return store.TxOp{}, fmt.Errorf("an op has 3 or 4 elements, not %d", len(parts))
	}
	var op store.TxOp
	if err := json.Unmarshal(parts[0], &op.Action); err != nil || op.Action == "" {
		return op, errors.New("action must be a non-empty string")
	}
	if err := json.Unmarshal(parts[1], &op.Namespace); err != nil || op.Namespace == "" {
		return op, errors.New("namespace must be a non-empty string")
	}
	if err := parseAdminID(parts[2], &op); err != nil {
		return op, err
	}
	if len(parts) == 4 {
		if err := json.Unmarshal(parts[3], &op.Args); err != nil {
			return op, errors.New("args must be an object")
		}
	}
	return op, nil
}

// parseAdminID reads an op's entity: a UUID string, a lookup [label,
// value], or null (create only: a new id).
func parseAdminID(raw json.RawMessage, op *store.TxOp) error {
	switch t := bytes.TrimSpace(raw); {
	case bytes.Equal(t, []byte("null")):
		if op.Action != "create" {
			return fmt.Errorf("%s needs an entity id", op.Action)
		}
		return nil
	case len(t) > 0 && t[0] == '[':
		var pair []any
		if err := json.Unmarshal(t, &pair); err != nil || len(pair) != 2 {
			return errors.New("a lookup is [label, value]")
		}
		label, ok := pair[0].(string)
		if !ok || label == "" {
			return errors.New("a lookup's label must be a non-empty string")
		}
		op.Lookup = &store.Lookup{Label: label, Value: pair[1]}
		return nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return errors.New("id must be a UUID string, a lookup [label, value] or null")
	}
	id, err := store.ParseEntityID(s)
	if err != nil {
		return err
	}
	if id.IsZero() {
		return errors.New("id must not be the nil UUID")
	}
	op.ID = id
	return nil
}

// adminError answers an admin request with {"type", "message"} and the
// status of err's code; uncoded errors are logged and go out as internal.
func (s *Server) adminError(w http.ResponseWriter, err error) {
	code, status, known := classify(err)
	msg := err.Error()
	if !known {
		s.logInternal("admin request failed", err)
		msg = "internal error"
	}
	s.metrics.errors.WithLabelValues(code).Inc()
	b, _ := json.Marshal(map[string]string{"type": code, "message": msg})
	if code == wire.CodeUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="triplesync admin"`)
	}
	writeJSON(w, status, append(b, '\n'))
}

func writeJSON(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}
