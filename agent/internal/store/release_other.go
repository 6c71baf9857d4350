//go:build !linux

package store

import "errors"

var errPageoutUnknown = errors.New("release table pages: only on Linux")

// releaseTables does nothing where the kernel's page reclaim cannot be
// asked for (release_linux.go says why it is on Linux).
func (s *Store) releaseTables() (int, error) { return 0, errPageoutUnknown }

// mappedBytes is unknown where releaseTables cannot act on it.
func mappedBytes() (int64, error) { return 0, errPageoutUnknown }
