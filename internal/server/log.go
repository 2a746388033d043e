package server

// Log keys used by this package (STYLE.md C6).
const (
	logKeyAddr     = "addr"
	logKeyError    = "err"
	logKeyInstance = "instance"
	logKeySlot     = "slot"
	logKeyTxID     = "tx_id"
	logKeyLSN      = "lsn"
	logKeyReason   = "reason"
	logKeySchema   = "schema_version"
	logKeyDev      = "dev"
)
