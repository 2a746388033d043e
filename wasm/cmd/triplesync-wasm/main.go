//go:build !(js && wasm)

// Command triplesync-wasm is the browser client compiled to WebAssembly
// (see main_js.go); built for any other platform it only says so.
package main

import "syscall"

// main writes through syscall rather than fmt and os, which this command's
// packages avoid for the size of the wasm build.
func main() {
	syscall.Write(syscall.Stderr, []byte("triplesync-wasm runs in a browser: build it with GOOS=js GOARCH=wasm (scripts/build-client)\n"))
	syscall.Exit(2)
}
