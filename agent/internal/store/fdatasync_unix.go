//go:build unix && !darwin

package store

import (
	"os"

	"golang.org/x/sys/unix"
)

// fdatasync flushes a file's data, and only the metadata needed to read it
// back, to the disk.
func fdatasync(f *os.File) error { return unix.Fdatasync(int(f.Fd())) }
