//go:build windows

package keyring

import (
	"fmt"
	"unsafe"

	"golang.org/x/sys/windows"

	"github.com/lockstep-sync/lockstep/agent/internal/paths"
)

// platformCustody on Windows wraps the key file with DPAPI in machine scope, so
// a copy of the data directory taken to another machine cannot be opened.
func platformCustody(dataDir string) Custody {
	return &fileCustody{
		path:   paths.Layout{Dir: dataDir}.MasterKeyDPAPI(),
		label:  "DPAPI key file",
		wrap:   dpapiProtect,
		unwrap: dpapiUnprotect,
	}
}

// checkPrivate relies on the data directory's ACL on Windows.
func checkPrivate(string, bool) error { return nil }

// syncDir is not possible on Windows; MoveFileEx already flushes the rename.
func syncDir(string) error { return nil }

func blob(b []byte) *windows.DataBlob {
	if len(b) == 0 {
		return &windows.DataBlob{}
	}
	return &windows.DataBlob{Size: uint32(len(b)), Data: &b[0]}
}

func takeBlob(out *windows.DataBlob) []byte {
	defer windows.LocalFree(windows.Handle(unsafe.Pointer(out.Data)))
	return append([]byte(nil), unsafe.Slice(out.Data, out.Size)...)
}

var entropy = []byte("lockstep master key v1")

func dpapiProtect(plain []byte) ([]byte, error) {
	var out windows.DataBlob
	name, _ := windows.UTF16PtrFromString("Lockstep master key")
	err := windows.CryptProtectData(blob(plain), name, blob(entropy), 0, nil,
		windows.CRYPTPROTECT_UI_FORBIDDEN|windows.CRYPTPROTECT_LOCAL_MACHINE, &out)
	if err != nil {
		return nil, fmt.Errorf("CryptProtectData: %w", err)
	}
	return takeBlob(&out), nil
}

func dpapiUnprotect(wrapped []byte) ([]byte, error) {
	var out windows.DataBlob
	err := windows.CryptUnprotectData(blob(wrapped), nil, blob(entropy), 0, nil,
		windows.CRYPTPROTECT_UI_FORBIDDEN, &out)
	if err != nil {
		return nil, fmt.Errorf("CryptUnprotectData: %w", err)
	}
	return takeBlob(&out), nil
}
