// Package wasm is triplesync's browser client: the client core (package
// reactor) compiled with GOOS=js GOARCH=wasm, given the browser's
// IndexedDB for storage and the browser's WebSocket for transport, and
// exposed to JavaScript through a small API that client/triplesync.js
// wraps (see its TypeScript declarations, client/triplesync.d.ts).
//
// # Pieces
//
//   - [Storage] is the [reactor.Storage]: one IndexedDB database per app
//     and storage format ([DBName]: triplesync_<app>_v1), with an object
//     store each for settings, cached query results (one record per query)
//     and pending mutations (one record per mutation). A batch is written
//     as at most two transactions with all their puts: mutations with
//     strict durability, caches with relaxed. A new format opens a new
//     database and migrates the previous one's records; a connection the
//     browser closes is reopened; every other error, a full quota
//     ([ErrQuotaExceeded]) first, goes back to the client, which reports
//     it through its OnError and retries.
//   - [Factory] and [DB] are IndexedDB reduced to what Storage needs.
//     [IndexedDB] is the browser's (js/wasm only); [MemFactory] is its
//     in-memory twin, so Storage's logic is tested on the host, with
//     faults injected.
//   - [WebSocket] is the [reactor.Transport] over the browser's WebSocket
//     (js/wasm only): much smaller in the binary than a Go WebSocket
//     library, which would bring net/http.
//   - [Export] (js/wasm only) builds the object the JS module drives.
//     Values cross as JSON text: options ([ParseOptions]), transaction ops
//     ([DecodeOps], the tx builder's output), results ([AppendResult];
//     after the first, a [Patcher] sends each as a patch against the one
//     before when the client updated it incrementally, so a one-row change
//     to a large live query crosses as that row), statuses
//     ([AppendStatus]) and errors ([AppendError]).
//
// # The JS thread
//
// Go's wasm runtime runs on the page's only thread. A Go function called
// from JS that blocks on a channel deadlocks the runtime, so every
// exported function either only queues work for a goroutine (in the order
// JS called, per client) or returns a Promise a goroutine settles; every
// IndexedDB and WebSocket callback only sends on a buffered channel or
// appends to a queue. Properties that may throw (an IDBRequest's result)
// are read through Reflect.get, so an exception becomes an error instead
// of ending the Go program.
//
// # Tests
//
// Files without build tags test on the host, over [MemFactory] and an
// in-memory server. The *_js_test.go files need a browser: TestJS (a host
// test) builds them with GOOS=js and runs them in headless Chromium.
// Package wasm/e2e drives the demo and the JS API in Chromium against a
// real server and Postgres.
package wasm
