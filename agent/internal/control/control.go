// Package control is the local admin channel: how the command line reaches
// a running agent on the same machine, to verify the audit chain, build a
// support package, import a license or make a backup while the agent holds
// the store.
//
// The channel is the agent's own JSON-RPC API, carried over a Unix socket in
// the data dir (mode 0600 in a 0700 directory) or, on Windows, a named pipe
// whose ACL admits SYSTEM, the Administrators group and the service's
// account. The operating system says who connected: on Linux the socket's
// peer credentials, on Windows the client process's token. Only root (an
// administrator on Windows) and the agent's own account are admitted; they
// act as the admin role under the actor "local:<account>", and every
// action is audited under that actor as it would be for a logged-in
// administrator.
package control

import (
	"errors"
	"net"
)

// ErrNotRunning means no agent listens on the channel: the agent is
// stopped (a socket left by a killed agent counts as none).
var ErrNotRunning = errors.New("the agent is not running")

// ErrRefused means the agent runs but did not admit this account on its
// channel.
var ErrRefused = errors.New("the agent is running, but its admin channel admits only root (administrators on Windows) and the agent's own account: run this command as one of them")

// Identity is the operating-system account at the other end of a local
// connection.
type Identity struct {
	// Name is the account's name (root, lockstep, DOMAIN\name) or, when it
	// has none, its numeric id.
	Name string
	// ID is the uid on Unix and the SID on Windows.
	ID string
}

// Actor is the identity as audit records name it.
func (i Identity) Actor() string { return "local:" + i.Name }

// Remote describes the connection for audit records' remote field.
func (i Identity) Remote() string { return "local (" + i.ID + ")" }

// Conn is an admitted connection and who made it.
type Conn struct {
	net.Conn
	Identity Identity
}

// RefusedFunc hears of a connection the channel refused: an account that
// is neither root nor the agent's own, or one whose identity could not be
// read.
type RefusedFunc func(id Identity, err error)

// listener admits connections by their peer's identity.
type listener struct {
	net.Listener
	refused RefusedFunc
	cleanup func()
}

// Accept returns the next admitted connection as a *Conn; refused ones are
// closed and reported.
func (l *listener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		id, err := admit(c)
		if err != nil {
			c.Close()
			if l.refused != nil {
				l.refused(id, err)
			}
			continue
		}
		return &Conn{Conn: c, Identity: id}, nil
	}
}

func (l *listener) Close() error {
	err := l.Listener.Close()
	if l.cleanup != nil {
		l.cleanup()
	}
	return err
}
