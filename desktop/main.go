// Command lockstep is the desktop admin app: a Wails window whose UI is the
// React app in frontend/, reaching Go only through the structs in bridge/.
//
// Build with -tags desktop,production (plus webkit2_41 where only WebKitGTK 4.1
// exists). Untagged, Wails compiles to a stub so go vet/test need no cgo.
package main

import (
	"fmt"
	"log/slog"
	"os"

	"github.com/lockstep-sync/lockstep/desktop/bridge"
	"github.com/lockstep-sync/lockstep/desktop/internal/profile"
	"github.com/wailsapp/wails/v2"
)

const productName = "Lockstep"

// version is stamped at release time: -ldflags "-X main.version=1.2.3".
var version = "dev"

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "lockstep:", err)
		os.Exit(1)
	}
}

func run() error {
	path, err := profile.DefaultPath()
	if err != nil {
		return err
	}
	// Connection events go to stderr; the client never logs tokens or
	// passwords.
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	sh := &shell{log: log}
	app := bridge.New(bridge.Config{
		Name:     productName,
		Version:  version,
		Profiles: profile.New(path),
		Events:   sh,
		Dialogs:  sh,
		Logger:   log,
	})
	return wails.Run(appOptions(app, sh))
}
