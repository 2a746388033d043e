package wasm

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestDOMError(t *testing.T) {
	tests := []struct {
		name, domName, msg string
		is                 error
		text               string
	}{
		{"quota", "QuotaExceededError", "full", ErrQuotaExceeded, "wasm: storage quota exceeded: full"},
		{"closed", "InvalidStateError", "closing", ErrDBClosed, "wasm: database connection closed: closing"},
		{"other", "AbortError", "aborted", nil, "AbortError: aborted"},
		{"no name", "", "plain", nil, "plain"},
		{"no message", "UnknownError", "", nil, "UnknownError: UnknownError"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := domError(tt.domName, tt.msg)
			assert.Equal(t, tt.text, err.Error(), "domError(%q, %q)", tt.domName, tt.msg)
			if tt.is != nil {
				assert.ErrorIs(t, err, tt.is)
			}
			assert.False(t, tt.is == nil && (errors.Is(err, ErrQuotaExceeded) || errors.Is(err, ErrDBClosed)), "no sentinel for %q", tt.domName)
		})
	}
}

func TestCloseError(t *testing.T) {
	err := error(&CloseError{Code: 4000, Reason: "bye"})
	assert.Equal(t, "wasm: websocket closed: 4000 bye", err.Error())
	assert.ErrorIs(t, err, ErrConnClosed)
	assert.Equal(t, "wasm: websocket closed: 1006", (&CloseError{Code: 1006}).Error())
	dbe := &DBError{DB: "d", Op: "write", Store: "s", Err: domError("QuotaExceededError", "full")}
	assert.Equal(t, "wasm: indexeddb write d/s: wasm: storage quota exceeded: full", dbe.Error())
	assert.ErrorIs(t, dbe, ErrQuotaExceeded)
}
