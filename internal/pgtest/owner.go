package pgtest

import (
	"errors"
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// serverUser is the system user initdb and postgres run as when this process
// is root (they refuse to run as root). Debian's postgresql package creates
// it.
const serverUser = "postgres"

// serverCredential returns the credential to run the Postgres binaries with:
// nil when not root, else the postgres user's. NoSetGroups keeps setgroups(2)
// out of the way, which some containers forbid.
func serverCredential() (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup(serverUser)
	if err != nil {
		return nil, fmt.Errorf("pgtest: running as root needs a %q system user to run postgres as: %w", serverUser, err)
	}
	uid, err1 := strconv.ParseUint(u.Uid, 10, 32)
	gid, err2 := strconv.ParseUint(u.Gid, 10, 32)
	if err := errors.Join(err1, err2); err != nil {
		return nil, fmt.Errorf("pgtest: user %s: %w", serverUser, err)
	}
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), NoSetGroups: true}, nil
}

// reachable reports, as an error wrapping [ErrUnreachable], the first of dir
// and its parents that cred cannot search. Checking up front turns initdb's
// "could not change directory" into a message naming the culprit. Missing
// directories pass: they will be created searchable (0755).
func reachable(dir string, cred *syscall.Credential) error {
	for d := dir; ; d = filepath.Dir(d) {
		fi, err := os.Stat(d)
		if errors.Is(err, os.ErrNotExist) && d != filepath.Dir(d) {
			continue
		}
		if err != nil {
			return fmt.Errorf("pgtest: %w", err)
		}
		st, ok := fi.Sys().(*syscall.Stat_t)
		if !ok {
			return nil
		}
		mode := fi.Mode().Perm()
		if !(mode&0o001 != 0 || st.Uid == cred.Uid && mode&0o100 != 0 || st.Gid == cred.Gid && mode&0o010 != 0) {
			return fmt.Errorf("%w: %s is mode %#o, owner %d", ErrUnreachable, d, mode, st.Uid)
		}
		if d == filepath.Dir(d) {
			return nil
		}
	}
}

// checkPidFile fails with [ErrAlreadyRunning] when postmaster.pid names a
// live postgres. A lock file left by a crash whose pid now belongs to some
// other program is removed, since postgres would refuse it too; one naming a
// dead pid is left for postgres, which replaces it.
func checkPidFile(dataDir string) error {
	path := filepath.Join(dataDir, "postmaster.pid")
	data, err := os.ReadFile(path)
	if err != nil {
		return nil // no lock file: nothing runs there
	}
	first, _, _ := strings.Cut(string(data), "\n")
	pid, err := strconv.Atoi(strings.TrimSpace(first))
	if err != nil || pid <= 0 {
		return nil // torn or empty; postgres judges it
	}
	if err := syscall.Kill(pid, 0); err != nil && !errors.Is(err, syscall.EPERM) {
		return nil // dead
	}
	comm, _ := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "comm"))
	if strings.TrimSpace(string(comm)) != "postgres" && len(comm) > 0 {
		if err := os.Remove(path); err != nil {
			return fmt.Errorf("pgtest: remove stale %s: %w", path, err)
		}
		return nil
	}
	return fmt.Errorf("%w: pid %d holds %s (stop it, or use another data directory)", ErrAlreadyRunning, pid, dataDir)
}
