package perm

import "errors"

var (
	// ErrDenied is returned when a rule, or the absence of one, refuses an
	// action.
	ErrDenied = errors.New("perm: permission denied")

	// ErrInvalidToken is returned for a JWT that is malformed, expired,
	// signed with another key or algorithm, or lacks a subject.
	ErrInvalidToken = errors.New("perm: invalid token")

	// ErrInvalidRules is returned for a rules file that is not valid JSON of
	// the documented shape, or whose expressions do not compile.
	ErrInvalidRules = errors.New("perm: invalid rules")
)
