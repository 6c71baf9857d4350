package app

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/lockstep-sync/lockstep/agent/internal/alert"
	"github.com/lockstep-sync/lockstep/agent/internal/audit"
	"github.com/lockstep-sync/lockstep/agent/internal/auth"
	"github.com/lockstep-sync/lockstep/agent/internal/backup"
	"github.com/lockstep-sync/lockstep/agent/internal/cert"
	"github.com/lockstep-sync/lockstep/agent/internal/config"
	"github.com/lockstep-sync/lockstep/agent/internal/connector"
	"github.com/lockstep-sync/lockstep/agent/internal/events"
	"github.com/lockstep-sync/lockstep/agent/internal/health"
	"github.com/lockstep-sync/lockstep/agent/internal/hostinfo"
	"github.com/lockstep-sync/lockstep/agent/internal/keyring"
	"github.com/lockstep-sync/lockstep/agent/internal/license"
	"github.com/lockstep-sync/lockstep/agent/internal/logging"
	"github.com/lockstep-sync/lockstep/agent/internal/metrics"
	"github.com/lockstep-sync/lockstep/agent/internal/paths"
	"github.com/lockstep-sync/lockstep/agent/internal/rpc"
	"github.com/lockstep-sync/lockstep/agent/internal/secret"
	"github.com/lockstep-sync/lockstep/agent/internal/store"
	"github.com/lockstep-sync/lockstep/agent/internal/support"
	"github.com/lockstep-sync/lockstep/agent/internal/syncer"
	"github.com/lockstep-sync/lockstep/agent/internal/system"
	"github.com/lockstep-sync/lockstep/shared/apitype"
	"github.com/lockstep-sync/lockstep/shared/protocol"
)

// ShutdownTimeout bounds a clean stop: SIGTERM to exit within 10 s even with
// hung connections.
const ShutdownTimeout = 8 * time.Second

// App is a running agent's components.
type App struct {
	opts      Options
	layout    paths.Layout
	boot      config.Bootstrap
	logs      *logging.Logging
	log       zerolog.Logger
	store     *store.Store
	sealer    *secret.Sealer
	key       keyring.Key // for backups: sealing under it, or carrying it in a passphrase archive
	tlsCert   tls.Certificate
	startedAt time.Time

	instanceID string
	audit      *audit.Log
	bus        *events.Bus
	auth       *auth.Service
	systems    *system.Service
	settings   *config.Settings
	support    *support.Manager
	backups    *backup.Manager
	engine     *syncer.Engine
	health     *health.Monitor
	alerts     *alert.Service
	license    *license.Manager
	conns      *connectors
	api        *rpc.Server
	metrics    *metrics.Metrics

	mu        sync.Mutex
	listener  net.Listener
	listening chan struct{} // closed once listener is bound
}

// Open loads the bootstrap config and key, opens the store and logging. It
// writes nothing to the store when the key is wrong.
func Open(o Options) (*App, error) {
	limitMemory(o)
	layout, err := paths.New(o.DataDir)
	if err != nil {
		return nil, err
	}
	boot, err := config.Read(layout.Config())
	if err != nil {
		return nil, err
	}
	if l := o.Listen; l != "" {
		if err := config.ValidateListen(l); err != nil {
			return nil, err
		}
		boot.Listen = l
	}
	tlsCert, err := cert.Load(layout.Cert(), layout.CertKey())
	if err != nil {
		return nil, err
	}
	// The key is checked before logging opens its files, so a wrong key
	// leaves the data directory exactly as it was.
	key, err := resolveKey(o, layout)
	if err != nil {
		return nil, err
	}
	logs, err := logging.New(logging.Options{Dir: layout.Logs(), Level: zerolog.InfoLevel, Console: o.Console, RingSize: 10000})
	if err != nil {
		return nil, fmt.Errorf("open logs: %w", err)
	}
	st, sealer, err := openStore(layout, key, badgerLogger{logs.Logger("store")})
	if err != nil {
		logs.Close()
		return nil, err
	}
	a := &App{
		opts: o, layout: layout, boot: boot, logs: logs, log: logs.Logger("agent"),
		store: st, sealer: sealer, key: key, tlsCert: tlsCert, startedAt: o.now(),
		listening: make(chan struct{}),
	}
	if err := a.compose(); err != nil {
		a.close()
		return nil, err
	}
	return a, nil
}

// compose builds the services over the open store, in dependency order.
func (a *App) compose() error {
	var err error
	if a.instanceID, err = a.store.Meta("instance_id"); err != nil {
		return fmt.Errorf("read instance id: %w", err)
	}
	now := a.opts.now
	a.audit = audit.New(a.store, now)
	a.bus = events.New(4096, now)
	a.auth = auth.New(a.store, a.audit, auth.Options{Now: now, Bus: a.bus})
	a.systems = system.New(a.store, a.sealer, a.audit, a.bus, now)
	if a.settings, err = config.LoadSettings(a.store, a.audit, a.bus); err != nil {
		return err
	}
	if err := a.settings.UseSealer(a.sealer); err != nil {
		return err
	}
	a.settings.OnChange(func(s apitype.Settings) {
		if lvl, err := zerolog.ParseLevel(s.LogLevel); err == nil {
			a.logs.SetLevel(lvl)
		}
	})
	if a.support, err = support.NewManager(support.Options{
		Dir: a.layout.Support(), Sources: a.supportSources(), Now: a.opts.Now,
		Progress: func(p apitype.SupportProgress) { a.bus.Publish(apitype.EventSupportProgress, p) },
	}); err != nil {
		return err
	}
	if a.backups, err = backup.NewManager(backup.ManagerOptions{
		Dir: a.layout.Backups(), Audit: a.audit,
		Source:   backup.Source{Store: a.store, Layout: a.layout, MasterKey: a.key, Version: Version, Now: a.opts.Now},
		Progress: func(p apitype.BackupProgress) { a.bus.Publish(apitype.EventBackupProgress, p) },
	}); err != nil {
		return err
	}
	a.settings.OnChange(func(s apitype.Settings) {
		a.support.SetRetention(time.Duration(s.SupportRetentionHours) * time.Hour)
	})
	if a.license, err = license.New(a.store, a.audit, a.bus, license.Options{Now: a.opts.Now, Version: Version,
		InstanceID: a.instanceID, Log: a.logs.Logger("license")}); err != nil {
		return err
	}
	a.conns = &connectors{open: map[string]cachedConnector{}, app: a, nowFn: a.opts.Now}
	a.systems.OnChange(a.conns.release)
	a.engine = syncer.New(syncer.Deps{
		Store: a.store, Open: a.conns.get, Bus: a.bus, Audit: a.audit, Log: a.logs.Logger("sync"), Now: a.opts.Now,
		Allowed:   a.syncAllowed,
		PublicURL: func() string { return a.settings.Get().PublicURL },
		Seal: func(scope, field string, v []byte) ([]byte, error) {
			return a.sealer.Seal(scope, "process", scope, field, v)
		},
		Unseal: func(scope, field string, sealed []byte) ([]byte, error) {
			return a.sealer.Open(scope, "process", scope, field, sealed)
		},
		Shred: a.sealer.Shred,
		SeeUsers: func(system string, users []connector.User) {
			refs := make([]license.UserRef, 0, len(users))
			for _, u := range users {
				key := u.ID
				if key == "" {
					key = strings.ToLower(u.Email)
				}
				if key != "" {
					refs = append(refs, license.UserRef{System: system, Key: key})
				}
			}
			if err := a.license.SeeUsers(refs); err != nil {
				a.log.Warn().Err(err).Msg("count users for the license")
			}
		},
		Systems: a.systemNames,
		SystemURL: func(id string) string {
			if rec, err := a.systems.Get(id); err == nil {
				return rec.URL
			}
			return ""
		},
	})
	a.settings.OnChange(func(s apitype.Settings) {
		a.engine.SetRetention(syncer.Retention{MaxAge: time.Duration(s.RunRetentionDays) * 24 * time.Hour, MaxRuns: s.RunRetentionRuns})
	})
	a.health = health.New(a.engine, a.systems, a.bus, a.logs.Logger("health"))
	a.systems.OnTested(a.health.Tested)
	host, _ := os.Hostname()
	if a.alerts, err = alert.New(alert.Options{Store: a.store, Sealer: a.sealer, Audit: a.audit, Bus: a.bus,
		Log: a.logs.Logger("notify"), Now: a.opts.Now, Names: a.names, GroupWait: a.opts.NotifyGroupWait,
		Agent: alert.Agent{InstanceID: a.instanceID, Host: host, Version: Version}}); err != nil {
		return err
	}
	a.api = rpc.New(rpc.Deps{
		Version: Version, InstanceID: a.instanceID, StartedAt: a.startedAt, DataDir: a.layout.Dir,
		Log: a.logs.Logger("api"), Auth: a.auth, Systems: a.systems, Audit: a.audit, Events: a.bus,
		Logs: a.logs, Settings: a.settings, Support: a.support, Backups: a.backups, Engine: a.engine, License: a.license, Host: a.hostInfo,
		Connector: a.conns.get, Health: a.health, Notifications: a.alerts, AfterFunc: a.opts.AfterFunc,
		Limits: rpc.Limits{
			LoginTimeout:                 time.Duration(a.boot.Connections.LoginTimeoutSeconds) * time.Second,
			MaxUnauthenticated:           a.boot.Connections.MaxUnauthenticated,
			MaxUnauthenticatedPerAddress: a.boot.Connections.MaxUnauthenticatedPerAddress,
		},
	})
	a.metrics = metrics.New(a.bus, metrics.Sources{
		Backlog: a.engine.Views().Backlog,
		Processes: func() (map[string]string, error) {
			list, err := a.engine.Processes().List()
			names := map[string]string{}
			for _, p := range list {
				names[p.ID] = p.Name
			}
			return names, err
		},
		Systems:        a.systemNames,
		Sessions:       a.auth.Live,
		Connections:    a.api.Connections,
		LogSubscribers: a.logs.Tap().Subscribers,
		StoreSize:      a.store.Size,
	}, a.logs.Logger("metrics"))
	return nil
}

// systemNames maps system ids to their names.
func (a *App) systemNames() (map[string]string, error) {
	list, err := a.systems.List()
	names := map[string]string{}
	for _, s := range list {
		names[s.ID] = s.Name
	}
	return names, err
}

// names resolves a process's or system's name for notification messages.
func (a *App) names(subject, id string) string {
	switch subject {
	case "process":
		if p, err := a.engine.Processes().Get(id); err == nil {
			return p.Name
		}
	case "system":
		if s, err := a.systems.Get(id); err == nil {
			return s.Name
		}
	}
	return ""
}

// Addr is the address the TLS listener is bound to, once Run has started it.
func (a *App) Addr() net.Addr {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.listener == nil {
		return nil
	}
	return a.listener.Addr()
}

// Listening is closed once Run has bound the listener (Addr is then set).
func (a *App) Listening() <-chan struct{} { return a.listening }

func (a *App) handler() http.Handler {
	mux := http.NewServeMux()
	// healthz reveals nothing but liveness: no version, no instance id.
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Write([]byte("ok"))
	})
	mux.Handle(protocol.Path, a.api)
	mux.Handle("GET /metrics", a.metricsHandler())
	mux.HandleFunc("POST /v1/hooks/{process}/{side}", a.webhook)
	return mux
}

// Run serves until ctx ends, then stops every component within the bound.
func (a *App) Run(ctx context.Context) error {
	defer a.close()
	ln, err := net.Listen("tcp", a.boot.Listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", a.boot.Listen, err)
	}
	a.mu.Lock()
	a.listener = ln
	a.mu.Unlock()
	close(a.listening)

	srv := &http.Server{
		Handler: a.handler(),
		TLSConfig: &tls.Config{
			MinVersion:   tls.VersionTLS13,
			Certificates: []tls.Certificate{a.tlsCert},
		},
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          log.New(zerologWriter{a.logs.Logger("http")}, "", 0),
	}
	// The run marker tells the next start whether this run ended cleanly.
	marker := alert.Marker{Path: a.layout.RunMarker()}
	if unclean, since, err := marker.Begin(a.opts.now()); err != nil {
		a.log.Warn().Err(err).Msg("cannot keep the run marker; an unclean shutdown will go unnoticed")
	} else if unclean {
		a.log.Warn().Time("previous_start", since).Msg("the previous run did not stop cleanly (crash, kill or power loss)")
		a.alerts.Notice(alert.CrashNotice(since, a.opts.now()))
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	errc := make(chan error, 16)
	// Every long-lived component is Serve(ctx) error; one cancel stops all.
	for _, c := range []struct {
		name  string
		serve func(context.Context) error
	}{{"store", a.store.Serve}, {"auth", a.auth.Serve}, {"support", a.support.Serve}, {"backups", a.backups.Serve}, {"sync", a.engine.Serve}, {"retention", (&syncer.Pruner{Engine: a.engine}).Serve}, {"health", a.health.Serve}, {"license", a.license.Serve},
		{"metrics", a.metrics.Serve}, {"notify", a.alerts.Serve}, {"memory", a.trimMemory}} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := c.serve(ctx); err != nil {
				errc <- fmt.Errorf("%s: %w", c.name, err)
				cancel()
			}
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		if err := srv.ServeTLS(ln, "", ""); err != nil && !errors.Is(err, http.ErrServerClosed) {
			errc <- fmt.Errorf("serve TLS: %w", err)
			cancel()
		}
	}()
	local := a.serveLocal(&wg)
	a.log.Info().Str("listen", ln.Addr().String()).Str("version", Version).Str("data_dir", a.layout.Dir).Msg("agent started")

	<-ctx.Done()
	a.log.Info().Msg("agent stopping")
	sctx, scancel := context.WithTimeout(context.Background(), ShutdownTimeout)
	defer scancel()
	// Hijacked WebSocket connections are not closed by Shutdown: close
	// them first, with 1001, so clients reconnect to the next agent.
	a.api.Shutdown()
	if err := srv.Shutdown(sctx); err != nil {
		srv.Close()
	}
	if local != nil && local.Shutdown(sctx) != nil {
		local.Close()
	}
	wg.Wait()
	if err := marker.End(); err != nil {
		a.log.Warn().Err(err).Msg("the next start will report an unclean shutdown")
	}
	a.log.Info().Msg("agent stopped")
	select {
	case err := <-errc:
		return err
	default:
		return nil
	}
}

func (a *App) close() {
	if a.conns != nil {
		a.conns.closeAll()
	}
	if a.support != nil {
		a.support.Close()
	}
	if a.backups != nil {
		a.backups.Close()
	}
	a.store.Close()
	a.logs.Close()
}

func (a *App) hostInfo(ctx context.Context) (apitype.HostInfo, error) {
	info, err := hostinfo.Snapshot(ctx, a.layout.Dir, a.startedAt)
	out := apitype.HostInfo{OS: info.OS, Platform: info.Platform, PlatformVersion: info.PlatformVersion, Kernel: info.Kernel,
		Arch: info.Arch, Hostname: info.Hostname, CPUModel: info.CPUModel, CPUCores: info.CPUCores, CPUPercent: info.CPUPercent,
		MemTotal: info.MemTotal, MemAvailable: info.MemAvailable, Threads: info.Threads, Goroutines: info.Goroutines,
		RSS: info.RSS, DiskFree: info.DiskFree, UptimeSeconds: info.UptimeSeconds}
	if err != nil {
		out.Errors = []string{err.Error()}
	}
	return out, nil
}

// zerologWriter routes net/http's internal errors (TLS handshake failures
// from scanners, mostly) to the structured log at debug level.
type zerologWriter struct{ log zerolog.Logger }

func (w zerologWriter) Write(p []byte) (int, error) {
	w.log.Debug().Msg(string(p))
	return len(p), nil
}

// Fingerprint prints the pinned value of an initialised data dir.
func Fingerprint(dataDir string) (string, error) {
	layout, err := paths.New(dataDir)
	if err != nil {
		return "", err
	}
	return cert.FileFingerprint(layout.Cert())
}

// badgerLogger sends Badger's messages to the structured log; Badger writes to
// stderr otherwise, which a Windows service loses.
type badgerLogger struct{ log zerolog.Logger }

func (b badgerLogger) Errorf(f string, args ...interface{}) {
	b.log.Error().Msgf(strings.TrimSpace(f), args...)
}
func (b badgerLogger) Warningf(f string, args ...interface{}) {
	b.log.Warn().Msgf(strings.TrimSpace(f), args...)
}
func (b badgerLogger) Infof(f string, args ...interface{}) {
	b.log.Debug().Msgf(strings.TrimSpace(f), args...)
}
func (b badgerLogger) Debugf(f string, args ...interface{}) {
	b.log.Trace().Msgf(strings.TrimSpace(f), args...)
}

// syncAllowed asks the license whether a process's systems may sync now.
func (a *App) syncAllowed(p *syncer.Process) error {
	var kinds []string
	for _, id := range []string{p.A.System, p.B.System} {
		rec, err := a.systems.Get(id)
		if err != nil {
			return err
		}
		kinds = append(kinds, rec.Kind)
	}
	return a.license.SyncAllowed(kinds)
}

// webhook receives a work system's change notification. The signature is
// its authentication; the answer says nothing beyond accepted or refused.
func (a *App) webhook(w http.ResponseWriter, r *http.Request) {
	body := http.MaxBytesReader(w, r.Body, 1<<20)
	log := a.logs.Logger("webhook")
	n, err := a.engine.HandleWebhook(r, r.PathValue("process"), syncer.Side(r.PathValue("side")), body)
	switch {
	case err == nil:
		w.WriteHeader(http.StatusNoContent)
		log.Debug().Str("process", r.PathValue("process")).Int("entities", n).Msg("webhook accepted")
	case errors.Is(err, syncer.ErrHookUnauthorized):
		log.Warn().Str("process", r.PathValue("process")).Str("remote", r.RemoteAddr).Msg("webhook refused: bad signature")
		http.Error(w, "unauthorized", http.StatusUnauthorized)
	case errors.Is(err, syncer.ErrNotFound):
		http.NotFound(w, r)
	default:
		log.Warn().Err(err).Str("process", r.PathValue("process")).Msg("webhook not accepted")
		http.Error(w, "bad request", http.StatusBadRequest)
	}
}
