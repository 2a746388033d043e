package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	iofs "io/fs"

	"github.com/triplesync/triplesync/internal/server"
)

// dropSlot is `triplesync drop-slot`: it drops the replication slot of a
// server instance retired for good. A permanent slot keeps every WAL
// segment after its position until someone consumes or drops it, so a
// database whose server is gone would otherwise fill its disk.
func dropSlot(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	fs := flag.NewFlagSet("triplesync drop-slot", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	env := func(s setting, def string) string {
		if v := getenv(s.env); v != "" {
			return v
		}
		return def
	}
	var dsn, instance, dataDir string
	fs.StringVar(&dsn, settingDatabaseURL.flag, env(settingDatabaseURL, ""), "Postgres URL of the server's database (env DATABASE_URL)")
	fs.StringVar(&instance, settingInstanceID.flag, env(settingInstanceID, ""), "the retired server's instance id (env TRIPLESYNC_INSTANCE_ID)")
	fs.StringVar(&dataDir, settingDataDir.flag, env(settingDataDir, DefaultDataDir), "its data directory, holding instance-id when --instance-id is not given (env TRIPLESYNC_DATA_DIR)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(stdout, "Usage: triplesync drop-slot [flags]\n\n"+
				"Drops the replication slot of a server instance that will not come back.\n"+
				"While a server is stopped its slot keeps all WAL written since; a server\n"+
				"that is only restarting must keep it.\n\nFlags:\n")
			fs.SetOutput(stdout)
			fs.PrintDefaults()
			return 0
		}
		fmt.Fprintf(stderr, "triplesync: %s; run 'triplesync drop-slot -h' for usage\n", oneLine(err))
		return 2
	}
	if fs.NArg() > 0 || dsn == "" {
		fmt.Fprintln(stderr, "triplesync: drop-slot needs DATABASE_URL (a managed Postgres goes away with its data directory, slot included)")
		return 2
	}
	if instance == "" {
		var err error
		if instance, err = server.ReadInstanceID(dataDir); err != nil {
			if errors.Is(err, errNotExist) {
				fmt.Fprintf(stderr, "triplesync: no --instance-id given and no %s/%s: nothing to drop\n", dataDir, server.InstanceFile)
				return 1
			}
			fmt.Fprintf(stderr, "triplesync: %s\n", oneLine(err))
			return 1
		}
	}
	slot, err := server.DropSlot(ctx, dsn, instance)
	if err != nil {
		fmt.Fprintf(stderr, "triplesync: drop slot %s: %s\n", slot, oneLine(err))
		return 1
	}
	fmt.Fprintf(stdout, "dropped replication slot %s (if it existed)\n", slot)
	return 0
}

var errNotExist = iofs.ErrNotExist
