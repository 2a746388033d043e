package topics

import "errors"

var (
	// ErrInvalidPart is returned for a part that cannot stand where it is
	// used: a value set or comparison in the e or a position, or an id set
	// in the v position.
	ErrInvalidPart = errors.New("topics: invalid part")

	// ErrInvalidComparison is returned for a comparison whose argument does
	// not fit its operator ($like with a non-string, $isNull with a
	// non-boolean) or for an unknown operator.
	ErrInvalidComparison = errors.New("topics: invalid comparison")
)
