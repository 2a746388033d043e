package query_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func assertEqual(t *testing.T, want, got any, msg string) bool {
	t.Helper()
	return assert.Equal(t, want, got, msg)
}
