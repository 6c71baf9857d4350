//go:build !windows

package control

import (
	"context"
	"errors"
	"net"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/lockstep-sync/lockstep/agent/internal/paths"
)

func TestListenAdmitsThisAccountAndReplacesAStaleSocket(t *testing.T) {
	dir, err := os.MkdirTemp("", "ctl") // short: socket paths are limited
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	layout := paths.Layout{Dir: dir}
	if _, err := Dial(t.Context(), layout); !errors.Is(err, ErrNotRunning) {
		t.Fatalf("dial without a socket: %v", err)
	}
	// A socket file a killed agent left: nobody listens.
	stale, err := net.Listen("unix", layout.AdminSocket())
	if err != nil {
		t.Fatal(err)
	}
	stale.(*net.UnixListener).SetUnlinkOnClose(false)
	stale.Close()
	if _, err := Dial(t.Context(), layout); !errors.Is(err, ErrNotRunning) {
		t.Fatalf("dial a stale socket: %v", err)
	}
	ln, err := Listen(layout, func(id Identity, err error) { t.Errorf("refused %v: %v", id, err) })
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Lstat(layout.AdminSocket())
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("socket mode: %v %v", fi, err)
	}
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := ln.Accept()
		if err == nil {
			accepted <- c
		}
	}()
	c, err := Dial(context.Background(), layout)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	got := (<-accepted).(*Conn)
	defer got.Close()
	uid := strconv.Itoa(os.Geteuid())
	want := uid
	if u, err := user.LookupId(uid); err == nil {
		want = u.Username
	}
	if got.Identity.Name != want || got.Identity.ID != "uid "+uid || got.Identity.Actor() != "local:"+want {
		t.Fatalf("identity %+v, want %s", got.Identity, want)
	}
	ln.Close()
	if _, err := os.Lstat(layout.AdminSocket()); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the socket outlived its listener: %v", err)
	}
}

func TestSocketPathTooLong(t *testing.T) {
	layout := paths.Layout{Dir: filepath.Join(t.TempDir(), "a-directory-name-long-enough-to-push-the-socket-path-past-the-unix-limit-of-104-bytes")}
	if _, err := Listen(layout, nil); err == nil {
		t.Fatal("listened on a socket path longer than Unix allows")
	}
	if _, err := Dial(t.Context(), layout); !errors.Is(err, ErrNotRunning) {
		t.Fatalf("dial a too-long path: %v", err)
	}
}
