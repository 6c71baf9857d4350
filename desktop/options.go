package main

import (
	"context"

	"github.com/lockstep-sync/lockstep/desktop/bridge"
	"github.com/lockstep-sync/lockstep/frontend"
	"github.com/wailsapp/wails/v2/pkg/options"
	"github.com/wailsapp/wails/v2/pkg/options/assetserver"
	"github.com/wailsapp/wails/v2/pkg/options/linux"
)

// singleInstanceID names the app for Wails' single-instance lock; a second
// start hands over to the running window instead of opening another one
// that would write the same profiles file.
const singleInstanceID = "sync.lockstep.desktop.7f3c2a91"

// appOptions is separate from main so a plain go test can check the wiring.
func appOptions(app *bridge.App, sh *shell) *options.App {
	return &options.App{
		Title:     productName,
		Width:     1200,
		Height:    800,
		MinWidth:  800,
		MinHeight: 560,
		AssetServer: &assetserver.Options{
			Assets: frontend.Assets,
		},
		OnStartup:  sh.startup,
		OnDomReady: sh.domReady,
		OnShutdown: func(context.Context) { bridge.Shutdown(app) },
		Bind:       []interface{}{app},
		// Rejected promises carry {kind, message} (docs/desktop-bridge.md).
		ErrorFormatter: formatError,
		SingleInstanceLock: &options.SingleInstanceLock{
			UniqueId:               singleInstanceID,
			OnSecondInstanceLaunch: sh.secondInstance,
		},
		Linux: &linux.Options{
			// WM_CLASS, so desktop files and window managers match "lockstep".
			ProgramName: "lockstep",
		},
	}
}

// formatError is Wails' ErrorFormatter. It returns an untyped nil for a nil
// error, never a typed nil pointer, so Wails does not report an error.
func formatError(err error) any {
	if e := bridge.FormatError(err); e != nil {
		return e
	}
	return nil
}
