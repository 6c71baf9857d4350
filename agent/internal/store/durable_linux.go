package store

import (
	"os"

	"golang.org/x/sys/unix"
)

// groupCommits: on Linux, fdatasync of a file writes back the pages dirtied
// through Badger's shared mappings of it (msync is fsync there), so
// syncFiles covers what Badger's own per-transaction msync did.
const groupCommits = true

// fdatasync flushes a file's data, and only the metadata needed to read it
// back, to the disk.
func fdatasync(f *os.File) error { return unix.Fdatasync(int(f.Fd())) }
