// Package e2e holds the browser client's end-to-end tests: the demo app
// and the JS API in headless Chromium (driven by chromedp inside go test)
// against an in-process triplesync server on a real Postgres (pgtest).
// Each test builds nothing of its own: TestMain builds the client once
// with scripts/build-client into a temporary directory.
//
// The static files are served by a front HTTP server that stays up while
// the triplesync server behind it is stopped and started again on the
// same database, the way a CDN keeps serving a page while its API is
// down; that is what lets a test reload a page while offline.
//
// Run with:
//
//	go test ./wasm/e2e/                    # skips without Chromium or Postgres
//	CI=true go test ./wasm/e2e/            # fails without them
//	go test ./wasm/e2e/ -run Bench -v -bench-client   # prints the load-time figures
package e2e
