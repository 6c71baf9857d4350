package main

import (
	"github.com/lockstep-sync/lockstep/desktop/bridge"
	"github.com/lockstep-sync/lockstep/frontend"
	"github.com/wailsapp/wails/v2/pkg/options"
	"github.com/wailsapp/wails/v2/pkg/options/assetserver"
	"github.com/wailsapp/wails/v2/pkg/options/linux"
)

// appOptions is separate from main so a plain go test can check the wiring.
func appOptions(app *bridge.App) *options.App {
	return &options.App{
		Title:     productName,
		Width:     1200,
		Height:    800,
		MinWidth:  800,
		MinHeight: 560,
		AssetServer: &assetserver.Options{
			Assets: frontend.Assets,
		},
		OnStartup: startup,
		Bind:      []interface{}{app},
		Linux: &linux.Options{
			// WM_CLASS, so desktop files and window managers match "lockstep".
			ProgramName: "lockstep",
		},
	}
}
