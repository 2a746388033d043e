//go:build js && wasm

package wasm

import (
	"context"
	"errors"
	"syscall/js"
)

// call calls v's method, turning a JS exception into an error instead of a
// panic.
func call(v js.Value, method string, args ...any) (res js.Value, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = recovered(r)
		}
	}()
	return v.Call(method, args...), nil
}

// get reads v[prop] through Reflect.get, so that a throwing getter (an
// IDBRequest's result before it has finished) becomes an error: a plain
// v.Get does not catch exceptions, and one would end the Go program.
func get(v js.Value, prop string) (js.Value, error) {
	return call(reflectObj, "get", v, prop)
}

var reflectObj = js.Global().Get("Reflect")

// recovered turns a panic of syscall/js (a js.Error for a thrown
// exception) into an error.
func recovered(r any) error {
	if e, ok := r.(js.Error); ok {
		return jsError(e.Value)
	}
	if e, ok := r.(error); ok {
		return e
	}
	return errors.New(formatAny(r))
}

// jsError turns a thrown JS value (a DOMException, an Error, anything)
// into an error wrapping the sentinel its name stands for.
func jsError(v js.Value) error {
	if v.IsUndefined() || v.IsNull() {
		return errors.New("unknown error")
	}
	if v.Type() != js.TypeObject {
		return errors.New(v.String())
	}
	name, msg := v.Get("name"), v.Get("message")
	n, m := "", ""
	if name.Type() == js.TypeString {
		n = name.String()
	}
	if msg.Type() == js.TypeString {
		m = msg.String()
	}
	if n == "" && m == "" {
		m = v.Call("toString").String()
	}
	return domError(n, m)
}

func jsErrorName(v js.Value) string {
	if v.Type() == js.TypeObject {
		if n := v.Get("name"); n.Type() == js.TypeString {
			return n.String()
		}
	}
	return ""
}

// await waits for a JS promise without blocking the JS thread (only this
// goroutine waits; the callbacks only send on a buffered channel).
func await(ctx context.Context, p js.Value) (js.Value, error) {
	type outcome struct {
		v   js.Value
		err error
	}
	ch := make(chan outcome, 1)
	var onOK, onErr js.Func
	onOK = js.FuncOf(func(_ js.Value, args []js.Value) any {
		ch <- outcome{v: arg(args, 0)}
		return nil
	})
	onErr = js.FuncOf(func(_ js.Value, args []js.Value) any {
		ch <- outcome{err: jsError(arg(args, 0))}
		return nil
	})
	if _, err := call(p, "then", onOK, onErr); err != nil {
		onOK.Release()
		onErr.Release()
		return js.Undefined(), err
	}
	select {
	case o := <-ch:
		onOK.Release()
		onErr.Release()
		return o.v, o.err
	case <-ctx.Done():
		return js.Undefined(), ctx.Err() // the callbacks stay: the promise may still settle
	}
}

func arg(args []js.Value, i int) js.Value {
	if i < len(args) {
		return args[i]
	}
	return js.Undefined()
}

// promise returns a JS Promise settled by fn, which runs on its own
// goroutine: exported functions never block the JS thread (a Go function
// called from JS that blocks on a channel deadlocks the runtime).
func promise(fn func() (any, error)) js.Value {
	var executor js.Func
	executor = js.FuncOf(func(_ js.Value, args []js.Value) any {
		resolve, reject := args[0], args[1]
		executor.Release()
		go func() {
			v, err := func() (v any, err error) {
				defer func() {
					if r := recover(); r != nil {
						err = recovered(r)
					}
				}()
				return fn()
			}()
			if err != nil {
				reject.Invoke(errorValue(err))
				return
			}
			resolve.Invoke(v)
		}()
		return nil
	})
	return js.Global().Get("Promise").New(executor)
}

// errorValue is the JS value a rejected promise carries: the error's JSON
// (AppendError), which the JS module turns into a TriplesyncError.
func errorValue(err error) js.Value {
	return js.ValueOf(string(AppendError(nil, err)))
}

// bytesToJS copies b into a new Uint8Array.
func bytesToJS(b []byte) js.Value {
	a := uint8Array.New(len(b))
	js.CopyBytesToJS(a, b)
	return a
}

// bytesFromJS copies a Uint8Array (or a string, or an ArrayBuffer) out of JS.
func bytesFromJS(v js.Value) []byte {
	switch {
	case v.Type() == js.TypeString:
		return []byte(v.String())
	case v.InstanceOf(uint8Array):
		b := make([]byte, v.Length())
		js.CopyBytesToGo(b, v)
		return b
	case v.InstanceOf(arrayBuffer):
		a := uint8Array.New(v)
		b := make([]byte, a.Length())
		js.CopyBytesToGo(b, a)
		return b
	}
	return nil
}

var (
	uint8Array  = js.Global().Get("Uint8Array")
	arrayBuffer = js.Global().Get("ArrayBuffer")
)
