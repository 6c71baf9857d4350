package metrics

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
)

var (
	descQueue = prometheus.NewDesc("lockstep_sync_queue_depth",
		"Items waiting in a sync process's queue.", []string{"process"}, nil)
	descParked = prometheus.NewDesc("lockstep_sync_parked_items",
		"Entity pairs a sync process parked after a permanent failure, waiting for an administrator.", []string{"process"}, nil)
	descProcess = prometheus.NewDesc("lockstep_process_info",
		"A sync process's name (value 1), to join on the process label.", []string{"process", "name"}, nil)
	descSystem = prometheus.NewDesc("lockstep_system_info",
		"A system's name (value 1), to join on the system label.", []string{"system", "name"}, nil)
	descSessions = prometheus.NewDesc("lockstep_sessions",
		"Live login sessions.", nil, nil)
	descConns = prometheus.NewDesc("lockstep_connections",
		"Open WebSocket connections, by state (logged_in, not_logged_in).", []string{"state"}, nil)
	descLogSubs = prometheus.NewDesc("lockstep_log_subscribers",
		"Live log subscriptions.", nil, nil)
	descStore = prometheus.NewDesc("lockstep_store_size_bytes",
		"The store's size on disk, by part (lsm, vlog).", []string{"part"}, nil)
)

// gauges reads Sources at scrape time. A source that fails leaves its
// series out of that scrape (and logs why) rather than failing the scrape.
type gauges struct {
	src Sources
	log zerolog.Logger
}

func (g *gauges) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descQueue, descParked, descProcess, descSystem, descSessions, descConns, descLogSubs, descStore} {
		ch <- d
	}
}

func (g *gauges) Collect(ch chan<- prometheus.Metric) {
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	var procs map[string]string
	if g.src.Processes != nil {
		var err error
		if procs, err = g.src.Processes(); err != nil {
			g.log.Warn().Err(err).Msg("metrics: list processes")
		}
		for id, name := range procs {
			gauge(descProcess, 1, id, name)
		}
	}
	if g.src.Backlog != nil {
		queued, parked, err := g.src.Backlog()
		if err != nil {
			g.log.Warn().Err(err).Msg("metrics: count queued and parked items")
		} else {
			// Every known process has both series, zero included, so a
			// query sees an empty queue as 0 rather than as no data.
			for id := range procs {
				gauge(descQueue, float64(queued[id]), id)
				gauge(descParked, float64(parked[id]), id)
			}
			for id, n := range queued {
				if _, known := procs[id]; !known {
					gauge(descQueue, float64(n), id)
				}
			}
			for id, n := range parked {
				if _, known := procs[id]; !known {
					gauge(descParked, float64(n), id)
				}
			}
		}
	}
	if g.src.Systems != nil {
		systems, err := g.src.Systems()
		if err != nil {
			g.log.Warn().Err(err).Msg("metrics: list systems")
		}
		for id, name := range systems {
			gauge(descSystem, 1, id, name)
		}
	}
	if g.src.Sessions != nil {
		if n, err := g.src.Sessions(); err != nil {
			g.log.Warn().Err(err).Msg("metrics: count sessions")
		} else {
			gauge(descSessions, float64(n))
		}
	}
	if g.src.Connections != nil {
		in, out := g.src.Connections()
		gauge(descConns, float64(in), "logged_in")
		gauge(descConns, float64(out), "not_logged_in")
	}
	if g.src.LogSubscribers != nil {
		gauge(descLogSubs, float64(g.src.LogSubscribers()))
	}
	if g.src.StoreSize != nil {
		lsm, vlog := g.src.StoreSize()
		gauge(descStore, float64(lsm), "lsm")
		gauge(descStore, float64(vlog), "vlog")
	}
}
