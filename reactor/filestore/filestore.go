// Package filestore is a reactor.Storage in a directory, for native
// clients: what a Go program's client must not lose (its pending
// mutations) survives the process, and its cached query results let it
// answer at once after a restart.
//
// Every record is one file: settings/<key>, queries/<query-id>.json,
// mutations/<mutation-id>.json. A write never rewrites a file in place:
// each record goes to a temporary file in the same directory, is
// fsynced, and is renamed over its name; then the directories are
// fsynced. A crash leaves each record either as it was or as written —
// never torn — plus perhaps stray temporary files, which Load ignores and
// removes. A batch is not atomic as a whole: puts are renamed before
// deletes are made, so a crash in between leaves more, never less.
//
// One Storage (one process) per directory: nothing locks it against a
// second writer.
package filestore

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/triplesync/triplesync/reactor"
)

// The directories of the three kinds of record.
const (
	dirSettings  = "settings"
	dirQueries   = "queries"
	dirMutations = "mutations"
)

// tmpPrefix starts the names of temporary files; no record's name starts
// with it.
const tmpPrefix = ".tmp-"

// Storage is a [reactor.Storage] in a directory. It is safe for
// concurrent use.
type Storage struct {
	dir string

	mu  sync.Mutex
	seq uint64 // numbers temporary files

	// beforeRename, when set (by tests), is called before the i-th rename
	// of a Write; an error stops the Write there, as a crash would.
	beforeRename func(i int) error
}

var _ reactor.Storage = (*Storage)(nil)

// New returns a Storage keeping its records under dir, which it creates
// (with its parents) if missing.
func New(dir string) (*Storage, error) {
	for _, d := range []string{dirSettings, dirQueries, dirMutations} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o700); err != nil {
			return nil, fmt.Errorf("filestore: create %s: %w", d, err)
		}
	}
	return &Storage{dir: dir}, nil
}

// Dir returns the directory the storage keeps its records in.
func (s *Storage) Dir() string { return s.dir }

// Load implements [reactor.Storage]. An undecodable cached query is
// removed and skipped (it is only a cache); an undecodable mutation fails
// the load with an error wrapping [reactor.ErrCorrupt] naming the file,
// rather than dropping a write.
func (s *Storage) Load(ctx context.Context) (*reactor.State, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	st := &reactor.State{Settings: map[string][]byte{}}
	err := s.each(dirSettings, func(name string, data []byte) error {
		key, err := unescape(name)
		if err != nil {
			return nil // not a name this package wrote
		}
		st.Settings[key] = data
		return nil
	})
	if err != nil {
		return nil, err
	}
	err = s.each(dirQueries, func(name string, data []byte) error {
		var q reactor.CachedQuery
		if err := json.Unmarshal(data, &q); err != nil {
			_ = os.Remove(filepath.Join(s.dir, dirQueries, name))
			return nil
		}
		st.Queries = append(st.Queries, q)
		return nil
	})
	if err != nil {
		return nil, err
	}
	err = s.each(dirMutations, func(name string, data []byte) error {
		var m reactor.Mutation
		if err := json.Unmarshal(data, &m); err != nil {
			if !errors.Is(err, reactor.ErrCorrupt) {
				err = fmt.Errorf("%w: %v", reactor.ErrCorrupt, err)
			}
			return fmt.Errorf("filestore: %s: %w", filepath.Join(dirMutations, name), err)
		}
		st.Mutations = append(st.Mutations, m)
		return nil
	})
	if err != nil {
		return nil, err
	}
	slices.SortFunc(st.Queries, func(a, b reactor.CachedQuery) int { return cmp.Compare(a.ID, b.ID) })
	reactor.SortBySeq(st.Mutations) // equal Seqs (tabs) in directory order, every time
	return st, nil
}

// each calls fn with the name and content of every record file in dir,
// removing temporary files left by an interrupted write.
func (s *Storage) each(dir string, fn func(name string, data []byte) error) error {
	path := filepath.Join(s.dir, dir)
	entries, err := os.ReadDir(path)
	if err != nil {
		return fmt.Errorf("filestore: read %s: %w", dir, err)
	}
	for _, e := range entries {
		name := e.Name()
		if strings.HasPrefix(name, tmpPrefix) {
			_ = os.Remove(filepath.Join(path, name))
			continue
		}
		if !e.Type().IsRegular() {
			continue
		}
		data, err := os.ReadFile(filepath.Join(path, name))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return fmt.Errorf("filestore: read %s: %w", filepath.Join(dir, name), err)
		}
		if err := fn(name, data); err != nil {
			return err
		}
	}
	return nil
}

// rec is one record of a Write.
type rec struct {
	dir, name string
	data      []byte
	tmp       string
}

// Write implements [reactor.Storage] as the package documentation says.
// The context is checked before anything is written; once renaming has
// begun the Write finishes.
func (s *Storage) Write(ctx context.Context, b *reactor.Batch) error {
	var puts []rec
	for _, st := range b.PutSettings {
		puts = append(puts, rec{dir: dirSettings, name: escape(st.Key), data: st.Value})
	}
	for _, q := range b.PutQueries {
		data, err := json.Marshal(q)
		if err != nil {
			return fmt.Errorf("filestore: encode query %s: %w", q.ID, err)
		}
		puts = append(puts, rec{dir: dirQueries, name: escape(q.ID) + ".json", data: data})
	}
	for _, m := range b.PutMutations {
		data, err := json.Marshal(m)
		if err != nil {
			return fmt.Errorf("filestore: encode mutation %s: %w", m.ID, err)
		}
		puts = append(puts, rec{dir: dirMutations, name: escape(m.ID) + ".json", data: data})
	}
	var dels []rec
	for _, k := range b.DeleteSettings {
		dels = append(dels, rec{dir: dirSettings, name: escape(k)})
	}
	for _, k := range b.DeleteQueries {
		dels = append(dels, rec{dir: dirQueries, name: escape(k) + ".json"})
	}
	for _, k := range b.DeleteMutations {
		dels = append(dels, rec{dir: dirMutations, name: escape(k) + ".json"})
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return err
	}
	renamed := 0
	defer func() { // on failure, temporary files not renamed are removed
		for _, r := range puts[renamed:] {
			if r.tmp != "" {
				_ = os.Remove(r.tmp)
			}
		}
	}()
	touched := map[string]bool{}
	if err := s.writeTemps(puts); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	for i := range puts {
		r := &puts[i]
		if s.beforeRename != nil {
			if err := s.beforeRename(i); err != nil {
				return err
			}
		}
		if err := os.Rename(r.tmp, filepath.Join(s.dir, r.dir, r.name)); err != nil {
			return fmt.Errorf("filestore: %w", err)
		}
		renamed = i + 1
		touched[r.dir] = true
	}
	for _, r := range dels {
		err := os.Remove(filepath.Join(s.dir, r.dir, r.name))
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("filestore: %w", err)
		}
		touched[r.dir] = true
	}
	for _, d := range slices.Sorted(maps.Keys(touched)) {
		if err := syncDir(filepath.Join(s.dir, d)); err != nil {
			return err
		}
	}
	return nil
}

// syncParallel bounds the temporary files written and fsynced at once:
// a disk serves concurrent flushes together, so a batch of many records
// costs a few flushes' time rather than one per record.
const syncParallel = 16

// writeTemps writes each put to a new temporary file next to its record,
// fsynced, setting its tmp path.
func (s *Storage) writeTemps(puts []rec) error {
	for i := range puts {
		s.seq++
		puts[i].tmp = filepath.Join(s.dir, puts[i].dir, tmpPrefix+puts[i].name+"."+strconv.Itoa(os.Getpid())+"."+strconv.FormatUint(s.seq, 10))
	}
	errs := make([]error, len(puts))
	sem := make(chan struct{}, syncParallel)
	var wg sync.WaitGroup
	for i := range puts {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			errs[i] = writeTemp(puts[i].tmp, puts[i].data)
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			return fmt.Errorf("filestore: write %s: %w", filepath.Join(puts[i].dir, puts[i].name), err)
		}
	}
	return nil
}

// writeTemp writes data to a new file at path and fsyncs it; on failure
// the file is removed.
func writeTemp(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = os.Remove(path)
	}
	return err
}

// syncDir makes a directory's entries (renames, removals) durable.
// Windows cannot open a directory for syncing and needs no such step.
func syncDir(path string) error {
	if runtime.GOOS == "windows" {
		return nil
	}
	d, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("filestore: %w", err)
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("filestore: sync %s: %w", path, err)
	}
	return nil
}

// escape turns a key into a file name: letters, digits, '-' and '_' stay,
// every other byte becomes '%' and two hex digits, so no key can name a
// path outside its directory or a temporary file.
func escape(key string) string {
	var b strings.Builder
	for i := 0; i < len(key); i++ {
		c := key[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' {
			b.WriteByte(c)
			continue
		}
		fmt.Fprintf(&b, "%%%02X", c)
	}
	if b.Len() == 0 {
		return "%"
	}
	return b.String()
}

// unescape reverses escape.
func unescape(name string) (string, error) {
	if name == "%" {
		return "", nil
	}
	var b bytes.Buffer
	for i := 0; i < len(name); i++ {
		if name[i] != '%' {
			b.WriteByte(name[i])
			continue
		}
		if i+3 > len(name) {
			return "", fmt.Errorf("filestore: bad name %q", name)
		}
		v, err := strconv.ParseUint(name[i+1:i+3], 16, 8)
		if err != nil {
			return "", fmt.Errorf("filestore: bad name %q", name)
		}
		b.WriteByte(byte(v))
		i += 2
	}
	return b.String(), nil
}
