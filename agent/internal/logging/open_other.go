//go:build !windows

package logging

import "os"

// openShared opens a log file for reading.
func openShared(path string) (*os.File, error) { return os.Open(path) }
