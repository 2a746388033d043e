package demo_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/triplesync/triplesync/demo"
)

func clientDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for name, data := range map[string]string{
		"triplesync.js": "js", "wasm_exec.js": "exec", "triplesync.wasm": "raw", "triplesync.wasm.gz": "gz", "triplesync.wasm.br": "br",
	} {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644))
	}
	return dir
}

func TestHandler(t *testing.T) {
	dir := clientDir(t)
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "next "+r.URL.Path) })
	tests := []struct {
		name     string
		dev      bool
		path     string
		encoding string
		status   int
		body     string
		ctype    string
		cenc     string
	}{
		{"demo page", true, "/", "", 200, "", "text/html; charset=utf-8", ""},
		{"demo script", true, "/demo/app.js", "", 200, "", "text/javascript; charset=utf-8", ""},
		{"no demo without dev", false, "/", "", 200, "next /", "", ""},
		{"other routes go on", true, "/runtime/session", "", 200, "next /runtime/session", "", ""},
		{"client module", false, "/client/triplesync.js", "", 200, "js", "text/javascript; charset=utf-8", ""},
		{"brotli preferred", false, "/client/triplesync.wasm", "gzip, br", 200, "br", "application/wasm", "br"},
		{"gzip", false, "/client/triplesync.wasm", "gzip", 200, "gz", "application/wasm", "gzip"},
		{"refused brotli", false, "/client/triplesync.wasm", "br;q=0, gzip", 200, "gz", "application/wasm", "gzip"},
		{"identity", false, "/client/triplesync.wasm", "", 200, "raw", "application/wasm", ""},
		{"twin not served by name", false, "/client/triplesync.wasm.gz", "", 404, "", "", ""},
		{"missing", false, "/client/nope.js", "", 404, "", "", ""},
		{"traversal is cleaned away", false, "/client/../demo.go", "", 307, "", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := demo.Handler(next, dir, tt.dev)
			req := httptest.NewRequest(http.MethodGet, tt.path, nil)
			if tt.encoding != "" {
				req.Header.Set("Accept-Encoding", tt.encoding)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			assert.Equal(t, tt.status, rec.Code, "GET %s", tt.path)
			if tt.body != "" {
				assert.Equal(t, tt.body, rec.Body.String())
			}
			if tt.ctype != "" {
				assert.Equal(t, tt.ctype, rec.Header().Get("Content-Type"))
			}
			assert.Equal(t, tt.cenc, rec.Header().Get("Content-Encoding"))
		})
	}
}

func TestCheckClientDir(t *testing.T) {
	assert.NoError(t, demo.CheckClientDir(clientDir(t)))
	assert.ErrorIs(t, demo.CheckClientDir(t.TempDir()), demo.ErrNoClient)
}
