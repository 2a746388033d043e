package perm

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"

	"cel.dev/cel-go/cel"
)

// Action is what a rule allows.
type Action string

const (
	View   Action = "view"
	Create Action = "create"
	Update Action = "update"
	Delete Action = "delete"
	Link   Action = "link"
	Unlink Action = "unlink"
)

var actions = []Action{View, Create, Update, Delete, Link, Unlink}

// costLimit bounds one evaluation, so a rule cannot loop a server.
const costLimit = 100_000

// Rules is a compiled rules file. It is immutable and safe for concurrent
// use; a reload builds a new one.
type Rules struct {
	programs     map[string]map[Action]cel.Program
	defaultAllow bool
}

// ParseRules compiles a rules file. With defaultAllow, actions that have no
// rule are allowed (the server's --dev mode); otherwise they are denied.
func ParseRules(data []byte, defaultAllow bool) (*Rules, error) {
	r := &Rules{programs: map[string]map[Action]cel.Program{}, defaultAllow: defaultAllow}
	if len(bytes.TrimSpace(data)) == 0 {
		return r, nil
	}
	var file map[string]struct {
		Allow map[string]string `json:"allow"`
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&file); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidRules, err)
	}
	env, err := cel.NewEnv(
		cel.Variable("auth", cel.MapType(cel.StringType, cel.DynType)),
		cel.Variable("data", cel.MapType(cel.StringType, cel.DynType)),
		cel.Variable("newData", cel.MapType(cel.StringType, cel.DynType)),
	)
	if err != nil {
		return nil, fmt.Errorf("perm: cel environment: %w", err)
	}
	nss := make([]string, 0, len(file))
	for ns := range file {
		nss = append(nss, ns)
	}
	sort.Strings(nss)
	for _, ns := range nss {
		progs := map[Action]cel.Program{}
		for name, expr := range file[ns].Allow {
			act := Action(name)
			if !knownAction(act) {
				return nil, fmt.Errorf("%w: %s.allow.%s: unknown action (want one of %v)", ErrInvalidRules, ns, name, actions)
			}
			ast, iss := env.Compile(expr)
			if iss != nil && iss.Err() != nil {
				return nil, fmt.Errorf("%w: %s.allow.%s: %v", ErrInvalidRules, ns, name, iss.Err())
			}
			if t := ast.OutputType(); t != cel.BoolType && t != cel.DynType {
				return nil, fmt.Errorf("%w: %s.allow.%s: evaluates to %s, want bool", ErrInvalidRules, ns, name, t)
			}
			prg, err := env.Program(ast, cel.CostLimit(costLimit))
			if err != nil {
				return nil, fmt.Errorf("%w: %s.allow.%s: %v", ErrInvalidRules, ns, name, err)
			}
			progs[act] = prg
		}
		r.programs[ns] = progs
	}
	return r, nil
}

func knownAction(a Action) bool {
	for _, k := range actions {
		if k == a {
			return true
		}
	}
	return false
}

// DefaultAllow reports whether actions without a rule are allowed.
func (r *Rules) DefaultAllow() bool { return r.defaultAllow }

// HasRule reports whether namespace ns has a rule for act.
func (r *Rules) HasRule(ns string, act Action) bool {
	_, ok := r.programs[ns][act]
	return ok
}

// Allow decides whether a may do act on an entity of namespace ns whose
// attributes were data before and are newData after (either may be nil).
// The error wraps ErrDenied and names the namespace and action.
func (r *Rules) Allow(a Auth, ns string, act Action, data, newData map[string]any) error {
	if a.Admin {
		return nil
	}
	prg, ok := r.programs[ns][act]
	if !ok {
		if r.defaultAllow {
			return nil
		}
		return fmt.Errorf("%w: %s %s: no rule", ErrDenied, act, ns)
	}
	if data == nil {
		data = map[string]any{}
	}
	if newData == nil {
		newData = map[string]any{}
	}
	out, _, err := prg.Eval(map[string]any{"auth": a.celValue(), "data": data, "newData": newData})
	if err != nil {
		return fmt.Errorf("%w: %s %s: rule failed: %v", ErrDenied, act, ns, err)
	}
	if b, ok := out.Value().(bool); !ok || !b {
		return fmt.Errorf("%w: %s %s", ErrDenied, act, ns)
	}
	return nil
}
