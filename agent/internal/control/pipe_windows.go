package control

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"

	"github.com/Microsoft/go-winio"
	"golang.org/x/sys/windows"

	"github.com/lockstep-sync/lockstep/agent/internal/paths"
)

// Address is the named pipe of the data dir: one per data dir, named by a
// hash of its path (pipe names have no directories to live in).
func Address(layout paths.Layout) string {
	sum := sha256.Sum256([]byte(strings.ToLower(layout.Dir)))
	return `\\.\pipe\lockstep-agent-` + hex.EncodeToString(sum[:8])
}

// Well-known SIDs the channel trusts.
const (
	sidSystem         = "S-1-5-18"
	sidLocalService   = "S-1-5-19"
	sidNetworkService = "S-1-5-20"
	sidAdministrators = "S-1-5-32-544"
	prefixServiceSID  = "S-1-5-80-" // NT SERVICE\<name> virtual accounts
)

// Listen opens the channel's named pipe. Its ACL (protected: nothing is
// inherited) grants access to SYSTEM, the Administrators group and the
// account the agent runs as, and nobody else; go-winio creates the first
// instance with FILE_FLAG_FIRST_PIPE_INSTANCE, so a process that took the
// name first makes Listen fail rather than receive the clients.
func Listen(layout paths.Layout, refused RefusedFunc) (net.Listener, error) {
	self, err := processSID(windows.CurrentProcess())
	if err != nil {
		return nil, fmt.Errorf("admin channel: %w", err)
	}
	sddl := fmt.Sprintf("D:P(A;;GA;;;%s)(A;;GA;;;%s)(A;;GA;;;%s)", sidSystem, sidAdministrators, self)
	ln, err := winio.ListenPipe(Address(layout), &winio.PipeConfig{SecurityDescriptor: sddl})
	if err != nil {
		return nil, fmt.Errorf("admin channel: %w", err)
	}
	return &listener{Listener: ln, refused: refused}, nil
}

// Dial connects to the channel of a running agent and checks that the
// process serving the pipe runs as a service account, an administrator or
// this very user, so a pipe squatted by another user is never told
// anything (a backup passphrase, say).
func Dial(ctx context.Context, layout paths.Layout) (net.Conn, error) {
	c, err := winio.DialPipeContext(ctx, Address(layout))
	switch {
	case err == nil:
	case errors.Is(err, os.ErrNotExist), errors.Is(err, windows.ERROR_FILE_NOT_FOUND):
		return nil, ErrNotRunning
	case errors.Is(err, os.ErrPermission), errors.Is(err, windows.ERROR_ACCESS_DENIED):
		return nil, errors.New("the agent is running, but its admin channel admits only administrators and the agent's own account: run this command as one of them (an elevated prompt)")
	default:
		return nil, fmt.Errorf("connect to the agent's admin channel: %w", err)
	}
	if err := checkServer(c); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

type handle interface{ Fd() uintptr }

func checkServer(c net.Conn) error {
	h, ok := c.(handle)
	if !ok {
		return errors.New("admin channel: not a named pipe")
	}
	var pid uint32
	if err := windows.GetNamedPipeServerProcessId(windows.Handle(h.Fd()), &pid); err != nil {
		return fmt.Errorf("admin channel: identify the agent: %w", err)
	}
	sid, admin, err := pidIdentity(pid)
	if err != nil {
		return fmt.Errorf("admin channel: identify the agent: %w", err)
	}
	self, err := processSID(windows.CurrentProcess())
	if err != nil {
		return fmt.Errorf("admin channel: %w", err)
	}
	if !trustedService(sid) && !admin && sid != self {
		return fmt.Errorf("admin channel: the pipe is served by account %s, not by a service account: refusing to use it", sid)
	}
	return nil
}

func trustedService(sid string) bool {
	return sid == sidSystem || sid == sidLocalService || sid == sidNetworkService || strings.HasPrefix(sid, prefixServiceSID)
}

// admit reads the client process's account from its token and admits
// SYSTEM, members of Administrators (elevated) and the agent's own account.
func admit(c net.Conn) (Identity, error) {
	unknown := Identity{Name: "unknown", ID: "sid unknown"}
	h, ok := c.(handle)
	if !ok {
		return unknown, errors.New("not a named pipe connection")
	}
	var pid uint32
	if err := windows.GetNamedPipeClientProcessId(windows.Handle(h.Fd()), &pid); err != nil {
		return unknown, fmt.Errorf("read the client's process id: %w", err)
	}
	sid, admin, err := pidIdentity(pid)
	if err != nil {
		return unknown, err
	}
	id := Identity{Name: accountName(sid), ID: sid}
	self, err := processSID(windows.CurrentProcess())
	if err != nil {
		return id, err
	}
	if sid != sidSystem && sid != self && !admin {
		return id, fmt.Errorf("%s is neither an administrator nor the agent's account", id.Name)
	}
	return id, nil
}

// pidIdentity returns the SID of a process's user and whether its token
// holds the Administrators group enabled (an elevated administrator).
func pidIdentity(pid uint32) (string, bool, error) {
	p, err := windows.OpenProcess(windows.PROCESS_QUERY_LIMITED_INFORMATION, false, pid)
	if err != nil {
		return "", false, fmt.Errorf("open process %d: %w", pid, err)
	}
	defer windows.CloseHandle(p)
	var tok windows.Token
	if err := windows.OpenProcessToken(p, windows.TOKEN_QUERY, &tok); err != nil {
		return "", false, fmt.Errorf("open the token of process %d: %w", pid, err)
	}
	defer tok.Close()
	u, err := tok.GetTokenUser()
	if err != nil {
		return "", false, fmt.Errorf("read the token of process %d: %w", pid, err)
	}
	admins, err := windows.CreateWellKnownSid(windows.WinBuiltinAdministratorsSid)
	if err != nil {
		return "", false, err
	}
	admin, err := tok.IsMember(admins)
	if err != nil {
		// IsMember wants an impersonation token; a primary token's groups
		// are read directly.
		admin = tokenHasEnabledGroup(tok, admins)
	}
	return u.User.Sid.String(), admin, nil
}

func tokenHasEnabledGroup(tok windows.Token, group *windows.SID) bool {
	groups, err := tok.GetTokenGroups()
	if err != nil {
		return false
	}
	for _, g := range groups.AllGroups() {
		if g.Attributes&windows.SE_GROUP_ENABLED != 0 && g.Sid.Equals(group) {
			return true
		}
	}
	return false
}

func processSID(p windows.Handle) (string, error) {
	var tok windows.Token
	if err := windows.OpenProcessToken(p, windows.TOKEN_QUERY, &tok); err != nil {
		return "", fmt.Errorf("open this process's token: %w", err)
	}
	defer tok.Close()
	u, err := tok.GetTokenUser()
	if err != nil {
		return "", fmt.Errorf("read this process's token: %w", err)
	}
	return u.User.Sid.String(), nil
}

func accountName(sid string) string {
	s, err := windows.StringToSid(sid)
	if err != nil {
		return sid
	}
	account, domain, _, err := s.LookupAccount("")
	if err != nil {
		return sid
	}
	if domain != "" {
		return domain + `\` + account
	}
	return account
}

// Self is the identity of this process, for the command line's own actions
// when the agent is stopped and it opens the store itself.
func Self() Identity {
	sid, err := processSID(windows.CurrentProcess())
	if err != nil {
		return Identity{Name: "unknown", ID: "sid unknown"}
	}
	return Identity{Name: accountName(sid), ID: sid}
}
