//go:build !windows

package control

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"os/user"
	"strconv"
	"syscall"

	"github.com/lockstep-sync/lockstep/agent/internal/paths"
)

// maxSocketPath is the longest socket path every Unix accepts (sun_path
// is 104 bytes on the BSDs and macOS, 108 on Linux, with a terminating NUL).
const maxSocketPath = 103

// Address is where the channel of the data dir listens.
func Address(layout paths.Layout) string { return layout.AdminSocket() }

// Listen opens the channel of the data dir. The caller holds the store, so
// no other agent serves this data dir and a socket file already there is
// one a killed agent left: it is replaced.
func Listen(layout paths.Layout, refused RefusedFunc) (net.Listener, error) {
	path := layout.AdminSocket()
	if len(path) > maxSocketPath {
		return nil, fmt.Errorf("admin channel: the socket path %s is %d bytes, longer than Unix allows (%d): use a shorter data dir path", path, len(path), maxSocketPath)
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("admin channel: remove old socket: %w", err)
	}
	// The socket is created with the umask's mode and made 0600 at once;
	// the data dir is 0700, so no other account reaches it even before the
	// chmod (changing the umask instead would affect every goroutine's
	// files, the umask being per process).
	ln, err := net.Listen("unix", path)
	if err != nil {
		return nil, fmt.Errorf("admin channel: %w", err)
	}
	ln.(*net.UnixListener).SetUnlinkOnClose(true)
	if err := os.Chmod(path, 0o600); err != nil {
		ln.Close()
		return nil, fmt.Errorf("admin channel: %w", err)
	}
	return &listener{Listener: ln, refused: refused}, nil
}

// Dial connects to the channel of a running agent; ErrNotRunning when no
// agent listens there.
func Dial(ctx context.Context, layout paths.Layout) (net.Conn, error) {
	path := layout.AdminSocket()
	if len(path) > maxSocketPath {
		return nil, ErrNotRunning // the agent could not have opened it either
	}
	var d net.Dialer
	c, err := d.DialContext(ctx, "unix", path)
	switch {
	case err == nil:
		return c, nil
	case errors.Is(err, fs.ErrNotExist), errors.Is(err, syscall.ECONNREFUSED):
		return nil, ErrNotRunning
	case errors.Is(err, fs.ErrPermission):
		return nil, fmt.Errorf("the agent is running, but its admin channel %s admits only root and the agent's own account: run this command as one of them", path)
	}
	return nil, fmt.Errorf("connect to the agent's admin channel: %w", err)
}

// admit reads the peer's uid and admits root and the agent's own account.
func admit(c net.Conn) (Identity, error) {
	uid, err := peerUID(c)
	if err != nil {
		return Identity{Name: "unknown", ID: "uid unknown"}, err
	}
	id := Identity{Name: strconv.Itoa(uid), ID: "uid " + strconv.Itoa(uid)}
	if u, err := user.LookupId(strconv.Itoa(uid)); err == nil {
		id.Name = u.Username
	}
	if uid != 0 && uid != os.Geteuid() {
		return id, fmt.Errorf("uid %d is neither root nor the agent's account (uid %d)", uid, os.Geteuid())
	}
	return id, nil
}

// Self is the identity of this process, for the command line's own actions
// when the agent is stopped and it opens the store itself.
func Self() Identity {
	uid := os.Geteuid()
	id := Identity{Name: strconv.Itoa(uid), ID: "uid " + strconv.Itoa(uid)}
	if u, err := user.LookupId(strconv.Itoa(uid)); err == nil {
		id.Name = u.Username
	}
	return id
}
