package store

import "errors"

var (
	// ErrInvalidID is returned for a string that is not a canonical UUID.
	ErrInvalidID = errors.New("store: invalid id")

	// ErrInvalidValue is returned for a value JSON cannot carry or the value
	// order cannot place (NaN, infinities, malformed JSON).
	ErrInvalidValue = errors.New("store: invalid value")

	// ErrWrongType is returned when a value does not fit its attribute's type.
	ErrWrongType = errors.New("store: wrong value type")

	// ErrUnknownAttr is returned for a step naming an attribute that does not exist.
	ErrUnknownAttr = errors.New("store: unknown attribute")

	// ErrUniqueViolation is returned when a write would give two entities the
	// same value of a unique attribute.
	ErrUniqueViolation = errors.New("store: unique violation")

	// ErrMalformedStep is returned for a tx-step whose shape is wrong.
	ErrMalformedStep = errors.New("store: malformed step")

	// ErrNotFound is returned by update-mode writes and lookups of entities
	// that do not exist.
	ErrNotFound = errors.New("store: entity not found")

	// ErrExists is returned by create-mode writes to an entity that exists.
	ErrExists = errors.New("store: entity exists")

	// ErrInvalidAttr is returned for an attribute definition that is not
	// self-consistent (a ref without a target, a duplicate label, ...).
	ErrInvalidAttr = errors.New("store: invalid attribute")

	// ErrInvalidLookup is returned for a lookup through an attribute that is
	// not unique, or of another namespace than the entity it addresses.
	ErrInvalidLookup = errors.New("store: invalid lookup")

	// ErrCardinality is returned when triples would give an entity several
	// values of a cardinality-one attribute.
	ErrCardinality = errors.New("store: cardinality violation")

	// ErrBrokenInvariant is returned by [Snapshot.CheckInvariants] when the
	// indexes disagree with each other or with the attributes.
	ErrBrokenInvariant = errors.New("store: broken invariant")
)
