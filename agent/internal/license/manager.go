package license

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/lockstep-sync/lockstep/agent/internal/audit"
	"github.com/lockstep-sync/lockstep/agent/internal/events"
	"github.com/lockstep-sync/lockstep/agent/internal/store"
	"github.com/lockstep-sync/lockstep/shared/apitype"
)

// Store layout. The license file is kept as imported, byte for byte, and
// verified again at every start, so a key dropped from a later build
// (revocation) takes effect.
const (
	keyFile      = "license/file"
	keyRecord    = "license/record"
	userKind     = "licenseuser"
	metaMaxSeen  = "license_max_seen"
	metaSalt     = "license_user_salt"
	metaEvalFrom = "license_evaluation_start"
	metaInitAt   = "initialised_at"
	metaInstance = "instance_id"
)

// Options configure a Manager.
type Options struct {
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// InitAt starts the evaluation period: the store's "initialised_at"
	// meta. Zero reads that meta; a store without it starts the evaluation
	// at the first start of this package.
	InitAt time.Time
	// Version is the agent's version, sent in the telemetry report.
	Version string
	// InstanceID is the random id made at init; empty reads the store's
	// "instance_id" meta.
	InstanceID string
	// HTTP sends the telemetry report; nil uses a client that honours the
	// proxy environment, sends no cookies and follows no redirects.
	HTTP *http.Client
	// Log receives warnings and telemetry failures; the zero value drops them.
	Log zerolog.Logger
	// PersonOf maps a user of a system to a person id through the user
	// maps, so one person with accounts in two systems counts once. It
	// returns "" for an unmapped user. Nil counts every account apart.
	PersonOf func(system, userKey string) string
	// ExtraKeys are trusted in addition to the built-in ring. Only tests
	// set it (licensetest.Keys()); the agent never does.
	ExtraKeys Ring
	// CheckInterval is how often Serve runs the checks; zero means an hour.
	CheckInterval time.Duration
}

// ChangedEvent is the data of a LicenseChanged event (shared/apitype).
type ChangedEvent = apitype.LicenseChanged

// record is what the checks remember between runs, so each announcement
// (event and audit record) is made once.
type record struct {
	Phase     string         `json:"phase"`               // last announced state
	Warned    map[string]int `json:"warned,omitempty"`    // license id -> most urgent expiry warning made (days)
	ClockBack bool           `json:"clockBack,omitempty"` // inside an audited clock-back incident
	OverLimit bool           `json:"overLimit,omitempty"`
}

func (r record) clone() record {
	r.Warned = maps.Clone(r.Warned)
	if r.Warned == nil {
		r.Warned = map[string]int{}
	}
	return r
}

// Manager is the agent's license: one per process.
type Manager struct {
	st     *store.Store
	audit  *audit.Log
	bus    *events.Bus
	o      Options
	ring   Ring
	initAt time.Time
	client *http.Client
	log    zerolog.Logger

	mu             sync.Mutex
	lic            *License // nil when none is installed or it is unusable
	problem        error    // why the stored license is unusable
	rec            record
	maxSeen        time.Time // latest time seen; the license is never evaluated before it
	persistedMax   time.Time
	clockBack      bool
	salt           []byte
	users          map[string]userRecord
	tel            TelemetrySettings
	telState       telemetryState
	lastWarningLog time.Time
	hooks          []func(Status)
}

// New loads the license state from st. It fails only on a store error or
// a malformed build-time key list; an unusable stored license is state
// "invalid", not an error.
func New(st *store.Store, log *audit.Log, bus *events.Bus, o Options) (*Manager, error) {
	if st == nil || log == nil {
		return nil, errors.New("new license manager: a store and an audit log are required")
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.CheckInterval <= 0 {
		o.CheckInterval = time.Hour
	}
	ring, err := BuiltinKeys()
	if err != nil {
		return nil, err
	}
	if ring, err = ring.merge(o.ExtraKeys); err != nil {
		return nil, err
	}
	m := &Manager{st: st, audit: log, bus: bus, o: o, ring: ring, log: o.Log, client: o.HTTP,
		users: map[string]userRecord{}}
	if m.client == nil {
		m.client = defaultClient()
	}
	if err := m.load(); err != nil {
		return nil, fmt.Errorf("load license state: %w", err)
	}
	return m, nil
}

func (m *Manager) now() time.Time {
	// Round(0) drops the monotonic reading: comparisons must use the wall
	// clock, or a clock set back inside one process would go unnoticed.
	return m.o.Now().Round(0).UTC()
}

func (m *Manager) meta(name string) (string, bool, error) {
	v, err := m.st.Meta(name)
	if errors.Is(err, store.ErrNotFound) {
		return "", false, nil
	}
	return v, err == nil, err
}

func (m *Manager) load() error {
	if m.o.InstanceID == "" {
		v, ok, err := m.meta(metaInstance)
		if err != nil {
			return err
		}
		if !ok {
			return errors.New("the store has no instance id (was it initialised?)")
		}
		m.o.InstanceID = v
	}
	m.initAt = m.o.InitAt
	if m.initAt.IsZero() {
		for _, name := range []string{metaInitAt, metaEvalFrom} {
			v, ok, err := m.meta(name)
			if err != nil {
				return err
			}
			if ok {
				if m.initAt, err = time.Parse(time.RFC3339Nano, v); err != nil {
					return fmt.Errorf("read %s: %w", name, err)
				}
				break
			}
		}
		if m.initAt.IsZero() {
			// A store made before this package: the evaluation starts now.
			m.initAt = m.now()
			if err := m.st.SetMeta(metaEvalFrom, m.initAt.Format(time.RFC3339Nano)); err != nil {
				return err
			}
		}
	}
	if v, ok, err := m.meta(metaMaxSeen); err != nil {
		return err
	} else if ok {
		if m.maxSeen, err = time.Parse(time.RFC3339Nano, v); err != nil {
			return fmt.Errorf("read %s: %w", metaMaxSeen, err)
		}
		m.persistedMax = m.maxSeen
	}
	if err := m.loadSalt(); err != nil {
		return err
	}
	var text []byte
	err := m.st.View(func(tx *store.Tx) error {
		var err error
		text, err = tx.GetRaw(keyFile)
		return err
	})
	switch {
	case errors.Is(err, store.ErrNotFound):
	case err != nil:
		return err
	default:
		if m.lic, err = Verify(text, m.ring); err != nil {
			m.problem = err
			m.log.Warn().Err(err).Msg("the installed license is not usable; running in evaluation mode")
		}
	}
	if err := m.st.Get(keyRecord, &m.rec); err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	m.rec = m.rec.clone()
	if err := m.loadUsers(); err != nil {
		return err
	}
	return m.loadTelemetry()
}

// observeLocked advances the latest time seen and returns the time the
// license is evaluated at: never before the latest time seen, so setting
// the clock back neither revives an expired license nor extends the
// evaluation. A jump back of more than a day is an incident (audited by
// check); smaller ones are NTP and time-zone noise.
func (m *Manager) observeLocked(now time.Time) time.Time {
	m.clockBack = now.Before(m.maxSeen.Add(-ClockBackTolerance))
	if now.After(m.maxSeen) {
		m.maxSeen = now
	}
	return m.maxSeen
}

func (m *Manager) statusLocked(now time.Time) Status {
	at := m.observeLocked(now)
	s := evaluate(m.lic, m.problem, m.initAt, at)
	s.UsersSeen = m.countLocked(at)
	if s.Licensed() && s.UsersSeen > s.MaxUsers {
		s.OverLimit = true
		s.Warnings = append(s.Warnings, fmt.Sprintf(
			"%d users were identified in the last year; the license allows %d. Sync continues; please extend the license.", s.UsersSeen, s.MaxUsers))
	}
	if m.clockBack {
		s.ClockBack = true
		s.Warnings = append(s.Warnings, fmt.Sprintf(
			"The system clock (%s) is more than 24 hours behind the latest time this agent has seen (%s); the license is evaluated at that time. Correct the clock.",
			now.Format(time.RFC3339), at.Format(time.RFC3339)))
	}
	return s
}

// Status is the license as applied now.
func (m *Manager) Status() Status {
	now := m.now()
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.statusLocked(now)
}

// AllowsKind says whether a system of kind may be created or activated;
// a refusal matches ErrNotAllowed (wire kind "license").
func (m *Manager) AllowsKind(kind string) error { return m.Status().AllowsKind(kind) }

// SyncAllowed says whether a sync process over systems of these kinds may
// run now; a refusal matches ErrNotAllowed. In grace it allows, and the
// status carries the warning.
func (m *Manager) SyncAllowed(kinds []string) error { return m.Status().SyncAllowed(kinds) }

// OnChange registers fn to run after an import or a state change, e.g.
// for the sync scheduler to stop processes an expired license no longer
// allows. fn must not block.
func (m *Manager) OnChange(fn func(Status)) {
	m.mu.Lock()
	m.hooks = append(m.hooks, fn)
	m.mu.Unlock()
}

func (m *Manager) announce(s Status, evs []ChangedEvent) {
	if len(evs) == 0 {
		return
	}
	if m.bus != nil {
		for _, ev := range evs {
			m.bus.Publish(apitype.EventLicenseChanged, ev)
		}
	}
	m.mu.Lock()
	hooks := slices.Clone(m.hooks)
	m.mu.Unlock()
	for _, h := range hooks {
		h(s)
	}
}

// Import verifies a license file fully (structure, key, signature,
// payload, dates) and only then stores it, replacing any earlier one.
// Refusals are *FileError (wire kind "invalid", field "license") and are
// audited too.
func (m *Manager) Import(actor string, text []byte) (Status, error) {
	lic, err := Verify(text, m.ring)
	now := m.now()
	m.mu.Lock()
	at := m.observeLocked(now)
	if err == nil {
		switch {
		case at.Before(lic.NotBefore):
			err = &FileError{Kind: ErrNotYetValid, Msg: fmt.Sprintf("the license is valid from %s; import it on or after that day", lic.NotBefore.UTC().Format(time.RFC3339))}
		case !at.Before(lic.GraceEndsAt()):
			err = &FileError{Kind: ErrExpired, Msg: fmt.Sprintf("the license expired on %s and its grace period ended on %s", dateOf(lic.ExpiresAt), dateOf(lic.GraceEndsAt()))}
		}
	}
	if err != nil {
		m.mu.Unlock()
		if _, aerr := m.audit.Append(audit.Entry{Actor: actor, Action: "license.import", Target: "license", Result: audit.Failure,
			Diff: map[string]string{"error": err.Error()}}); aerr != nil {
			m.log.Error().Err(aerr).Msg("audit a refused license import")
		}
		return Status{}, err
	}
	prevLic, prevProblem := m.lic, m.problem
	m.lic, m.problem = lic, nil
	s := m.statusLocked(now)
	next := m.rec.clone()
	next.Phase = s.phase()
	next.OverLimit = s.OverLimit
	err = m.st.Update(func(tx *store.Tx) error {
		if err := tx.SetRaw(keyFile, lic.Text); err != nil {
			return err
		}
		if err := tx.Put(keyRecord, next); err != nil {
			return err
		}
		_, err := m.audit.AppendTx(tx, audit.Entry{Actor: actor, Action: "license.import", Target: "license:" + lic.LicenseID, Result: audit.Success,
			Diff: map[string]any{"licenseId": lic.LicenseID, "keyId": lic.KeyID, "customer": lic.Customer, "notBefore": lic.NotBefore,
				"expiresAt": lic.ExpiresAt, "graceDays": lic.GraceDays, "allowedSystems": lic.AllowedSystems, "maxUsers": lic.MaxUsers,
				"features": lic.Features}})
		return err
	})
	if err != nil {
		m.lic, m.problem = prevLic, prevProblem
		m.mu.Unlock()
		return Status{}, fmt.Errorf("import license: %w", err)
	}
	m.rec = next
	m.mu.Unlock()
	m.persistMaxSeen()
	msg := fmt.Sprintf("License %s for %s imported; state %s.", lic.LicenseID, lic.Customer, s.State)
	m.announce(s, []ChangedEvent{{State: string(s.State), Reason: "imported", DaysLeft: s.DaysLeft, Message: msg}})
	return s, nil
}

// persistMaxSeen saves the latest time seen, so a restart with the clock
// set back is detected too.
func (m *Manager) persistMaxSeen() {
	m.mu.Lock()
	latest := m.maxSeen
	due := latest.After(m.persistedMax)
	m.mu.Unlock()
	if !due {
		return
	}
	if err := m.st.SetMeta(metaMaxSeen, latest.Format(time.RFC3339Nano)); err != nil {
		m.log.Error().Err(err).Msg("save the latest time seen")
		return
	}
	m.mu.Lock()
	if latest.After(m.persistedMax) {
		m.persistedMax = latest
	}
	m.mu.Unlock()
}

// Serve runs the checks now and then every CheckInterval until ctx ends:
// expiry warnings, state changes, the clock, the user limit, and the
// telemetry report when it is due.
func (m *Manager) Serve(ctx context.Context) error {
	t := time.NewTicker(m.o.CheckInterval)
	defer t.Stop()
	for {
		m.check(ctx)
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// check announces what changed since the last check, each thing once, as
// a LicenseChanged event and an audit record, then sends telemetry if due.
func (m *Manager) check(ctx context.Context) {
	now := m.now()
	m.mu.Lock()
	s := m.statusLocked(now)
	next := m.rec.clone()
	var entries []audit.Entry
	var evs []ChangedEvent
	add := func(action, target, result string, diff any, ev ChangedEvent) {
		entries = append(entries, audit.Entry{Actor: "system", Action: action, Target: target, Result: result, Diff: diff})
		ev.State = string(s.State)
		evs = append(evs, ev)
	}
	target := "license"
	if s.LicenseID != "" {
		target = "license:" + s.LicenseID
	}

	if m.clockBack && !next.ClockBack {
		add("license.clock_back", "clock", "detected", map[string]any{"clock": now, "latestSeen": s.At},
			ChangedEvent{Reason: "clock_back", Message: s.Warnings[len(s.Warnings)-1]})
	}
	next.ClockBack = m.clockBack

	warned := false
	if s.State == StateExpiring {
		left := s.ExpiresAt.Sub(s.At)
		for _, d := range warningDays {
			if left > time.Duration(d)*dayDur {
				continue
			}
			prev := next.Warned[s.LicenseID]
			if prev == 0 || d < prev {
				add("license.expiry_warning", target, fmt.Sprintf("%d-day warning", d),
					map[string]any{"expiresAt": s.ExpiresAt, "daysLeft": s.DaysLeft},
					ChangedEvent{Reason: "expiry_warning", DaysLeft: s.DaysLeft, Message: s.Warnings[0]})
				warned, prev = true, d
			}
			// Only the current license's warnings are kept: the map stays small.
			next.Warned = map[string]int{s.LicenseID: prev}
			break
		}
	}

	if phase := s.phase(); phase != next.Phase {
		from := next.Phase
		next.Phase = phase
		// A new install starting its evaluation is not news, and entering
		// "expiring" is announced by its warning.
		if !(from == "" && phase == string(StateMissing)) && !(warned && s.State == StateExpiring) {
			msg := fmt.Sprintf("The license is valid until %s.", dateOf(s.ExpiresAt))
			if len(s.Warnings) > 0 {
				msg = s.Warnings[0]
			}
			add("license.state", target, phase, []audit.Change{{Field: "state", Before: from, After: phase}},
				ChangedEvent{Reason: "state", Message: msg})
		}
	}

	if s.OverLimit != next.OverLimit {
		next.OverLimit = s.OverLimit
		action, reason, msg := "license.users_within_limit", "users_within_limit", "The users identified are within the license's limit again."
		if s.OverLimit {
			action, reason = "license.users_over_limit", "users_over_limit"
			msg = fmt.Sprintf("%d users were identified in the last year; the license allows %d.", s.UsersSeen, s.MaxUsers)
		}
		add(action, target, "warning", map[string]any{"usersSeen": s.UsersSeen, "maxUsers": s.MaxUsers}, ChangedEvent{Reason: reason, Message: msg})
	}

	stale := m.staleUsersLocked(s.At)
	changed := len(entries) > 0 || len(stale) > 0 || !equalRecord(next, m.rec)
	var err error
	if changed {
		err = m.st.Update(func(tx *store.Tx) error {
			if err := tx.Put(keyRecord, next); err != nil {
				return err
			}
			repo := store.NewRepo[userRecord](m.st, userKind)
			for _, id := range stale {
				if err := repo.DeleteTx(tx, id); err != nil {
					return err
				}
			}
			for _, e := range entries {
				if _, err := m.audit.AppendTx(tx, e); err != nil {
					return err
				}
			}
			return nil
		})
	}
	if err != nil {
		// Nothing was announced: the next check tries again.
		m.log.Error().Err(err).Msg("save license checks")
		evs = nil
	} else {
		m.rec = next
		for _, id := range stale {
			delete(m.users, id)
		}
	}
	logWarnings := len(s.Warnings) > 0 && (m.lastWarningLog.IsZero() || s.At.Sub(m.lastWarningLog) >= dayDur)
	if logWarnings {
		m.lastWarningLog = s.At
	}
	m.mu.Unlock()

	if logWarnings {
		for _, w := range s.Warnings {
			m.log.Warn().Str("state", string(s.State)).Msg(w)
		}
	}
	m.persistMaxSeen()
	m.announce(s, evs)
	m.sendTelemetry(ctx)
}

func equalRecord(a, b record) bool {
	return a.Phase == b.Phase && a.ClockBack == b.ClockBack && a.OverLimit == b.OverLimit && maps.Equal(a.Warned, b.Warned)
}

func (m *Manager) loadSalt() error {
	v, ok, err := m.meta(metaSalt)
	if err != nil {
		return err
	}
	if ok {
		if m.salt, err = base64.StdEncoding.DecodeString(v); err != nil || len(m.salt) != 32 {
			return fmt.Errorf("read %s: not 32 bytes of base64", metaSalt)
		}
		return nil
	}
	// A per-installation salt: user hashes mean nothing outside this store
	// and cannot be matched against a list of guessed names or emails.
	m.salt = make([]byte, 32)
	if _, err := rand.Read(m.salt); err != nil {
		return fmt.Errorf("make user salt: %w", err)
	}
	return m.st.SetMeta(metaSalt, base64.StdEncoding.EncodeToString(m.salt))
}
