//go:build !(js && wasm)

package wasm_test

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/require"

	"github.com/triplesync/triplesync/wasm/internal/browsertest"
)

var (
	jsRun       = flag.String("js.run", "", "run only the GOOS=js tests matching this regexp (TestJS)")
	jsBench     = flag.String("js.bench", "", "run the GOOS=js benchmarks matching this regexp in Chromium (TestJS)")
	jsBenchtime = flag.String("js.benchtime", "", "-test.benchtime for the GOOS=js benchmarks")
	jsCount     = flag.Int("js.count", 1, "-test.count for the GOOS=js tests and benchmarks")
)

// jsTimeout bounds one run of the GOOS=js test binary in Chromium.
const jsTimeout = 10 * time.Minute

// TestJS runs this package's GOOS=js GOARCH=wasm tests (the *_js_test.go
// files: IndexedDB storage, the WebSocket transport, benchmarks) in
// headless Chromium: it builds the test binary, serves it with Go's
// wasm_exec.js and a WebSocket echo endpoint, and runs it in a page, the
// way wasmbrowsertest does, inside the ordinary go test run. Flags -js.run
// and -js.bench select what runs in the browser.
func TestJS(t *testing.T) {
	browsertest.ExecPath(t) // skips (or fails under CI) without Chromium
	dir := t.TempDir()
	build := exec.Command("go", "test", "-c", "-o", filepath.Join(dir, "wasm.test.wasm"), ".")
	build.Env = append(os.Environ(), "GOOS=js", "GOARCH=wasm", "GOFLAGS=")
	out, err := build.CombinedOutput()
	require.NoError(t, err, "build the js/wasm tests: %s", out)
	goroot, err := exec.Command("go", "env", "GOROOT").Output()
	require.NoError(t, err)
	execJS, err := os.ReadFile(filepath.Join(strings.TrimSpace(string(goroot)), "lib", "wasm", "wasm_exec.js"))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "wasm_exec.js"), execJS, 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "index.html"), []byte(jsHarness), 0o644))

	mux := http.NewServeMux()
	mux.Handle("/", http.FileServer(http.Dir(dir)))
	mux.HandleFunc("/echo", echo)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	srv := &http.Server{Handler: mux}
	go srv.Serve(ln)
	t.Cleanup(func() { _ = srv.Close() })

	args := []string{"-test.count=" + fmt.Sprint(*jsCount), "-echo=ws://" + ln.Addr().String() + "/echo"}
	if testing.Verbose() {
		args = append(args, "-test.v")
	}
	if *jsRun != "" {
		args = append(args, "-test.run="+*jsRun)
	}
	if *jsBench != "" {
		args = append(args, "-test.bench="+*jsBench, "-test.benchmem")
		if *jsRun == "" {
			args = append(args, "-test.run=^$")
		}
	}
	if *jsBenchtime != "" {
		args = append(args, "-test.benchtime="+*jsBenchtime)
	}
	if testing.Short() {
		args = append(args, "-test.short")
	}
	argv, _ := json.Marshal(args)

	page := browsertest.Start(t, "").Tab()
	page.Do(chromedpNavigate("http://" + ln.Addr().String() + "/index.html?args=" + url.QueryEscape(string(argv))))
	ctx, cancel := context.WithTimeout(context.Background(), jsTimeout)
	defer cancel()
	printed := 0
	for {
		res, err := browsertest.Eval[struct {
			Exit *int     `json:"exit"`
			Out  []string `json:"out"`
		}](page, fmt.Sprintf(`({exit: window.__exit ?? null, out: (window.__out || []).slice(%d)})`, printed))
		require.NoError(t, err)
		if os.Getenv("JSRUN_DEBUG") != "" {
			t.Logf("debug: %+v", res)
		}
		for _, l := range res.Out {
			t.Log(l)
		}
		printed += len(res.Out)
		if res.Exit != nil {
			require.Zero(t, *res.Exit, "the GOOS=js tests failed in Chromium (output above)")
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("the GOOS=js tests did not finish in %v", jsTimeout)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// echo is a WebSocket endpoint sending every frame back, for the
// transport tests.
func echo(w http.ResponseWriter, r *http.Request) {
	up := websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }}
	c, err := up.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	defer c.Close()
	c.SetReadLimit(16 << 20)
	for {
		mt, data, err := c.ReadMessage()
		if err != nil {
			return
		}
		if string(data) == "close-please" {
			_ = c.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(4000, "asked to"), time.Now().Add(time.Second))
			return
		}
		if err := c.WriteMessage(mt, data); err != nil {
			return
		}
	}
}

// jsHarness runs the test binary: argv from the query string, output
// lines collected in window.__out, the exit code in window.__exit.
const jsHarness = `<!doctype html>
<meta charset="utf-8">
<script src="wasm_exec.js"></script>
<script>
window.__out = [];
console.log = (...a) => window.__out.push(a.join(" "));
// An exception escaping Go's event handlers kills the Go program without
// an exit: end the run instead of waiting for the timeout.
const died = (what) => { window.__out.push("harness: uncaught " + what); if (window.__exit === undefined) window.__exit = 3; };
window.addEventListener("error", (e) => died(e.message));
window.addEventListener("unhandledrejection", (e) => died(String(e.reason)));
(async () => {
  const go = new Go();
  go.argv = ["wasm.test", ...JSON.parse(new URLSearchParams(location.search).get("args"))];
  go.env = { HOME: "/", TMPDIR: "/tmp" };
  go.exit = (code) => { window.__exit = code; };
  const { instance } = await WebAssembly.instantiateStreaming(fetch("wasm.test.wasm"), go.importObject);
  await go.run(instance);
  if (window.__exit === undefined) window.__exit = 0;
})().catch((e) => { window.__out.push("harness: " + e); window.__exit = 2; });
</script>`

func chromedpNavigate(u string) chromedp.Action[chromedp.Void] { return chromedp.Navigate(u) }
