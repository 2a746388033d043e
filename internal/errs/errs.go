// Package errs builds wrapped errors without fmt.
//
// The browser client is Go compiled to WebAssembly, and fmt (with the
// reflection it pulls in) costs it about 120 KB gzip. The packages the
// client links (store, query, internal/wire, reactor, wasm) therefore make
// their messages with string concatenation and strconv, and wrap with this
// package where fmt.Errorf would have used %w.
package errs

// Wrap returns an error whose message is prefix + ": " + err.Error() and
// which unwraps to err: fmt.Errorf("%s: %w", prefix, err).
func Wrap(prefix string, err error) error {
	return &wrapped{msg: prefix + ": " + err.Error(), err: err}
}

// With returns an error whose message is msg, however it was built, and
// which unwraps to err: fmt.Errorf with %w anywhere in the format.
func With(msg string, err error) error {
	return &wrapped{msg: msg, err: err}
}

type wrapped struct {
	msg string
	err error
}

func (w *wrapped) Error() string { return w.msg }
func (w *wrapped) Unwrap() error { return w.err }
