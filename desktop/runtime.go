package main

import (
	"context"

	wailsruntime "github.com/wailsapp/wails/v2/pkg/runtime"
)

// Wails' runtime functions call log.Fatalf when handed a context that did not
// come from Wails (OnStartup/OnDomReady), which would kill the whole test
// binary. This package reaches the runtime only through these variables, so
// tests can swap them.
var logInfof = wailsruntime.LogInfof

// startup is Wails' OnStartup hook; its ctx is the only one the runtime accepts.
func startup(ctx context.Context) {
	logInfof(ctx, "%s %s started", productName, version)
}
