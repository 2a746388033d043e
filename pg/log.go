package pg

// Keys of the log lines this package writes.
const (
	logAttempt    = "attempt"
	logError      = "error"
	logMutationID = "mutation_id"
)
