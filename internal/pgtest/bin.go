package pgtest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
)

// debianGlob is where Debian and Ubuntu install each major version; those
// directories are not on PATH.
const debianGlob = "/usr/lib/postgresql/*/bin"

// Binaries is one Postgres installation: the directory holding initdb and
// postgres, and the server version they report.
type Binaries struct {
	Dir     string // directory holding initdb and postgres
	Version string // e.g. "15.18"
	Major   int    // e.g. 15
}

// FindBinaries locates initdb and postgres. With dir set it looks there and
// nowhere else (that is how a caller forces a version, or, pointed at an
// empty directory, their absence). Otherwise it considers the directory of
// postgres on PATH and every /usr/lib/postgresql/*/bin and picks the highest
// major version, PATH first among equals. It returns an error wrapping
// [ErrNoBinaries] when nothing is found.
func FindBinaries(dir string) (Binaries, error) {
	if dir != "" {
		b, err := probe(dir)
		if err != nil {
			return Binaries{}, fmt.Errorf("%w in %s: %v", ErrNoBinaries, dir, err)
		}
		return b, nil
	}

	var dirs []string
	if p, err := exec.LookPath("postgres"); err == nil {
		if real, err := filepath.EvalSymlinks(p); err == nil {
			p = real
		}
		dirs = append(dirs, filepath.Dir(p))
	}
	globbed, _ := filepath.Glob(debianGlob) // the pattern is valid
	dirs = append(dirs, globbed...)

	var best Binaries
	for _, d := range dirs {
		b, err := probe(d)
		if err == nil && b.Major > best.Major {
			best = b
		}
	}
	if best.Dir == "" {
		return Binaries{}, fmt.Errorf("%w on PATH or in %s", ErrNoBinaries, debianGlob)
	}
	return best, nil
}

// probe checks that dir holds initdb and postgres and asks postgres for its
// version.
func probe(dir string) (Binaries, error) {
	for _, name := range []string{"initdb", "postgres"} {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			return Binaries{}, fmt.Errorf("no %s", name)
		}
		if fi.IsDir() || fi.Mode()&0o111 == 0 {
			return Binaries{}, fmt.Errorf("%s is not executable", name)
		}
	}
	out, err := exec.Command(filepath.Join(dir, "postgres"), "--version").Output()
	if err != nil {
		return Binaries{}, fmt.Errorf("postgres --version: %w", err)
	}
	version, major, err := parseVersion(string(out))
	if err != nil {
		return Binaries{}, err
	}
	return Binaries{Dir: dir, Version: version, Major: major}, nil
}

// parseVersion reads the output of `postgres --version`, e.g.
// "postgres (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)".
func parseVersion(out string) (version string, major int, err error) {
	_, rest, ok := strings.Cut(out, "(PostgreSQL) ")
	if !ok {
		return "", 0, fmt.Errorf("parse version %q", strings.TrimSpace(out))
	}
	version, _, _ = strings.Cut(strings.TrimSpace(rest), " ")
	digits := version
	if i := strings.IndexFunc(version, func(r rune) bool { return r < '0' || r > '9' }); i >= 0 {
		digits = version[:i] // "15.18" -> "15", "17beta1" -> "17"
	}
	major, err = strconv.Atoi(digits)
	if err != nil || major <= 0 {
		return "", 0, fmt.Errorf("parse version %q", strings.TrimSpace(out))
	}
	return version, major, nil
}
