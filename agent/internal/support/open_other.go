//go:build !windows

package support

import "os"

// openShared opens a file for reading; on Unix a reader never stands in the
// way of a rename or a removal.
func openShared(path string) (*os.File, error) { return os.Open(path) }
