//go:build !(js && wasm)

// Package browsertest starts headless Chromium for tests, through
// chromedp, with the flags this project's machines need (PLATFORM.md):
// no sandbox (tests run as root), no GPU, no background networking, a
// fresh user-data-dir unless a test passes one to share IndexedDB across
// launches.
//
// Without Chromium a test is skipped with the reason, unless CI=true (or
// TEST_REQUIRE_BROWSER=1), which makes it a failure: scripts/deps
// --browser installs it.
package browsertest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// DefaultTimeout bounds each wait of a test on a page.
const DefaultTimeout = 60 * time.Second

// ExecPath returns the Chromium binary to use: $CHROMIUM if set, else the
// first of chromium, chromium-browser, google-chrome on PATH or
// /usr/bin/chromium. Without one it skips tb, or fails it under CI.
func ExecPath(tb testing.TB) string {
	tb.Helper()
	if p := os.Getenv("CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "/usr/bin/chromium"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	const why = "no Chromium (apt-get install chromium, or scripts/deps --browser)"
	if os.Getenv("CI") == "true" || os.Getenv("TEST_REQUIRE_BROWSER") == "1" {
		tb.Fatal(why)
	}
	tb.Skip(why)
	return ""
}

// Browser is one Chromium process.
type Browser struct {
	// DataDir is its user-data-dir: IndexedDB lives there.
	DataDir string

	tb     testing.TB
	ctx    context.Context // the browser's first tab
	cancel context.CancelFunc
	logMu  sync.Mutex
	done   bool
}

// Start launches Chromium on dataDir (a fresh temporary directory when
// empty) and stops it when the test ends. Console messages and uncaught
// exceptions of its pages are logged to tb.
func Start(tb testing.TB, dataDir string) *Browser {
	tb.Helper()
	path := ExecPath(tb)
	if dataDir == "" {
		dataDir = tb.TempDir()
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("no-default-browser-check", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(dataDir),
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(allocCtx)
	b := &Browser{DataDir: dataDir, tb: tb, ctx: ctx}
	b.cancel = func() {
		b.logMu.Lock()
		b.done = true
		b.logMu.Unlock()
		cancel()
		cancelAlloc()
	}
	if err := chromedp.Do(ctx); err != nil { // starts the browser
		b.cancel()
		tb.Fatalf("start chromium: %v", err)
	}
	b.watch(ctx, "tab0")
	tb.Cleanup(b.Close)
	return b
}

// Close stops the browser and waits for it. Its data stays in DataDir.
func (b *Browser) Close() {
	if b.cancel != nil {
		b.cancel()
		_ = chromedp.Cancel(b.ctx)
	}
}

// logf logs unless the test is over.
func (b *Browser) logf(format string, args ...any) {
	b.logMu.Lock()
	defer b.logMu.Unlock()
	if !b.done {
		b.tb.Logf(format, args...)
	}
}

func (b *Browser) watch(ctx context.Context, name string) {
	msgs := chromedp.Console(ctx)
	go func() {
		for m, err := range msgs {
			if err != nil {
				return
			}
			b.logf("%s console %s", name, strings.TrimSpace(m.String()))
		}
	}()
}

// Page is one tab.
type Page struct {
	Ctx context.Context
	b   *Browser
	tb  testing.TB
}

// Tab returns the browser's first tab.
func (b *Browser) Tab() *Page { return &Page{Ctx: b.ctx, b: b, tb: b.tb} }

// NewTab opens another tab in the same browser (same IndexedDB).
func (b *Browser) NewTab(tb testing.TB) *Page {
	tb.Helper()
	ctx, cancel := chromedp.NewContext(b.ctx)
	tb.Cleanup(cancel)
	if err := chromedp.Do(ctx); err != nil {
		tb.Fatalf("new tab: %v", err)
	}
	b.watch(ctx, fmt.Sprintf("tab%p", ctx))
	return &Page{Ctx: ctx, b: b, tb: tb}
}

// Do runs actions on the page, failing the test on error.
func (p *Page) Do(actions ...chromedp.Action[chromedp.Void]) {
	p.tb.Helper()
	ctx, cancel := context.WithTimeout(p.Ctx, DefaultTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		p.tb.Fatalf("page: %v", err)
	}
}

// Wait waits until the JS expression is truthy, failing the test after
// DefaultTimeout with what describe (a JS expression) says then.
func (p *Page) Wait(expr, describe string) {
	p.tb.Helper()
	ctx, cancel := context.WithTimeout(p.Ctx, DefaultTimeout)
	defer cancel()
	if _, err := chromedp.Run(ctx, chromedp.Poll[chromedp.Void](expr, chromedp.WithPollingInterval(20*time.Millisecond), chromedp.WithPollingTimeout(DefaultTimeout))); err != nil {
		state := "?"
		if describe != "" {
			if s, err := Eval[any](p, describe); err == nil {
				state = fmt.Sprint(s)
			}
		}
		p.tb.Fatalf("wait for %s: %v (now: %s)", expr, err, state)
	}
}

// Eval evaluates a JS expression on the page, awaiting it if it is a
// promise, and decodes its value.
func Eval[T any](p *Page, expr string) (T, error) {
	ctx, cancel := context.WithTimeout(p.Ctx, DefaultTimeout)
	defer cancel()
	return chromedp.Run(ctx, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
}

// MustEval is Eval failing the test on error.
func MustEval[T any](p *Page, expr string) T {
	p.tb.Helper()
	v, err := Eval[T](p, expr)
	if err != nil {
		p.tb.Fatalf("eval %s: %v", expr, err)
	}
	return v
}
