// Package sandbox is a small but real issue tracker served over HTTP: the
// work system the demo and the sync engine's tests sync, and the reference
// every connector is measured against. It has what real trackers have and
// connectors must cope with: projects, typed items with fixed and custom
// fields, comments, streamed attachments, typed and remote links, cursor
// paging by update time, optimistic concurrency (If-Match), bearer tokens,
// signed webhooks, rate limits with Retry-After and X-RateLimit headers, and
// fault injection. docs/sandbox-api.md describes the API.
//
// Data lives in memory and, with a data file, in a JSON snapshot written
// atomically after changes; attachment content sits beside it.
package sandbox

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"
)

// Defaults for zero Options.
const (
	DefaultMaxAttachmentBytes = 100 << 20
	DefaultSaveInterval       = 200 * time.Millisecond
	DefaultWebhookRetries     = 3
	DefaultWebhookBackoff     = 500 * time.Millisecond
)

// Options configure New.
type Options struct {
	// DataFile is the JSON snapshot to load and keep; attachments go to
	// DataFile + ".attachments/". Empty keeps everything in memory.
	DataFile string
	// Tokens accepted as "Authorization: Bearer <value>". More can be
	// added with AddToken.
	Tokens []Token
	// Users and Projects are created at start unless they exist already
	// (in the data file).
	Users    []User
	Projects []Project
	// Knobs start in this state; SetKnobs and /admin/knobs change them.
	Knobs Knobs
	// Seed makes latency jitter and fault injection repeatable; 0 picks a
	// random seed.
	Seed uint64
	// Now is the clock (nil: time.Now). Timestamps are truncated to a
	// microsecond and forced to increase.
	Now func() time.Time
	// Log receives the server's own warnings (failed saves, deliveries).
	Log zerolog.Logger
	// MaxAttachmentBytes bounds an upload (413 beyond it).
	MaxAttachmentBytes int64
	// SaveInterval is the least time between two snapshot writes.
	SaveInterval time.Duration
	// WebhookRetries and WebhookBackoff shape delivery retries: the pause
	// starts at WebhookBackoff and doubles.
	WebhookRetries int
	WebhookBackoff time.Duration
	// WebhookClient posts deliveries (nil: a client with a 5 s timeout).
	WebhookClient *http.Client
}

// Server is a running sandbox. It is safe for concurrent use.
type Server struct {
	opts    Options
	store   *Store
	guard   *guard
	stats   *counters
	hooks   *dispatcher
	handler http.Handler

	tokMu  sync.RWMutex
	tokens map[[32]byte]Token

	dirty  atomic.Bool
	kick   chan struct{}
	cancel context.CancelFunc
	saverD chan struct{}
	closed sync.Once
	errC   error
}

// New opens a sandbox: it loads the data file if there is one, seeds users
// and projects, and starts the snapshot writer and webhook workers. Close
// releases them.
func New(o Options) (*Server, error) {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.MaxAttachmentBytes <= 0 {
		o.MaxAttachmentBytes = DefaultMaxAttachmentBytes
	}
	if o.SaveInterval <= 0 {
		o.SaveInterval = DefaultSaveInterval
	}
	if o.WebhookRetries == 0 {
		o.WebhookRetries = DefaultWebhookRetries
	}
	if o.WebhookBackoff <= 0 {
		o.WebhookBackoff = DefaultWebhookBackoff
	}
	if o.WebhookClient == nil {
		o.WebhookClient = &http.Client{Timeout: 5 * time.Second}
	}
	knobs, err := o.Knobs.Validate()
	if err != nil {
		return nil, fmt.Errorf("open sandbox: knobs: %w", err)
	}
	var blobs blobStore = newMemBlobs()
	if o.DataFile != "" {
		if blobs, err = newDirBlobs(o.DataFile + ".attachments"); err != nil {
			return nil, fmt.Errorf("open sandbox: %w", err)
		}
	}
	st := newStore(o.Now, blobs, o.MaxAttachmentBytes)
	if o.DataFile != "" {
		data, err := os.ReadFile(o.DataFile)
		switch {
		case err == nil:
			if err := st.unmarshal(data); err != nil {
				return nil, fmt.Errorf("open sandbox %s: %w", o.DataFile, err)
			}
		case !errors.Is(err, os.ErrNotExist):
			return nil, fmt.Errorf("open sandbox: %w", err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &Server{
		opts: o, store: st, guard: newGuard(knobs, o.Seed), stats: newCounters(),
		tokens: map[[32]byte]Token{}, kick: make(chan struct{}, 1), cancel: cancel, saverD: make(chan struct{}),
	}
	s.hooks = &dispatcher{ctx: ctx, client: o.WebhookClient, retries: max(0, o.WebhookRetries), backoff: o.WebhookBackoff,
		log: o.Log, stats: s.stats, workers: map[int64]*hookWorker{}}
	for _, t := range o.Tokens {
		s.AddToken(t)
	}
	st.changed = s.onChange
	if err := s.Seed(o.Users, o.Projects); err != nil {
		cancel()
		return nil, fmt.Errorf("open sandbox: %w", err)
	}
	for _, w := range st.Webhooks() {
		s.hooks.start(w)
	}
	s.handler = s.routes()
	go s.saveLoop(ctx)
	return s, nil
}

// Seed creates the users and projects that do not exist yet.
func (s *Server) Seed(users []User, projects []Project) error {
	for _, u := range users {
		if _, err := s.store.User(u.ID); err == nil {
			continue
		}
		if _, err := s.store.AddUser(u); err != nil {
			return fmt.Errorf("seed user %s: %w", u.ID, err)
		}
	}
	for _, p := range projects {
		if _, err := s.store.Project(p.Key); err == nil {
			continue
		}
		if _, err := s.store.CreateProject(p); err != nil {
			return fmt.Errorf("seed project %s: %w", p.Key, err)
		}
	}
	return nil
}

// Store gives direct access to the data, bypassing HTTP, auth and knobs
// (for generators and tests). Changes made through it still fire webhooks
// and reach the data file.
func (s *Server) Store() *Store { return s.store }

// Handler serves the API.
func (s *Server) Handler() http.Handler { return s.handler }

// AddToken accepts another token. Tokens are kept hashed, so the map
// lookup does not compare secrets byte by byte.
func (s *Server) AddToken(t Token) {
	if t.User == "" {
		t.User = "api"
	}
	s.tokMu.Lock()
	s.tokens[sha256.Sum256([]byte(t.Value))] = t
	s.tokMu.Unlock()
}

// RevokeToken stops accepting a token, as an administrator revoking it
// does: requests bearing it are answered 401 from then on.
func (s *Server) RevokeToken(value string) {
	s.tokMu.Lock()
	delete(s.tokens, sha256.Sum256([]byte(value)))
	s.tokMu.Unlock()
}

func (s *Server) token(v string) (Token, bool) {
	if v == "" {
		return Token{}, false
	}
	s.tokMu.RLock()
	defer s.tokMu.RUnlock()
	t, ok := s.tokens[sha256.Sum256([]byte(v))]
	return t, ok
}

// SetKnobs changes the knobs.
func (s *Server) SetKnobs(k Knobs) error {
	k, err := k.Validate()
	if err != nil {
		return fmt.Errorf("set knobs: %w", err)
	}
	s.guard.set(k)
	return nil
}

// Knobs returns the knobs in force.
func (s *Server) Knobs() Knobs { return s.guard.get() }

// Stats returns the API counters.
func (s *Server) Stats() Stats { return s.stats.snapshot() }

// ResetStats zeroes the counters (between benchmark phases).
func (s *Server) ResetStats() { s.stats.reset() }

// onChange runs after every committed change.
func (s *Server) onChange(chs []change) {
	for _, ch := range chs {
		switch {
		case ch.event != "":
			s.hooks.publish(ch)
		case ch.hook != nil:
			s.hooks.start(*ch.hook)
		case ch.unhook != 0:
			s.hooks.stop(ch.unhook)
		}
	}
	if s.opts.DataFile != "" {
		s.dirty.Store(true)
		select {
		case s.kick <- struct{}{}:
		default:
		}
	}
}

// saveLoop writes the snapshot after changes, at most once per
// SaveInterval, and once more when the server closes.
func (s *Server) saveLoop(ctx context.Context) {
	defer close(s.saverD)
	if s.opts.DataFile == "" {
		<-ctx.Done()
		return
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.kick:
		}
		s.save()
		t := time.NewTimer(s.opts.SaveInterval)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

// save writes the snapshot if anything changed; a failure keeps the data
// dirty so the next change (or Close) tries again.
func (s *Server) save() error {
	if !s.dirty.Swap(false) {
		return nil
	}
	data, err := s.store.marshal()
	if err == nil {
		err = writeFileAtomic(s.opts.DataFile, data)
	}
	if err != nil {
		s.dirty.Store(true)
		s.opts.Log.Error().Err(err).Msg("save sandbox data")
		return fmt.Errorf("save sandbox data: %w", err)
	}
	return nil
}

// Close stops webhook deliveries and writes the data file a last time. It
// does not stop an HTTP server serving Handler; Serve does that.
func (s *Server) Close() error {
	s.closed.Do(func() {
		s.cancel()
		<-s.saverD
		s.hooks.close()
		if s.opts.DataFile != "" {
			s.errC = s.save()
		}
	})
	return s.errC
}
