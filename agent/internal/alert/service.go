package alert

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/lockstep-sync/lockstep/agent/internal/audit"
	"github.com/lockstep-sync/lockstep/agent/internal/events"
	"github.com/lockstep-sync/lockstep/agent/internal/fault"
	"github.com/lockstep-sync/lockstep/agent/internal/secret"
	"github.com/lockstep-sync/lockstep/agent/internal/store"
	"github.com/lockstep-sync/lockstep/shared/apitype"
)

const keySettings = "notifications/settings"

// Defaults of Options' timing.
const (
	DefaultGroupWait = 30 * time.Second
	defaultTick      = time.Second
)

// Options are the service's dependencies.
type Options struct {
	Store  *store.Store
	Sealer sealer
	Audit  *audit.Log
	Bus    *events.Bus
	Log    zerolog.Logger
	Agent  Agent
	// Names resolves process and system names for messages; may be nil.
	Names Names
	// Now is the clock (nil: time.Now). Tests drive a fake one.
	Now func() time.Time
	// GroupWait (default 30 s) and Tick (how often channels are looked
	// at, default 1 s): tests shorten them.
	GroupWait time.Duration
	Tick      time.Duration
}

// channel is one destination and its delivery state.
type channel struct {
	key, name   string
	pending     *batch
	sending     bool
	lastSent    time.Time
	lastAttempt time.Time
	retryAt     time.Time
	failures    int
	lastError   string
}

// Service queues notices and delivers them.
type Service struct {
	o      Options
	client *http.Client

	inflight sync.WaitGroup // deliveries under way
	startSeq uint64         // the bus's sequence at New: Serve starts after it

	mu       sync.Mutex
	cur      stored
	channels map[string]*channel
	testing  bool
}

// ErrTestRunning refuses a second test while one is under way.
var ErrTestRunning = fault.New(fault.ErrConflict, "a test message is being sent; wait for its result")

// ErrNoChannel refuses a test when no channel is set up (wire kind "invalid").
var ErrNoChannel = &fault.InvalidError{Field: "channel", Message: "no enabled email or webhook channel to test; set one up and save it first"}

// New loads the settings.
func New(o Options) (*Service, error) {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.GroupWait == 0 {
		o.GroupWait = DefaultGroupWait
	}
	if o.Tick == 0 {
		o.Tick = defaultTick
	}
	s := &Service{o: o, client: webhookClient(), cur: defaults(), channels: map[string]*channel{}}
	if err := o.Store.Get(keySettings, &s.cur); err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("load notification settings: %w", err)
	}
	s.syncChannelsLocked()
	s.startSeq = o.Bus.Seq()
	return s, nil
}

// syncChannelsLocked makes the channel set follow the settings, keeping
// the state of channels that stay.
func (s *Service) syncChannelsLocked() {
	want := map[string]string{}
	if s.cur.Email.Enabled {
		want["email"] = "Email to " + strings.Join(s.cur.Email.To, ", ")
	}
	for _, w := range s.cur.Webhooks {
		if w.Enabled {
			want["webhook:"+w.ID] = w.Name
		}
	}
	for k := range s.channels {
		if _, ok := want[k]; !ok {
			delete(s.channels, k)
		}
	}
	for k, name := range want {
		if c, ok := s.channels[k]; ok {
			c.name = name
			continue
		}
		s.channels[k] = &channel{key: k, name: name, pending: newBatch()}
	}
}

// Info is the settings (secrets as flags) and the channels' state.
func (s *Service) Info() apitype.NotificationsInfo {
	s.mu.Lock()
	defer s.mu.Unlock()
	info := apitype.NotificationsInfo{Settings: s.cur.view(), Channels: []apitype.NotificationChannel{}}
	keys := make([]string, 0, len(s.channels))
	for k := range s.channels {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		c := s.channels[k]
		info.Channels = append(info.Channels, apitype.NotificationChannel{Channel: c.key, Name: c.name,
			LastSentAt: timePtr(c.lastSent), LastAttemptAt: timePtr(c.lastAttempt), LastError: c.lastError, Pending: c.pending.total})
	}
	return info
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	t = t.UTC()
	return &t
}

// Set replaces the settings (secrets absent from p are kept), audited as
// notifications.set with secrets redacted.
func (s *Service) Set(actor string, p apitype.Notifications) (apitype.NotificationsInfo, error) {
	s.mu.Lock()
	cur := s.cur
	s.mu.Unlock()
	nxt, err := next(cur, p, s.o.Sealer)
	if err != nil {
		return apitype.NotificationsInfo{}, err
	}
	before, secretsBefore := cur.flat()
	after, secretsAfter := nxt.flat()
	diff := audit.Diff(before, after, append(secretsBefore, secretsAfter...)...)
	err = s.o.Store.Update(func(tx *store.Tx) error {
		if err := tx.Put(keySettings, nxt); err != nil {
			return err
		}
		_, err := s.o.Audit.AppendTx(tx, audit.Entry{Actor: actor, Action: "notifications.set", Target: "notifications", Result: audit.Success, Diff: diff})
		return err
	})
	if err != nil {
		return apitype.NotificationsInfo{}, fmt.Errorf("save notification settings: %w", err)
	}
	s.mu.Lock()
	s.cur = nxt
	s.syncChannelsLocked()
	s.mu.Unlock()
	if s.o.Bus != nil {
		s.o.Bus.Publish(apitype.EventConfigChanged, apitype.ConfigChanged{Kind: "notifications", Action: "update", Actor: actor})
	}
	return s.Info(), nil
}

// Notice queues n for every enabled channel, if its kind is enabled.
func (s *Service) Notice(n Notice) {
	if n.At.IsZero() {
		n.At = s.o.Now()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.cur.Enabled || !slices.Contains(s.cur.Events, n.event()) {
		return
	}
	for _, c := range s.channels {
		c.pending.add(n)
	}
}

// Serve delivers notices until ctx ends: it turns bus events into notices
// and looks at each channel every tick.
func (s *Service) Serve(ctx context.Context) error {
	types := []string{apitype.EventPairFailed, apitype.EventHealthChanged, apitype.EventLicenseChanged}
	// From New on: events published while the agent starts are not missed.
	last := &s.startSeq
	tick := time.NewTicker(s.o.Tick)
	defer tick.Stop()
	for {
		sub, _, resync := s.o.Bus.Subscribe(types, last, 4096)
		if resync {
			s.o.Log.Warn().Msg("notifications: events were missed while catching up; some notices may be lost")
		}
		for open := true; open; {
			select {
			case <-ctx.Done():
				sub.Close()
				s.inflight.Wait()
				return nil
			case ev, ok := <-sub.C():
				if !ok {
					open = false
					break
				}
				seq := ev.Seq
				last = &seq
				if n, ok := FromEvent(ev); ok {
					s.Notice(n)
				}
			case <-tick.C:
				s.deliver(ctx)
			}
		}
		// The queue overflowed: resume after the last event seen, from the
		// bus's ring.
	}
}

// deliver starts a send on each channel whose batch is due.
func (s *Service) deliver(ctx context.Context) {
	now := s.o.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	p := Pacing{GroupWait: s.o.GroupWait, MinInterval: time.Duration(s.cur.MinIntervalMinutes) * time.Minute}
	for _, c := range s.channels {
		if c.sending || !due(now, c.pending, c.lastSent, c.retryAt, p) {
			continue
		}
		b := c.pending
		c.pending, c.sending, c.lastAttempt = newBatch(), true, now
		send, err := s.senderLocked(c.key)
		s.inflight.Add(1)
		go func() {
			defer s.inflight.Done()
			if err == nil {
				err = send(ctx, render(b, s.o.Agent, now, s.o.Names))
			}
			s.finish(c, b, err)
		}()
	}
}

// finish records a send's outcome; a failed batch goes out with the next.
func (s *Service) finish(c *channel, b *batch, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c.sending = false
	if err == nil {
		c.lastSent, c.failures, c.lastError, c.retryAt = c.lastAttempt, 0, "", time.Time{}
		s.o.Log.Info().Str("channel", c.key).Int("notices", b.total).Msg("notification sent")
		return
	}
	c.failures++
	c.lastError = err.Error()
	wait := backoff(c.failures)
	var ra *retryAfter
	if errors.As(err, &ra) && ra.after > wait {
		wait = ra.after
	}
	c.retryAt = c.lastAttempt.Add(wait)
	b.merge(c.pending)
	c.pending = b
	s.o.Log.Warn().Str("channel", c.key).Str("error", c.lastError).Dur("retry_in", wait).Int("notices", b.total).Msg("notification not sent")
}

// senderLocked opens a channel's secrets and returns its delivery function.
// Errors it returns are scrubbed of those secrets.
func (s *Service) senderLocked(key string) (func(context.Context, Message) error, error) {
	agent := s.o.Agent
	if key == "email" {
		e := s.cur.Email
		var password string
		if len(e.Password) > 0 {
			raw, err := s.o.Sealer.Open(sealScope, sealKind, "email", "password", e.Password)
			if err != nil {
				return nil, fmt.Errorf("open the SMTP password: %w", err)
			}
			password = string(raw)
		}
		cfg := emailConfig{Host: e.Host, Port: e.Port, Security: e.Security, AllowSelfSigned: e.AllowSelfSigned,
			Username: e.Username, Password: password, From: e.From, To: slices.Clone(e.To)}
		helo := agent.Host
		if helo == "" || !hostName.MatchString(helo) {
			helo = "localhost"
		}
		return func(ctx context.Context, m Message) error {
			return scrub(sendEmail(ctx, cfg, helo, m), password)
		}, nil
	}
	id := strings.TrimPrefix(key, "webhook:")
	i := slices.IndexFunc(s.cur.Webhooks, func(w storedWebhook) bool { return w.ID == id })
	if i < 0 {
		return nil, errors.New("the webhook was removed")
	}
	w := s.cur.Webhooks[i]
	raw, err := s.o.Sealer.Open(sealScope, sealKind, w.ID, "url", w.URL)
	if err != nil {
		return nil, fmt.Errorf("open the webhook URL: %w", err)
	}
	u := string(raw)
	return func(ctx context.Context, m Message) error {
		return scrub(postWebhook(ctx, s.client, u, agent.Version, body(w.Format, m)), u)
	}, nil
}

// scrub keeps secrets out of an error as a last line of defence: the
// senders already word their errors without them.
func scrub(err error, secrets ...string) error {
	if err == nil {
		return nil
	}
	msg := secret.Scrub(err.Error(), secrets...)
	var ra *retryAfter
	if errors.As(err, &ra) {
		return &retryAfter{msg: msg, after: ra.after}
	}
	return errors.New(msg)
}

// Test sends a test message now, past batching and pacing, to one channel
// or to every enabled one, and says what each did. Audited as
// notifications.test.
func (s *Service) Test(ctx context.Context, actor, only string) (apitype.NotificationsTestResult, error) {
	s.mu.Lock()
	if s.testing {
		s.mu.Unlock()
		return apitype.NotificationsTestResult{}, ErrTestRunning
	}
	var keys []string
	if s.cur.Email.Enabled || only == "email" && s.cur.Email.Host != "" {
		keys = append(keys, "email")
	}
	for _, w := range s.cur.Webhooks {
		if w.Enabled || only == "webhook:"+w.ID {
			keys = append(keys, "webhook:"+w.ID)
		}
	}
	if only != "" {
		if !slices.Contains(keys, only) {
			s.mu.Unlock()
			return apitype.NotificationsTestResult{}, &fault.InvalidError{Field: "channel", Message: "no such channel: use \"email\" or \"webhook:<id>\" of a saved webhook"}
		}
		keys = []string{only}
	}
	if len(keys) == 0 {
		s.mu.Unlock()
		return apitype.NotificationsTestResult{}, ErrNoChannel
	}
	type job struct {
		key, name string
		send      func(context.Context, Message) error
		err       error
	}
	jobs := make([]job, len(keys))
	for i, k := range keys {
		jobs[i].key, jobs[i].name = k, s.channelNameLocked(k)
		jobs[i].send, jobs[i].err = s.senderLocked(k)
	}
	s.testing = true
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.testing = false
		s.mu.Unlock()
	}()

	now := s.o.Now()
	b := newBatch()
	b.add(Notice{Kind: KindTest, Subject: "agent", Actor: clean(actor), At: now})
	m := render(b, s.o.Agent, now, nil)
	out := apitype.NotificationsTestResult{Results: make([]apitype.NotificationTestOutcome, len(jobs))}
	var wg sync.WaitGroup
	for i := range jobs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			j := &jobs[i]
			if j.err == nil {
				j.err = j.send(ctx, m)
			}
			out.Results[i] = apitype.NotificationTestOutcome{Channel: j.key, Name: j.name, OK: j.err == nil}
			if j.err != nil {
				out.Results[i].Error = j.err.Error()
			}
		}()
	}
	wg.Wait()
	result := audit.Success
	var failed []string
	for _, r := range out.Results {
		if !r.OK {
			failed = append(failed, r.Channel)
		}
	}
	if len(failed) > 0 {
		result = "failed: " + strings.Join(failed, ", ")
	}
	if _, err := s.o.Audit.Append(audit.Entry{Actor: actor, Action: "notifications.test", Target: strings.Join(keys, ","), Result: result}); err != nil {
		return out, fmt.Errorf("audit the test message: %w", err)
	}
	return out, nil
}

func (s *Service) channelNameLocked(key string) string {
	if key == "email" {
		return "Email to " + strings.Join(s.cur.Email.To, ", ")
	}
	for _, w := range s.cur.Webhooks {
		if "webhook:"+w.ID == key {
			return w.Name
		}
	}
	return key
}
