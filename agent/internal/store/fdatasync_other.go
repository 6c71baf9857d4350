//go:build !unix || darwin

package store

import "os"

// fdatasync is a full sync where the system offers no fdatasync.
func fdatasync(f *os.File) error { return f.Sync() }
