package sandbox

import (
	"fmt"
	"net/http"
	"strconv"
	"sync"
)

// Stats counts API traffic, for benchmarks and tests.
type Stats struct {
	Requests       int64            `json:"requests"`
	ByRoute        map[string]int64 `json:"byRoute"`  // "GET /api/items/{id}"
	ByStatus       map[string]int64 `json:"byStatus"` // "200"
	RateLimited    int64            `json:"rateLimited"`
	ServerErrors   int64            `json:"serverErrors"`
	InjectedFaults int64            `json:"injectedFaults"`
	Webhooks       WebhookStats     `json:"webhooks"`
}

// WebhookStats counts deliveries.
type WebhookStats struct {
	Delivered int64 `json:"delivered"`
	Retried   int64 `json:"retried"`
	Failed    int64 `json:"failed"`  // gave up after the retries
	Dropped   int64 `json:"dropped"` // queue full
}

type counters struct {
	mu sync.Mutex
	s  Stats
}

func newCounters() *counters {
	return &counters{s: Stats{ByRoute: map[string]int64{}, ByStatus: map[string]int64{}}}
}

func (c *counters) request(route string, status int, injected bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.s.Requests++
	c.s.ByRoute[route]++
	c.s.ByStatus[strconv.Itoa(status)]++
	if status == http.StatusTooManyRequests {
		c.s.RateLimited++
	}
	if status >= 500 {
		c.s.ServerErrors++
	}
	if injected {
		c.s.InjectedFaults++
	}
}

func (c *counters) webhook(f func(*WebhookStats)) {
	c.mu.Lock()
	f(&c.s.Webhooks)
	c.mu.Unlock()
}

func (c *counters) snapshot() Stats {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := c.s
	out.ByRoute = make(map[string]int64, len(c.s.ByRoute))
	for k, v := range c.s.ByRoute {
		out.ByRoute[k] = v
	}
	out.ByStatus = make(map[string]int64, len(c.s.ByStatus))
	for k, v := range c.s.ByStatus {
		out.ByStatus[k] = v
	}
	return out
}

func (c *counters) reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.s = Stats{ByRoute: map[string]int64{}, ByStatus: map[string]int64{}}
}

func (s Stats) String() string {
	return fmt.Sprintf("%d requests, %d rate limited, %d server errors", s.Requests, s.RateLimited, s.ServerErrors)
}
