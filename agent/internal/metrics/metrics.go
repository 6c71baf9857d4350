// Package metrics is the agent's /metrics endpoint in the Prometheus text
// format (prometheus/client_golang).
//
// What it counts comes from three places: the sync engine's events on the
// bus (runs started and finished, with their counts), the connectors' HTTP
// layer through connector.HTTPObserver (statuses, rate limits, waits), and
// gauges read at scrape time (queue depth, parked items, sessions, log
// subscribers, store size).
//
// Labels carry ids and the names an administrator gave (process, system),
// a status code, a reason or a kind of change: never a secret, a field
// value, an entity's key or title, or anything a work system sent.
package metrics

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/rs/zerolog"

	"github.com/lockstep-sync/lockstep/agent/internal/connector"
	"github.com/lockstep-sync/lockstep/agent/internal/events"
	"github.com/lockstep-sync/lockstep/shared/apitype"
)

// Sources are what the gauges read at scrape time; a nil one is left out.
type Sources struct {
	// Backlog counts queued and parked items per process id.
	Backlog func() (queued, parked map[string]int, err error)
	// Processes and Systems map ids to the names administrators gave.
	Processes func() (map[string]string, error)
	Systems   func() (map[string]string, error)
	// Sessions counts live sessions.
	Sessions func() (int, error)
	// Connections counts WebSocket connections by state.
	Connections func() (loggedIn, notLoggedIn int)
	// LogSubscribers counts live log subscriptions.
	LogSubscribers func() int
	// StoreSize is the store's size on disk.
	StoreSize func() (lsm, vlog int64)
}

// Metrics holds the registry and the counters fed by events and the HTTP layer.
type Metrics struct {
	reg *prometheus.Registry
	bus *events.Bus
	sub *events.Sub
	log zerolog.Logger

	runs        *prometheus.CounterVec
	changes     *prometheus.CounterVec
	errors      *prometheus.CounterVec
	conflicts   *prometheus.CounterVec
	runDuration *prometheus.HistogramVec
	requests    *prometheus.CounterVec
	rateLimited *prometheus.CounterVec
	waits       *prometheus.CounterVec
	waitSeconds *prometheus.CounterVec

	mu      sync.Mutex
	started map[string]time.Time // run id -> its RunStarted time
}

// maxOpenRuns bounds the runs whose start is remembered; a run that never
// finishes (the agent stopped) must not grow the map forever.
const maxOpenRuns = 4096

// runTypes are the events the counters are fed from.
var runTypes = []string{apitype.EventRunStarted, apitype.EventRunFinished}

// New registers every metric and subscribes to the run events at once, so
// that runs started before Serve are counted too; Serve feeds them in.
func New(bus *events.Bus, src Sources, log zerolog.Logger) *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry(), bus: bus, log: log, started: map[string]time.Time{}}
	m.sub, _, _ = bus.Subscribe(runTypes, nil, 4096)
	m.runs = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "lockstep_sync_runs_total",
		Help: "Sync runs finished, per process."}, []string{"process"})
	m.changes = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "lockstep_sync_changes_total",
		Help: "Changes sync runs made, per process and kind (created, updated, commented, attached, linked)."}, []string{"process", "kind"})
	m.errors = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "lockstep_sync_errors_total",
		Help: "Errors recorded by sync runs (failed items and runs stopped), per process."}, []string{"process"})
	m.conflicts = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "lockstep_sync_conflicts_total",
		Help: "Conflicts sync runs detected, per process."}, []string{"process"})
	m.runDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "lockstep_sync_run_duration_seconds",
		Help:    "How long sync runs took, per process.",
		Buckets: []float64{0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 900}}, []string{"process"})
	m.requests = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "lockstep_system_requests_total",
		Help: "HTTP requests to work systems, per system and status code (\"error\": no answer)."}, []string{"system", "code"})
	m.rateLimited = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "lockstep_system_rate_limited_total",
		Help: "Answers saying a work system's rate limit was hit (429, or a rate-limit 403), per system."}, []string{"system"})
	m.waits = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "lockstep_system_waits_total",
		Help: "Waits before requests to work systems, per system and reason (retry, rate_limit, pace)."}, []string{"system", "reason"})
	m.waitSeconds = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "lockstep_system_wait_seconds_total",
		Help: "Time spent waiting before requests to work systems, per system and reason."}, []string{"system", "reason"})
	m.reg.MustRegister(m.runs, m.changes, m.errors, m.conflicts, m.runDuration, m.requests, m.rateLimited, m.waits, m.waitSeconds,
		&gauges{src: src, log: log},
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Registry is the registry, for tests.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler serves the registry in the Prometheus text format; the caller
// decides who may reach it.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{ErrorLog: promLogger{m.log}, ErrorHandling: promhttp.ContinueOnError})
}

type promLogger struct{ log zerolog.Logger }

func (l promLogger) Println(v ...any) { l.log.Warn().Msg("serve metrics: " + fmt.Sprint(v...)) }

// Serve counts the engine's run events until ctx ends. A subscription the
// bus closed because this reader fell behind is opened again; what it
// missed is lost to the counters and logged.
func (m *Metrics) Serve(ctx context.Context) error {
	for {
		if done := m.consume(ctx, m.sub); done {
			m.sub.Close()
			return nil
		}
		m.log.Warn().Msg("metrics fell behind the event bus: some sync runs were not counted")
		m.sub, _, _ = m.bus.Subscribe(runTypes, nil, 4096)
	}
}

func (m *Metrics) consume(ctx context.Context, sub *events.Sub) bool {
	for {
		select {
		case <-ctx.Done():
			return true
		case ev, ok := <-sub.C():
			if !ok {
				return false
			}
			m.event(ev)
		}
	}
}

// runEvent is what RunStarted and RunFinished carry.
type runEvent struct {
	Process string         `json:"process"`
	Run     string         `json:"run"`
	Counts  map[string]int `json:"counts"`
	Errors  int            `json:"errors"`
}

func (m *Metrics) event(ev events.Event) {
	var r runEvent
	if json.Unmarshal(ev.Data, &r) != nil || r.Process == "" {
		return
	}
	switch ev.Type {
	case apitype.EventRunStarted:
		m.mu.Lock()
		if len(m.started) >= maxOpenRuns {
			clear(m.started)
		}
		m.started[r.Run] = ev.Time
		m.mu.Unlock()
	case apitype.EventRunFinished:
		for _, kind := range []string{"created", "updated", "commented", "attached", "linked"} {
			m.changes.WithLabelValues(r.Process, kind).Add(float64(r.Counts[kind]))
		}
		m.errors.WithLabelValues(r.Process).Add(float64(max(r.Errors, r.Counts["failed"])))
		m.conflicts.WithLabelValues(r.Process).Add(float64(r.Counts["conflicts"]))
		m.mu.Lock()
		start, ok := m.started[r.Run]
		delete(m.started, r.Run)
		m.mu.Unlock()
		if ok && !ev.Time.Before(start) {
			m.runDuration.WithLabelValues(r.Process).Observe(ev.Time.Sub(start).Seconds())
		}
		// Counted last, so that whoever sees the run counted (a scrape,
		// a test) sees its changes, errors and duration too.
		m.runs.WithLabelValues(r.Process).Inc()
	}
}

// HTTPObserver returns the observer of one system's HTTP traffic, for the
// connector's Env.
func (m *Metrics) HTTPObserver(systemID string) connector.HTTPObserver {
	return &observer{m: m, system: systemID}
}

type observer struct {
	m      *Metrics
	system string
}

func (o *observer) Response(status int, rateLimited bool) {
	code := "error"
	if status > 0 {
		code = strconv.Itoa(status)
	}
	o.m.requests.WithLabelValues(o.system, code).Inc()
	if rateLimited {
		o.m.rateLimited.WithLabelValues(o.system).Inc()
	}
}

func (o *observer) Wait(reason string, d time.Duration) {
	switch reason {
	case "retry", "rate_limit", "pace":
	default:
		reason = "other" // labels stay a closed set
	}
	o.m.waits.WithLabelValues(o.system, reason).Inc()
	o.m.waitSeconds.WithLabelValues(o.system, reason).Add(d.Seconds())
}
