//go:build !windows

package job

import "os"

// OpenShared opens a file for reading; on Unix a reader never stands in the
// way of a rename or a removal.
func OpenShared(path string) (*os.File, error) { return os.Open(path) }
