// Command triplesync is the triplesync server.
//
//	triplesync serve [flags]      run the server
//	triplesync drop-slot [flags]  drop a retired server's replication slot
//	triplesync version            print the version
//
// serve reads its configuration from flags and environment variables (see
// `triplesync serve -h`); this package is the only place that reads either.
// Without DATABASE_URL it runs a managed Postgres under --data-dir/pg,
// created on first use and stopped with the server.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"strings"
	"syscall"
	"time"
)

// version is set at build time with -ldflags "-X main.version=v1.2.3";
// otherwise it comes from the module's build information.
var version = ""

// shutdownTimeout bounds a clean shutdown: in-flight requests, then the
// managed Postgres (whose fast shutdown takes well under a second).
const shutdownTimeout = 30 * time.Second

const usage = `triplesync is a sync engine: live queries over Postgres.

Usage:
  triplesync serve [flags]       run the server
  triplesync drop-slot [flags]   drop a retired server's replication slot
  triplesync version             print the version
  triplesync help                print this help

Run 'triplesync serve -h' for the server's flags and environment variables,
'triplesync drop-slot -h' for the slot's.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, stop, os.Args[1:], os.Stdout, os.Stderr, os.Getenv))
}

// run runs one command and returns the exit status: 0 on success, 1 when
// the command fails, 2 on bad usage. stop restores default signal handling
// once shutdown begins, so a second signal ends the process at once.
func run(ctx context.Context, stop func(), args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	switch args[0] {
	case "serve":
		return serve(ctx, stop, args[1:], stdout, stderr, getenv)
	case "drop-slot":
		return dropSlot(ctx, args[1:], stdout, stderr, getenv)
	case "version":
		fmt.Fprintln(stdout, versionString())
		return 0
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	}
	fmt.Fprintf(stderr, "triplesync: unknown command %q; run 'triplesync -h' for usage\n", args[0])
	return 2
}

func serve(ctx context.Context, stop func(), args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	m := NewMain()
	m.Stdout, m.Stderr, m.Getenv = stdout, stderr, getenv
	if err := m.ParseFlags(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintf(stderr, "triplesync: %s; run 'triplesync serve -h' for usage\n", oneLine(err))
		return 2
	}

	if err := m.Run(ctx); err != nil {
		closeCtx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
		defer cancel()
		_ = m.Close(closeCtx) // undo what Run started; its error is the one to report
		fmt.Fprintf(stderr, "triplesync: %s\n", oneLine(err))
		return 1
	}

	// SIGHUP reloads the permission rules.
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)

	code := 0
loop:
	for {
		select {
		case <-hup:
			if err := m.ReloadRules(); err != nil {
				m.logger.Error("reload rules: keeping the old ones", logKeyError, err)
			} else {
				m.logger.Info("rules reloaded", logKeyRules, m.Config.RulesFile)
			}
		case <-ctx.Done():
			m.logger.Info("shutting down")
			break loop
		case err := <-m.Err():
			m.logger.Error("serve", logKeyError, err)
			code = 1
			break loop
		}
	}
	stop()
	closeCtx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	if err := m.Close(closeCtx); err != nil {
		fmt.Fprintf(stderr, "triplesync: %s\n", oneLine(err))
		return 1
	}
	return code
}

// oneLine keeps an error on one line of stderr, whatever the error text
// (joined errors have newlines).
func oneLine(err error) string {
	return strings.Join(strings.Fields(strings.ReplaceAll(err.Error(), "\n", "; ")), " ")
}

func versionString() string {
	v, rev := version, ""
	if bi, ok := debug.ReadBuildInfo(); ok {
		if v == "" {
			v = bi.Main.Version
		}
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && len(s.Value) >= 12 {
				rev = " " + s.Value[:12]
			}
		}
	}
	if v == "" {
		v = "(devel)"
	}
	return fmt.Sprintf("triplesync %s%s %s", v, rev, runtime.Version())
}
