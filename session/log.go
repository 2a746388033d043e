package session

// Log keys used by this package (STYLE.md C6).
const (
	logKeyError      = "err"
	logKeySession    = "session"
	logKeyQuery      = "query"
	logKeyOp         = "op"
	logKeyTxID       = "tx_id"
	logKeyQueued     = "queued_frames"
	logKeyQueuedSize = "queued_bytes"
	logKeyRemote     = "remote"
	logKeyAuth       = "auth"
)
