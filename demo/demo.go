// Package demo serves the browser side of triplesync over HTTP: the
// browser client's files (built by scripts/build-client) at /client/, and
// in development the demo app — a collaborative todo list in plain HTML
// and JS, embedded in the binary — at /.
//
// `triplesync serve` wraps its routes with [Handler]; the browser tests
// of wasm/e2e do the same in front of an in-process server.
package demo

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strings"
)

//go:embed index.html app.js style.css
var files embed.FS

// ClientFiles are the files scripts/build-client puts in the client
// directory that [CheckClientDir] requires.
var ClientFiles = []string{"triplesync.js", "triplesync.wasm", "wasm_exec.js"}

// ErrNoClient is wrapped by [CheckClientDir] when the client is not built.
var ErrNoClient = errors.New("demo: browser client not built")

// CheckClientDir reports whether dir holds the built browser client.
func CheckClientDir(dir string) error {
	for _, f := range ClientFiles {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			return fmt.Errorf("%w: %s: run scripts/build-client", ErrNoClient, filepath.Join(dir, f))
		}
	}
	return nil
}

// Handler returns next behind the browser routes:
//
//	GET /client/...   the files of clientDir (an empty clientDir serves none);
//	                  a file's .br or .gz twin is sent instead when the
//	                  browser accepts that encoding
//	GET /             the demo's page, when dev is set
//	GET /demo/...     the demo's script and style, when dev is set
//
// and everything else to next.
func Handler(next http.Handler, clientDir string, dev bool) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/", next)
	if clientDir != "" {
		mux.Handle("GET /client/", http.StripPrefix("/client", &clientFiles{dir: clientDir}))
	}
	if dev {
		mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
			noCache(w)
			http.ServeFileFS(w, r, files, "index.html")
		})
		sub, _ := fs.Sub(files, ".")
		mux.Handle("GET /demo/", http.StripPrefix("/demo", noCacheHandler(http.FileServerFS(sub))))
	}
	return mux
}

// noCache makes browsers revalidate: the files change with every build,
// and revalidation is a cheap 304.
func noCache(w http.ResponseWriter) { w.Header().Set("Cache-Control", "no-cache") }

func noCacheHandler(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		noCache(w)
		h.ServeHTTP(w, r)
	})
}

// clientFiles serves a directory, preferring precompressed twins.
type clientFiles struct{ dir string }

func (c *clientFiles) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	name := path.Clean("/" + r.URL.Path)
	if strings.HasSuffix(name, ".br") || strings.HasSuffix(name, ".gz") || strings.HasSuffix(name, "/") {
		http.NotFound(w, r)
		return
	}
	noCache(w)
	w.Header().Add("Vary", "Accept-Encoding")
	full := filepath.Join(c.dir, filepath.FromSlash(name))
	accept := r.Header.Get("Accept-Encoding")
	for _, enc := range []struct{ name, ext string }{{"br", ".br"}, {"gzip", ".gz"}} {
		if !acceptsEncoding(accept, enc.name) {
			continue
		}
		f, err := os.Open(full + enc.ext)
		if err != nil {
			continue
		}
		defer f.Close()
		st, err := f.Stat()
		if err != nil || st.IsDir() {
			continue
		}
		if ct := contentType(name); ct != "" {
			w.Header().Set("Content-Type", ct)
		}
		w.Header().Set("Content-Encoding", enc.name)
		http.ServeContent(w, r, name, st.ModTime(), f)
		return
	}
	http.ServeFile(w, r, full)
}

func contentType(name string) string {
	switch path.Ext(name) {
	case ".wasm":
		return "application/wasm"
	case ".js":
		return "text/javascript; charset=utf-8"
	}
	return ""
}

// acceptsEncoding reports whether an Accept-Encoding header accepts enc
// (and does not give it q=0).
func acceptsEncoding(header, enc string) bool {
	for _, part := range strings.Split(header, ",") {
		name, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if !strings.EqualFold(strings.TrimSpace(name), enc) {
			continue
		}
		q := strings.ReplaceAll(strings.TrimSpace(params), " ", "")
		return q != "q=0" && q != "q=0.0" && q != "q=0.00" && q != "q=0.000"
	}
	return false
}
