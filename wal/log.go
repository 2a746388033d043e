package wal

// Log attribute keys.
const (
	logKeySlot        = "slot"
	logKeyPublication = "publication"
	logKeyLSN         = "lsn"
	logKeyErr         = "err"
	logKeyRetryIn     = "retry_in"
	logKeyReason      = "reason"
	logKeyTxID        = "tx_id"
	logKeyCreated     = "created"
)
