package job

import (
	"os"

	"golang.org/x/sys/windows"
)

// OpenShared opens a file for reading with FILE_SHARE_DELETE. Without it,
// reading agent.log into a support package makes lumberjack's rename at
// rotation fail (and lose that write's lines), and a download in progress
// would stop the sweeper from removing an expired file.
func OpenShared(path string) (*os.File, error) {
	p, err := windows.UTF16PtrFromString(path)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: path, Err: err}
	}
	h, err := windows.CreateFile(p, windows.GENERIC_READ,
		windows.FILE_SHARE_READ|windows.FILE_SHARE_WRITE|windows.FILE_SHARE_DELETE,
		nil, windows.OPEN_EXISTING, windows.FILE_ATTRIBUTE_NORMAL, 0)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: path, Err: err}
	}
	return os.NewFile(uintptr(h), path), nil
}
