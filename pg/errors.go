package pg

import "errors"

var (
	// ErrSchemaTooNew means the database was migrated by a newer triplesync
	// than this one; running against it could corrupt data it relies on.
	ErrSchemaTooNew = errors.New("pg: database schema is newer than this binary")
)
