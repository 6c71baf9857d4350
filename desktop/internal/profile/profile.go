// Package profile keeps the desktop's saved agent connections: a name, the
// agent's URL and the pinned key fingerprint. The file lives in the user's
// config dir, is readable by the user alone, and is replaced atomically so a
// crash mid-write never loses the list. It never holds a password or a
// session token: those stay in memory.
package profile

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/lockstep-sync/lockstep/shared/input"
)

// Profile is one saved agent connection.
type Profile struct {
	Name        string `json:"name"`
	URL         string `json:"url"`
	Fingerprint string `json:"fingerprint"`
}

// Errors callers branch on.
var (
	// ErrNotFound: no profile has that name.
	ErrNotFound = errors.New("profile not found")
	// ErrInvalid: the profile cannot be saved as given.
	ErrInvalid = errors.New("invalid profile")
)

// fileFormat is the on-disk document; the version leaves room to migrate.
type fileFormat struct {
	Version  int       `json:"version"`
	Profiles []Profile `json:"profiles"`
}

const formatVersion = 1

// Store reads and writes one profiles file. Safe for concurrent use within
// one process (the app's single-instance lock covers the rest).
type Store struct {
	path string
	mu   sync.Mutex
}

// DefaultPath is <user config dir>/lockstep/profiles.json.
func DefaultPath() (string, error) {
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("find config dir for profiles: %w", err)
	}
	return filepath.Join(dir, "lockstep", "profiles.json"), nil
}

// New returns a store for the file at path; the file and its directory are
// created on the first Save.
func New(path string) *Store { return &Store{path: path} }

// Path is the file the store uses.
func (s *Store) Path() string { return s.path }

// List returns the saved profiles sorted by name; none when the file does
// not exist yet.
func (s *Store) List() ([]Profile, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.load()
}

// Get returns the named profile or ErrNotFound.
func (s *Store) Get(name string) (Profile, error) {
	list, err := s.List()
	if err != nil {
		return Profile{}, err
	}
	for _, p := range list {
		if p.Name == name {
			return p, nil
		}
	}
	return Profile{}, fmt.Errorf("get profile %q: %w", name, ErrNotFound)
}

// Save adds p, or replaces the profile with the same name. The caller
// normalises URL and fingerprint; Save checks only what the file needs.
func (s *Store) Save(p Profile) (Profile, error) {
	p.Name = strings.TrimSpace(p.Name)
	if err := p.validate(); err != nil {
		return Profile{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	list, err := s.load()
	if err != nil {
		return Profile{}, err
	}
	i := slices.IndexFunc(list, func(q Profile) bool { return q.Name == p.Name })
	if i >= 0 {
		list[i] = p
	} else {
		list = append(list, p)
	}
	if err := s.write(list); err != nil {
		return Profile{}, err
	}
	return p, nil
}

// Delete removes the named profile; deleting a missing one is ErrNotFound.
func (s *Store) Delete(name string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	list, err := s.load()
	if err != nil {
		return err
	}
	i := slices.IndexFunc(list, func(q Profile) bool { return q.Name == name })
	if i < 0 {
		return fmt.Errorf("delete profile %q: %w", name, ErrNotFound)
	}
	return s.write(slices.Delete(list, i, i+1))
}

// validate applies the checks the agent applies to the names it stores
// (shared/input), so an agent's label cannot spoof another in the list.
func (p Profile) validate() error {
	if _, err := input.Name(p.Name, input.MaxName); err != nil {
		return fmt.Errorf("%w: name %v", ErrInvalid, err)
	}
	switch {
	case p.URL == "":
		return fmt.Errorf("%w: URL is empty", ErrInvalid)
	case input.Bounded(p.URL, input.MaxURL) != nil:
		return fmt.Errorf("%w: URL %v", ErrInvalid, input.Bounded(p.URL, input.MaxURL))
	}
	return nil
}

func (s *Store) load() ([]Profile, error) {
	b, err := os.ReadFile(s.path)
	if errors.Is(err, os.ErrNotExist) {
		return []Profile{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read profiles: %w", err)
	}
	var f fileFormat
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, fmt.Errorf("read profiles %s: %w", s.path, err)
	}
	if f.Version > formatVersion {
		return nil, fmt.Errorf("read profiles %s: written by a newer version (format %d)", s.path, f.Version)
	}
	list := f.Profiles
	if list == nil {
		list = []Profile{}
	}
	slices.SortFunc(list, func(a, b Profile) int { return strings.Compare(a.Name, b.Name) })
	return list, nil
}

// write replaces the file atomically: a temporary file in the same
// directory, synced, then renamed over the old one.
func (s *Store) write(list []Profile) error {
	slices.SortFunc(list, func(a, b Profile) int { return strings.Compare(a.Name, b.Name) })
	b, err := json.MarshalIndent(fileFormat{Version: formatVersion, Profiles: list}, "", "  ")
	if err != nil {
		return fmt.Errorf("encode profiles: %w", err)
	}
	dir := filepath.Dir(s.path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create profiles dir: %w", err)
	}
	tmp, err := os.CreateTemp(dir, ".profiles-*.json")
	if err != nil {
		return fmt.Errorf("write profiles: %w", err)
	}
	defer os.Remove(tmp.Name()) // a no-op after the rename
	// CreateTemp already makes 0600 files; Chmod says so explicitly in case
	// a platform's default differs.
	if err := tmp.Chmod(0o600); err != nil && !errors.Is(err, errors.ErrUnsupported) {
		tmp.Close()
		return fmt.Errorf("write profiles: %w", err)
	}
	if _, err := tmp.Write(append(b, '\n')); err != nil {
		tmp.Close()
		return fmt.Errorf("write profiles: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("write profiles: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write profiles: %w", err)
	}
	if err := os.Rename(tmp.Name(), s.path); err != nil {
		return fmt.Errorf("write profiles: %w", err)
	}
	return nil
}
