//go:build !linux

package store

import "os"

// groupCommits is off where a sync of the file is not known to write back
// the pages of a shared mapping (Windows needs FlushViewOfFile first):
// Badger then syncs its log after every transaction itself.
const groupCommits = false

func fdatasync(f *os.File) error { return f.Sync() }

// logWatch is Linux's (durable_linux.go); syncFiles runs only there.
type logWatch struct{}

func watchLogs(string) *logWatch              { return nil }
func (*logWatch) changed() (changed, ok bool) { return true, false }
func (*logWatch) close()                      {}
