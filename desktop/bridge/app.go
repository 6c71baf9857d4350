// Package bridge holds the structs bound to the webview. They stay logic-free:
// validate, delegate to agentclient and profile, translate errors. Bound
// methods appear in JS as window.go.bridge.<Struct>.<Method> and in
// frontend/wailsjs/go/bridge; docs/desktop-bridge.md is the contract.
//
// Every exported method of App is callable from JS, so anything the Go side
// alone needs (shutdown, wiring) is a package function or a Config field.
package bridge

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/lockstep-sync/lockstep/desktop/internal/profile"
)

// Emitter delivers an event to the UI: the Wails runtime's EventsEmit in the
// app, a Server-Sent Events stream in the browser-test harness, a recorder
// in tests. It must not block for long: log batches are emitted from the
// batching goroutine.
type Emitter interface {
	Emit(event string, payload any)
}

// Dialogs are the native file dialogs. Both return "" when the user cancels.
type Dialogs interface {
	SaveFile(title, defaultName string) (string, error)
	OpenFile(title, pattern string) (string, error)
}

// Event names (docs/desktop-bridge.md).
const (
	EventConnState    = "conn:state"
	EventAgentState   = "agent:state"
	EventLogsBatch    = "logs:batch"
	EventEventsBatch  = "events:batch"
	EventEventsResync = "events:resync"
)

// Contract defaults: the UI is never sent more than one batch per stream
// every flushInterval, unless a log batch fills up first.
const (
	defaultFlushInterval = 250 * time.Millisecond
	defaultMaxBatch      = 200
	defaultCallTimeout   = 30 * time.Second
	defaultDialTimeout   = 20 * time.Second
	// maxPendingLogs bounds memory while the UI falls behind; lines beyond
	// it are dropped and counted, like the agent's own live tap does.
	maxPendingLogs = 10 * defaultMaxBatch
)

// Config wires an App. Zero durations and sizes mean the contract's values.
type Config struct {
	Name, Version string
	Profiles      *profile.Store
	Events        Emitter
	Dialogs       Dialogs
	Logger        *slog.Logger

	FlushInterval time.Duration
	MaxBatch      int
	CallTimeout   time.Duration
	DialTimeout   time.Duration
	// Reconnect bounds the client's backoff; tests shorten it.
	ReconnectMin, ReconnectMax time.Duration
}

// Info identifies the running desktop app.
type Info struct {
	Name    string `json:"name"`
	Version string `json:"version"`
}

// App is bound to the webview. Every exported method becomes callable from JS,
// so only the UI's API belongs here.
type App struct {
	cfg Config
	log *slog.Logger

	// emitMu orders state events with changes of the current agent
	// (setCurrent, emitState).
	emitMu sync.Mutex

	mu          sync.Mutex
	agents      map[string]*agentConn // by profile name: every agent dialled since start
	current     string                // the profile the pages act on ("" none)
	streams     map[string]*stream
	streamSeq   uint64
	shutdownNow bool
}

// New returns the binding.
func New(cfg Config) *App {
	if cfg.FlushInterval <= 0 {
		cfg.FlushInterval = defaultFlushInterval
	}
	if cfg.MaxBatch <= 0 {
		cfg.MaxBatch = defaultMaxBatch
	}
	if cfg.CallTimeout <= 0 {
		cfg.CallTimeout = defaultCallTimeout
	}
	if cfg.DialTimeout <= 0 {
		cfg.DialTimeout = defaultDialTimeout
	}
	if cfg.Events == nil {
		cfg.Events = discard{}
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &App{cfg: cfg, log: log, agents: map[string]*agentConn{}, streams: map[string]*stream{}}
}

// Shutdown disconnects every agent and stops every stream; the app calls it
// on exit. It is a function, not a method, so JS cannot call it.
func Shutdown(a *App) {
	a.mu.Lock()
	a.shutdownNow = true
	a.mu.Unlock()
	a.closeAll()
}

type discard struct{}

func (discard) Emit(string, any) {}

// AppInfo returns the product name and version for the UI's chrome.
func (a *App) AppInfo() Info {
	return Info{Name: a.cfg.Name, Version: a.cfg.Version}
}

// callCtx bounds one bridge call; no request blocks the UI longer (DESIGN.md).
func (a *App) callCtx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), a.cfg.CallTimeout)
}
