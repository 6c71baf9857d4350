package alert

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Marker is a file in the data directory that exists while the agent runs.
// A clean stop removes it; finding it at start means the previous run ended
// without stopping (a crash, a kill, a power loss).
type Marker struct{ Path string }

// Begin records that a run starts at now. unclean is true when the previous
// run left its marker; since is when that run started (zero if unreadable).
func (m Marker) Begin(now time.Time) (unclean bool, since time.Time, err error) {
	raw, err := os.ReadFile(m.Path)
	switch {
	case err == nil:
		unclean = true
		since, _ = time.Parse(time.RFC3339Nano, strings.TrimSpace(string(raw)))
	case !errors.Is(err, fs.ErrNotExist):
		return false, time.Time{}, fmt.Errorf("read the run marker: %w", err)
	}
	// Written beside and renamed, so a crash while writing leaves either
	// the old marker or the new one, never a torn file.
	tmp := m.Path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return unclean, since, fmt.Errorf("write the run marker: %w", err)
	}
	_, err = f.WriteString(now.UTC().Format(time.RFC3339Nano) + "\n")
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, m.Path)
	}
	if err != nil {
		os.Remove(tmp)
		return unclean, since, fmt.Errorf("write the run marker: %w", err)
	}
	syncDir(filepath.Dir(m.Path))
	return unclean, since, nil
}

// End records a clean stop.
func (m Marker) End() error {
	if err := os.Remove(m.Path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("remove the run marker: %w", err)
	}
	syncDir(filepath.Dir(m.Path))
	return nil
}

// syncDir makes a rename or removal durable where the platform allows it;
// Windows cannot open a directory for syncing, and the marker is advisory.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
}
