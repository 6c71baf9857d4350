package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"testing"

	"github.com/lockstep-sync/lockstep/desktop/bridge"
	"github.com/wailsapp/wails/v2/pkg/options"
	wailsruntime "github.com/wailsapp/wails/v2/pkg/runtime"
)

func TestAppOptionsWiring(t *testing.T) {
	app := bridge.New(bridge.Config{Name: productName, Version: version})
	opts := appOptions(app, &shell{})

	if opts.Title != productName {
		t.Errorf("Title = %q, want %q", opts.Title, productName)
	}
	if opts.AssetServer == nil || opts.AssetServer.Assets == nil {
		t.Error("AssetServer.Assets is not set; the window would be blank")
	}
	if opts.OnStartup == nil || opts.OnShutdown == nil {
		t.Error("OnStartup or OnShutdown is not set")
	}
	if len(opts.Bind) != 1 || opts.Bind[0] != app {
		t.Errorf("Bind = %v, want exactly the bridge.App", opts.Bind)
	}
	if opts.Linux == nil || opts.Linux.ProgramName != "lockstep" {
		t.Errorf("Linux.ProgramName not set to lockstep: %+v", opts.Linux)
	}
	if opts.SingleInstanceLock == nil || opts.SingleInstanceLock.UniqueId == "" || opts.SingleInstanceLock.OnSecondInstanceLaunch == nil {
		t.Errorf("single-instance lock not configured: %+v", opts.SingleInstanceLock)
	}
	if opts.ErrorFormatter == nil {
		t.Fatal("ErrorFormatter is not set")
	}
}

func TestErrorFormatterShape(t *testing.T) {
	got, err := json.Marshal(formatError(fmt.Errorf("connect: %w", &bridge.Error{Kind: bridge.KindNotConnected, Message: "Not connected."})))
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != `{"kind":"not_connected","message":"Not connected."}` {
		t.Fatalf("formatted = %s", got)
	}
	got, _ = json.Marshal(formatError(context.Canceled))
	if string(got) != `{"kind":"canceled","message":"context canceled"}` {
		t.Fatalf("formatted = %s", got)
	}
	if v := formatError(nil); v != nil {
		t.Fatalf("formatError(nil) = %#v, want untyped nil", v)
	}
}

// The shell reaches the runtime only with Wails' own context; before
// startup it drops events and reports dialogs as cancelled.
func TestShellUsesRuntimeSeams(t *testing.T) {
	var logged, emitted string
	var saveTitle string
	restore := swap(&logInfof, func(_ context.Context, format string, args ...interface{}) { logged = fmt.Sprintf(format, args...) })
	defer restore()
	defer swap(&eventsEmit, func(_ context.Context, name string, data ...interface{}) {
		b, _ := json.Marshal(data)
		emitted = name + " " + string(b)
	})()
	defer swap(&saveFileDialog, func(_ context.Context, o wailsruntime.SaveDialogOptions) (string, error) {
		saveTitle = o.Title + "|" + o.DefaultFilename
		return "/tmp/x", nil
	})()
	defer swap(&openFileDialog, func(_ context.Context, o wailsruntime.OpenDialogOptions) (string, error) {
		if len(o.Filters) != 1 || o.Filters[0].Pattern != "*.csv" {
			return "", errors.New("filter not passed")
		}
		return "/tmp/y.csv", nil
	})()
	shown := 0
	defer swap(&windowShow, func(context.Context) { shown++ })()
	defer swap(&windowUnmin, func(context.Context) { shown++ })()

	sh := &shell{}
	sh.Emit("conn:state", 1)
	if p, err := sh.SaveFile("t", "n"); p != "" || err != nil {
		t.Fatalf("dialog before startup: %q %v", p, err)
	}
	if emitted != "" {
		t.Fatal("emitted before startup")
	}

	// A context Wails never saw: the real runtime would log.Fatalf here.
	sh.startup(context.Background())
	if want := productName + " " + version + " started"; logged != want {
		t.Fatalf("startup logged %q, want %q", logged, want)
	}
	sh.Emit("conn:state", map[string]string{"state": "connected"})
	if emitted != `conn:state [{"state":"connected"}]` {
		t.Fatalf("emitted %q", emitted)
	}
	if p, err := sh.SaveFile("Save", "a.zip"); p != "/tmp/x" || err != nil || saveTitle != "Save|a.zip" {
		t.Fatalf("save dialog: %q %v %q", p, err, saveTitle)
	}
	if p, err := sh.OpenFile("Open", "*.csv"); p != "/tmp/y.csv" || err != nil {
		t.Fatalf("open dialog: %q %v", p, err)
	}
	sh.secondInstance(options.SecondInstanceData{})
	if shown != 2 {
		t.Fatalf("second instance did not raise the window (%d calls)", shown)
	}
}

func swap[T any](p *T, v T) func() {
	old := *p
	*p = v
	return func() { *p = old }
}

// The browser-test harness serves the bridge without authentication; it
// must never be part of the shipped app.
func TestHarnessIsNotLinked(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "-tags", "desktop,production", ".").Output()
	if err != nil {
		t.Skipf("go list unavailable: %v", err)
	}
	for _, dep := range strings.Fields(string(out)) {
		if strings.Contains(dep, "/desktop/internal/harness") || strings.Contains(dep, "/desktop/cmd/") {
			t.Fatalf("the desktop app links %s", dep)
		}
	}
}
