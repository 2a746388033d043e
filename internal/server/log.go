package server

// Log keys used by this package (STYLE.md C6).
const (
	logKeyError    = "err"
	logKeyInstance = "instance"
	logKeySlot     = "slot"
	logKeyTxID     = "tx_id"
	logKeyLSN      = "lsn"
	logKeyReason   = "reason"
)
