//go:build !linux && !windows

package control

import (
	"errors"
	"net"
)

// peerUID is not implemented here: the agent runs as a service on Linux and
// Windows only, and the channel admits no one it cannot identify.
func peerUID(net.Conn) (int, error) {
	return 0, errors.New("the admin channel identifies peers on Linux and Windows only")
}
