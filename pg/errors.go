package pg

import "errors"

var (
	// ErrSchemaTooNew means the database was migrated by a newer triplesync
	// than this one; running against it could corrupt data it relies on.
	ErrSchemaTooNew = errors.New("pg: database schema is newer than this binary")

	// ErrSourceClosed is returned by a Scan of the source [DB.Read] handed
	// out, once Read's callback has returned and the transaction is over.
	ErrSourceClosed = errors.New("pg: source used after its Read returned")
)
