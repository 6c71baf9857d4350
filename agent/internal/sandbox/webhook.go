package sandbox

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/rs/zerolog"
)

// Webhook deliveries: POST <url> with
//
//	{"event":"item.updated","item":{"id":1,"key":"HELP-1","project":"HELP"},"time":"..."}
//
// signed X-Sandbox-Signature: sha256=<hex HMAC-SHA256 of the body keyed by
// the webhook's secret>. Each webhook has its own worker and bounded queue,
// so a slow or dead receiver delays only itself and never the API: when its
// queue is full, events are dropped and counted (webhooks are hints; the
// poller reconciles).

const (
	// SignatureHeader carries the delivery's HMAC.
	SignatureHeader = "X-Sandbox-Signature"
	// EventHeader and DeliveryHeader name the event and the delivery.
	EventHeader    = "X-Sandbox-Event"
	DeliveryHeader = "X-Sandbox-Delivery"

	hookQueue = 256
)

// Delivery is a webhook's body.
type Delivery struct {
	Event string    `json:"event"`
	Item  ItemRef   `json:"item"`
	Time  time.Time `json:"time"`
}

// Sign returns the X-Sandbox-Signature value for body.
func Sign(secret string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

type dispatcher struct {
	ctx     context.Context
	client  *http.Client
	retries int
	backoff time.Duration
	log     zerolog.Logger
	stats   *counters

	mu      sync.Mutex
	closed  bool
	workers map[int64]*hookWorker
	wg      sync.WaitGroup
}

type hookWorker struct {
	hook   Webhook
	queue  chan Delivery
	cancel context.CancelFunc
	seq    int64
}

func (d *dispatcher) start(w Webhook) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return
	}
	ctx, cancel := context.WithCancel(d.ctx)
	hw := &hookWorker{hook: w, queue: make(chan Delivery, hookQueue), cancel: cancel}
	if old, ok := d.workers[w.ID]; ok {
		old.cancel()
	}
	d.workers[w.ID] = hw
	d.wg.Add(1)
	go func() {
		defer d.wg.Done()
		d.run(ctx, hw)
	}()
}

// close stops every worker and waits for them; start does nothing after.
func (d *dispatcher) close() {
	d.mu.Lock()
	d.closed = true
	for _, hw := range d.workers {
		hw.cancel()
	}
	d.mu.Unlock()
	d.wg.Wait()
}

func (d *dispatcher) stop(id int64) {
	d.mu.Lock()
	if hw, ok := d.workers[id]; ok {
		hw.cancel()
		delete(d.workers, id)
	}
	d.mu.Unlock()
}

// publish queues an event for the project's webhooks without blocking.
func (d *dispatcher) publish(ch change) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, hw := range d.workers {
		if hw.hook.Project != ch.ref.Project {
			continue
		}
		select {
		case hw.queue <- Delivery{Event: ch.event, Item: ch.ref, Time: ch.time}:
		default:
			d.stats.webhook(func(s *WebhookStats) { s.Dropped++ })
		}
	}
}

func (d *dispatcher) run(ctx context.Context, hw *hookWorker) {
	for {
		select {
		case <-ctx.Done():
			return
		case ev := <-hw.queue:
			hw.seq++
			d.deliver(ctx, hw, ev)
		}
	}
}

// deliver posts one event, retrying with doubling pauses.
func (d *dispatcher) deliver(ctx context.Context, hw *hookWorker, ev Delivery) {
	body, err := json.Marshal(ev)
	if err != nil {
		return // a Delivery always encodes
	}
	id := fmt.Sprintf("%d-%d", hw.hook.ID, hw.seq)
	pause := d.backoff
	for attempt := 0; ; attempt++ {
		err := d.post(ctx, hw.hook, id, ev.Event, body)
		if err == nil {
			d.stats.webhook(func(s *WebhookStats) { s.Delivered++ })
			return
		}
		if attempt >= d.retries || ctx.Err() != nil {
			d.stats.webhook(func(s *WebhookStats) { s.Failed++ })
			d.log.Warn().Int64("webhook", hw.hook.ID).Str("delivery", id).Err(err).Msg("webhook delivery failed")
			return
		}
		d.stats.webhook(func(s *WebhookStats) { s.Retried++ })
		t := time.NewTimer(pause)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		pause *= 2
	}
}

func (d *dispatcher) post(ctx context.Context, w Webhook, id, event string, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.URL, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("build delivery: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "lockstep-sandbox")
	req.Header.Set(EventHeader, event)
	req.Header.Set(DeliveryHeader, id)
	req.Header.Set(SignatureHeader, Sign(w.Secret, body))
	resp, err := d.client.Do(req)
	if err != nil {
		return fmt.Errorf("post delivery: %w", err)
	}
	resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("post delivery: receiver answered HTTP %s", strconv.Itoa(resp.StatusCode))
	}
	return nil
}
