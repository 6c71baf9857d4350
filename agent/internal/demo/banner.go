package demo

import (
	"fmt"
	"io"
	"net"
	"os"
	"runtime"
	"strconv"
)

// Banner is what the demo prints once the agent listens.
type Banner struct {
	// Bound is the address the agent is bound to, not the one it was
	// given: with --listen 127.0.0.1:0 the kernel picks the port, and
	// scripts read it from the banner.
	Bound       net.Addr
	Fingerprint string
	State       State
	// PasswordFile is where the administrator's password came from when
	// the demo did not generate it.
	PasswordFile string
	Help, Eng    *Sandbox
	DataDir      string
	// Display says whether a desktop app could open a window here; when
	// not, the banner says how to look at the demo from a workstation.
	Display bool
}

// Write prints the banner.
func (b Banner) Write(w io.Writer) {
	fmt.Fprintf(w, "\nLockstep demo\n  agent:       wss://%s/v1/ws\n  fingerprint: %s\n", dialAddr(b.Bound), b.Fingerprint)
	if b.State.AdminPassword != "" {
		fmt.Fprintf(w, "  login:       admin / %s\n", b.State.AdminPassword)
	} else {
		fmt.Fprintf(w, "  login:       admin (password from %s)\n", b.PasswordFile)
	}
	fmt.Fprintf(w, "  Helpdesk:    %s (token %s)\n  Engineering: %s (token %s)\n  data dir:    %s\nStop with Ctrl-C.\n\n",
		b.Help.URL, b.Help.Token, b.Eng.URL, b.Eng.Token, b.DataDir)
	if !b.Display {
		fmt.Fprint(w, headlessHelp(b.Bound))
	}
}

// HasDisplay says whether a desktop app could open a window here.
func HasDisplay() bool {
	return runtime.GOOS == "windows" || runtime.GOOS == "darwin" || os.Getenv("DISPLAY") != "" || os.Getenv("WAYLAND_DISPLAY") != ""
}

// dialAddr is a bound address as a client on this machine dials it: an
// agent listening on every interface is reached at localhost.
func dialAddr(bound net.Addr) string {
	tcp, ok := bound.(*net.TCPAddr)
	if !ok {
		return bound.String()
	}
	host := tcp.IP.String()
	if tcp.IP.IsUnspecified() {
		host = "localhost"
	}
	return net.JoinHostPort(host, strconv.Itoa(tcp.Port))
}

// headlessHelp tells a newcomer on a server without a display how to look
// at the demo from the desktop app on a workstation.
func headlessHelp(bound net.Addr) string {
	port := "7443"
	loopback := true
	if tcp, ok := bound.(*net.TCPAddr); ok {
		port = strconv.Itoa(tcp.Port)
		loopback = tcp.IP.IsLoopback()
	}
	if !loopback {
		return fmt.Sprintf("No display here, so no desktop app was started. On your workstation, open the\n"+
			"desktop app, add the agent https://THIS-HOST:%s, compare the fingerprint above and sign in.\n\n", port)
	}
	return fmt.Sprintf("No display here, so no desktop app was started. The demo listens on this machine only.\n"+
		"To look at it from the desktop app on your workstation, either:\n"+
		"  - tunnel over SSH:  ssh -N -L %[1]s:127.0.0.1:%[1]s USER@THIS-HOST\n"+
		"    then add the agent 127.0.0.1:%[1]s in the desktop app, compare the fingerprint above and sign in;\n"+
		"  - or listen on the network: make demo DEMO_LISTEN=0.0.0.0:%[1]s (on a trusted network),\n"+
		"    then add the agent https://THIS-HOST:%[1]s.\n\n", port)
}
