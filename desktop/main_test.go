package main

import (
	"context"
	"fmt"
	"testing"

	"github.com/lockstep-sync/lockstep/desktop/bridge"
)

func TestAppOptionsWiring(t *testing.T) {
	app := bridge.NewApp(productName, version)
	opts := appOptions(app)

	if opts.Title != productName {
		t.Errorf("Title = %q, want %q", opts.Title, productName)
	}
	if opts.AssetServer == nil || opts.AssetServer.Assets == nil {
		t.Error("AssetServer.Assets is not set; the window would be blank")
	}
	if opts.OnStartup == nil {
		t.Error("OnStartup is not set")
	}
	if len(opts.Bind) != 1 || opts.Bind[0] != app {
		t.Errorf("Bind = %v, want exactly the bridge.App", opts.Bind)
	}
	if opts.Linux == nil || opts.Linux.ProgramName != "lockstep" {
		t.Errorf("Linux.ProgramName not set to lockstep: %+v", opts.Linux)
	}
}

func TestStartupUsesRuntimeSeam(t *testing.T) {
	var got string
	orig := logInfof
	logInfof = func(_ context.Context, format string, args ...interface{}) {
		got = fmt.Sprintf(format, args...)
	}
	t.Cleanup(func() { logInfof = orig })

	// A context Wails never saw: the real runtime would log.Fatalf here.
	startup(context.Background())

	want := productName + " " + version + " started"
	if got != want {
		t.Fatalf("startup logged %q, want %q", got, want)
	}
}
