package errs

import (
	"errors"
	"io"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestWrap(t *testing.T) {
	err := Wrap("step 3", io.ErrUnexpectedEOF)
	require.EqualError(t, err, "step 3: unexpected EOF")
	require.ErrorIs(t, err, io.ErrUnexpectedEOF)

	err = With("reading \"x\" failed ("+io.EOF.Error()+")", io.EOF)
	require.EqualError(t, err, `reading "x" failed (EOF)`)
	require.ErrorIs(t, err, io.EOF)
	require.False(t, errors.Is(err, io.ErrUnexpectedEOF))
}
