package server

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// InstanceFile is the file in the data directory that holds the server's
// instance id when none is configured.
const InstanceFile = "instance-id"

// LoadInstanceID returns the instance id kept in dataDir/instance-id,
// creating the directory and a random id on first use. The id names the
// server's replication slot, so it must survive restarts: a server that
// came back with a new id would leave its old slot retaining WAL forever.
func LoadInstanceID(dataDir string) (string, error) {
	id, err := ReadInstanceID(dataDir)
	if err == nil || !errors.Is(err, fs.ErrNotExist) {
		return id, err
	}
	var raw [8]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", fmt.Errorf("instance id: %w", err)
	}
	id = hex.EncodeToString(raw[:])
	if err := os.MkdirAll(dataDir, 0o755); err != nil {
		return "", fmt.Errorf("instance id: %w", err)
	}
	// Write to a temporary file and link it into place, so a crash never
	// leaves an empty id behind.
	tmp, err := os.CreateTemp(dataDir, InstanceFile+".*")
	if err != nil {
		return "", fmt.Errorf("instance id: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.WriteString(id + "\n"); err != nil {
		tmp.Close()
		return "", fmt.Errorf("instance id: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return "", fmt.Errorf("instance id: %w", err)
	}
	// Link fails if the file exists: of two servers starting together on
	// one directory, one id wins.
	if err := os.Link(tmp.Name(), filepath.Join(dataDir, InstanceFile)); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return LoadInstanceID(dataDir) // another process won the race
		}
		return "", fmt.Errorf("instance id: %w", err)
	}
	return id, nil
}

// ReadInstanceID returns the instance id kept in dataDir/instance-id; the
// error wraps fs.ErrNotExist when there is none.
func ReadInstanceID(dataDir string) (string, error) {
	path := filepath.Join(dataDir, InstanceFile)
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("instance id: %w", err)
	}
	id := strings.TrimSpace(string(b))
	if id == "" {
		return "", fmt.Errorf("instance id: %s is empty", path)
	}
	return id, nil
}
