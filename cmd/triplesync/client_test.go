package main

import (
	"io"
	"net/http"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/triplesync/triplesync/internal/pgtest"
)

// TestServe_Client: serve sends the built browser client at /client/
// (the gzip twin of the wasm when the browser accepts it) and, with --dev,
// the demo at /, next to the server's own routes.
func TestServe_Client(t *testing.T) {
	db := pgtest.New(t)
	dir := t.TempDir()
	for name, data := range map[string]string{
		"triplesync.js": "export {}", "wasm_exec.js": "// go", "triplesync.wasm": "\x00asm", "triplesync.wasm.gz": "gzipped",
	} {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644))
	}
	get := func(addr, path, enc string) (*http.Response, string) {
		t.Helper()
		req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, "http://"+addr+path, nil)
		require.NoError(t, err)
		req.Header.Set("Accept-Encoding", enc)
		resp, err := http.DefaultTransport.RoundTrip(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		return resp, string(body)
	}

	p := startServe(t, []string{"DATABASE_URL=" + db.DSN}, "--addr", "127.0.0.1:0", "--dev", "--client-dir", dir)
	resp, body := get(p.addr, "/", "")
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Contains(t, body, `/demo/app.js`)
	resp, body = get(p.addr, "/demo/app.js", "")
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Contains(t, body, `/client/triplesync.js`)
	resp, body = get(p.addr, "/client/triplesync.js", "")
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "export {}", body)
	resp, body = get(p.addr, "/client/triplesync.wasm", "gzip, deflate")
	assert.Equal(t, "gzip", resp.Header.Get("Content-Encoding"))
	assert.Equal(t, "application/wasm", resp.Header.Get("Content-Type"))
	assert.Equal(t, "gzipped", body)
	resp, body = get(p.addr, "/client/triplesync.wasm", "")
	assert.Empty(t, resp.Header.Get("Content-Encoding"))
	assert.Equal(t, "\x00asm", body)
	assertHealthz(t, p.addr, http.StatusOK)
	p.stop(t, syscall.SIGTERM)

	// Without --dev: the client, no demo.
	p = startServe(t, []string{"DATABASE_URL=" + db.DSN}, "--addr", "127.0.0.1:0", "--client-dir", dir)
	resp, _ = get(p.addr, "/", "")
	assert.Equal(t, http.StatusNotFound, resp.StatusCode)
	resp, _ = get(p.addr, "/client/wasm_exec.js", "")
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	p.stop(t, syscall.SIGTERM)

	// A client directory without the client: a warning, and serving goes on.
	p = startServe(t, []string{"DATABASE_URL=" + db.DSN}, "--addr", "127.0.0.1:0", "--client-dir", t.TempDir())
	assert.Contains(t, p.output(), "run scripts/build-client")
	assertHealthz(t, p.addr, http.StatusOK)
	p.stop(t, syscall.SIGTERM)
}
