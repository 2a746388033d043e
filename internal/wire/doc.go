// Package wire defines the messages clients and the server exchange over a
// WebSocket, and their JSON codec. It is shared by the server (session), the
// Go client (reactor) and the browser client (wasm), so the three cannot
// drift apart.
//
// Every message is one JSON object in one text frame, with an "op" naming
// its kind and an optional "client-event-id" that replies echo:
//
//	client → server: init, add-query, remove-query, transact
//	server → client: init-ok, add-query-ok, remove-query-ok, transact-ok,
//	                 refresh-ok, error
//
// Triples travel as compact arrays [e, a, v, created-at]; triple keys (in a
// delta's removals) as [e, a, v]. docs/protocol.md documents every message
// with an example exchange.
package wire
