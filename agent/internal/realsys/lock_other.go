//go:build !unix

package realsys

import "errors"

// lockFile: the realsys scripts are Debian shell scripts; elsewhere the
// systems cannot be started at all.
func lockFile(string) (func(), error) {
	return nil, errors.New("the real systems run only on Debian/Ubuntu")
}
