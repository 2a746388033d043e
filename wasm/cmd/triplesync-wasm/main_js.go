//go:build js && wasm

// Command triplesync-wasm is the browser client compiled to WebAssembly:
// scripts/build-client builds it into dist/triplesync.wasm, which the JS
// module client/triplesync.js loads. It hands the API of package wasm to
// the function the module left at globalThis.__triplesyncBoot, then waits
// forever: the Go runtime lives as long as the page.
package main

import (
	"syscall/js"

	"github.com/triplesync/triplesync/wasm"
)

func main() {
	boot := js.Global().Get("__triplesyncBoot")
	if boot.Type() != js.TypeFunction {
		js.Global().Get("console").Call("error", "triplesync: load triplesync.wasm through triplesync.js")
		return
	}
	boot.Invoke(wasm.Export())
	select {}
}
