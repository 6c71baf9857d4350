package main

import (
	"context"
	"log/slog"
	"sync/atomic"

	"github.com/wailsapp/wails/v2/pkg/options"
	wailsruntime "github.com/wailsapp/wails/v2/pkg/runtime"
)

// Wails' runtime functions call log.Fatalf when handed a context that did not
// come from Wails (OnStartup/OnDomReady), which would kill the whole test
// binary. This package reaches the runtime only through these variables, so
// tests can swap them.
var (
	logInfof       = wailsruntime.LogInfof
	eventsEmit     = wailsruntime.EventsEmit
	saveFileDialog = wailsruntime.SaveFileDialog
	openFileDialog = wailsruntime.OpenFileDialog
	windowShow     = wailsruntime.WindowShow
	windowUnmin    = wailsruntime.WindowUnminimise
)

// shell is the bridge's view of the Wails runtime: events and native
// dialogs. Until Wails hands over its context in OnStartup there is no
// window, so events are dropped and dialogs report cancel.
type shell struct {
	ctx atomic.Pointer[context.Context]
	log *slog.Logger // nil: quiet
}

// startup is Wails' OnStartup hook; its ctx is the only one the runtime accepts.
func (s *shell) startup(ctx context.Context) {
	s.ctx.Store(&ctx)
	logInfof(ctx, "%s %s started", productName, version)
}

func (s *shell) context() (context.Context, bool) {
	p := s.ctx.Load()
	if p == nil {
		return nil, false
	}
	return *p, true
}

// domReady is Wails' OnDomReady hook. The line it logs is how the Xvfb
// smoke test (build/smoke-desktop.sh) knows the UI loaded in the window.
func (s *shell) domReady(context.Context) {
	if s.log != nil {
		s.log.Info("UI loaded", "app", productName, "version", version)
	}
}

// Emit implements bridge.Emitter.
func (s *shell) Emit(event string, payload any) {
	if ctx, ok := s.context(); ok {
		eventsEmit(ctx, event, payload)
	}
}

// SaveFile implements bridge.Dialogs.
func (s *shell) SaveFile(title, defaultName string) (string, error) {
	ctx, ok := s.context()
	if !ok {
		return "", nil
	}
	return saveFileDialog(ctx, wailsruntime.SaveDialogOptions{Title: title, DefaultFilename: defaultName})
}

// OpenFile implements bridge.Dialogs; pattern is a Wails filter such as
// "*.csv;*.txt" (empty: any file).
func (s *shell) OpenFile(title, pattern string) (string, error) {
	ctx, ok := s.context()
	if !ok {
		return "", nil
	}
	o := wailsruntime.OpenDialogOptions{Title: title}
	if pattern != "" {
		o.Filters = []wailsruntime.FileFilter{{DisplayName: pattern, Pattern: pattern}}
	}
	return openFileDialog(ctx, o)
}

// secondInstance brings the running window forward when the app is
// started again (the single-instance lock keeps one window per user).
func (s *shell) secondInstance(options.SecondInstanceData) {
	if ctx, ok := s.context(); ok {
		windowUnmin(ctx)
		windowShow(ctx)
	}
}
