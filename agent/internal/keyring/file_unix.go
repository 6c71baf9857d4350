//go:build !windows

package keyring

import (
	"fmt"
	"os"

	"github.com/lockstep-sync/lockstep/agent/internal/paths"
)

func platformCustody(dataDir string) Custody {
	return &fileCustody{path: paths.Layout{Dir: dataDir}.MasterKey(), label: "key file"}
}

// checkPrivate refuses a default key file others can read, like ssh does with
// private keys: a key readable by other users protects nothing. Files the
// administrator points at explicitly (container secrets are often 0444) are
// accepted as they are.
func checkPrivate(path string, explicit bool) error {
	if explicit {
		return nil
	}
	fi, err := os.Stat(path)
	if err != nil {
		return err
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		return fmt.Errorf("mode %04o lets other users read it; run chmod 600 %s", perm, path)
	}
	return nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
