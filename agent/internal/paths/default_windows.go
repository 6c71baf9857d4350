//go:build windows

package paths

import (
	"os"
	"path/filepath"
)

// DefaultDataDir is %ProgramData%\Lockstep, readable only by SYSTEM and
// administrators once the installer has set its ACL.
func DefaultDataDir() string {
	base := os.Getenv("ProgramData")
	if base == "" {
		base = `C:\ProgramData`
	}
	return filepath.Join(base, "Lockstep")
}
