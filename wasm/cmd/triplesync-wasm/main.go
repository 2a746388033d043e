//go:build !(js && wasm)

// Command triplesync-wasm is the browser client compiled to WebAssembly
// (see main_js.go); built for any other platform it only says so.
package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Fprintln(os.Stderr, "triplesync-wasm runs in a browser: build it with GOOS=js GOARCH=wasm (scripts/build-client)")
	os.Exit(2)
}
