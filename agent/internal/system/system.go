// Package system manages configured systems: validation against the kind's
// schema, secrets sealed per system (crypto-shredded on delete), audit of
// every change with secrets redacted, and the connection test.
package system

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"net/url"
	"reflect"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/lockstep-sync/lockstep/agent/internal/audit"
	"github.com/lockstep-sync/lockstep/agent/internal/connector"
	"github.com/lockstep-sync/lockstep/agent/internal/events"
	"github.com/lockstep-sync/lockstep/agent/internal/fault"
	"github.com/lockstep-sync/lockstep/agent/internal/secret"
	"github.com/lockstep-sync/lockstep/agent/internal/store"
	"github.com/lockstep-sync/lockstep/shared/apitype"
	"github.com/lockstep-sync/lockstep/shared/input"
)

// Record is a stored system. Secrets hold AES-256-GCM sealed values only.
type Record struct {
	ID        string            `json:"id"`
	Name      string            `json:"name"`
	Kind      string            `json:"kind"`
	URL       string            `json:"url"`
	Settings  map[string]any    `json:"settings"`
	Secrets   map[string][]byte `json:"secrets"`
	CreatedAt time.Time         `json:"createdAt"`
	UpdatedAt time.Time         `json:"updatedAt"`
}

// invalid is a validation failure naming the offending field.
func invalid(field, format string, args ...any) error {
	return fault.Invalid(field, format, args...)
}

// maxSecret bounds one secret value (a PEM private key is a few KiB).
const maxSecret = 16 << 10

// ErrNotFound means no system has that id.
var ErrNotFound = fault.New(fault.ErrNotFound, "system not found")

// ErrConflict means another system already has the name.
var ErrConflict = fault.New(fault.ErrConflict, "a system with this name already exists")

// Service manages systems.
type Service struct {
	st   *store.Store
	repo *store.Repo[Record]
	// tests keeps each system's last connection test (systest/<id>), apart
	// from the record so that a test never races an edit.
	tests  *store.Repo[apitype.SystemTest]
	sealer *secret.Sealer
	audit  *audit.Log
	bus    *events.Bus
	now    func() time.Time
	mu     sync.Mutex // serialises name-uniqueness checks with writes

	// drafts are the tests of connections not saved yet (draft.go).
	drafts *drafts

	hooksMu sync.Mutex
	hooks   []func(id string)
	tested  []func(id string, t apitype.SystemTest)
}

// New returns the systems service.
func New(st *store.Store, sealer *secret.Sealer, log *audit.Log, bus *events.Bus, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	return &Service{st: st, repo: store.NewRepo[Record](st, "system"), tests: store.NewRepo[apitype.SystemTest](st, "systest"), sealer: sealer, audit: log, bus: bus, now: now,
		drafts: newDrafts()}
}

func scope(id string) string { return "system:" + id }

// View is the API view: secrets only as set or unset.
func View(r Record) apitype.System {
	spec, _ := connector.Lookup(r.Kind)
	secrets := map[string]apitype.SecretState{}
	for _, f := range spec.Fields {
		if f.Secret {
			secrets[f.Name] = apitype.SecretState{Set: len(r.Secrets[f.Name]) > 0}
		}
	}
	for name, v := range r.Secrets { // fields of a kind whose schema changed
		if _, ok := secrets[name]; !ok {
			secrets[name] = apitype.SecretState{Set: len(v) > 0}
		}
	}
	settings := r.Settings
	if settings == nil {
		settings = map[string]any{}
	}
	return apitype.System{ID: r.ID, Name: r.Name, Kind: r.Kind, URL: r.URL, Settings: settings, Secrets: secrets,
		CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
}

// List returns every system.
func (s *Service) List() ([]apitype.System, error) {
	recs, err := s.repo.List()
	if err != nil {
		return nil, fmt.Errorf("list systems: %w", err)
	}
	out := make([]apitype.System, 0, len(recs))
	for _, r := range recs {
		v := View(r)
		if t, err := s.tests.Get(r.ID); err == nil {
			v.LastTest = &t
		}
		out = append(out, v)
	}
	sort.Slice(out, func(i, j int) bool { return strings.ToLower(out[i].Name) < strings.ToLower(out[j].Name) })
	return out, nil
}

// Get returns one system's record.
func (s *Service) Get(id string) (Record, error) {
	if id == "" || strings.ContainsAny(id, "/\x00") {
		return Record{}, invalid("id", "is not a system id")
	}
	r, err := s.repo.Get(id)
	if errors.Is(err, store.ErrNotFound) {
		return Record{}, ErrNotFound
	}
	if err != nil {
		return Record{}, fmt.Errorf("get system %s: %w", id, err)
	}
	return r, nil
}

func validateURL(raw string) (string, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return "", invalid("url", "is required")
	}
	if err := input.Bounded(raw, input.MaxURL); err != nil {
		return "", invalid("url", "%v", err)
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "", invalid("url", "is not a valid URL")
	}
	if u.Scheme != "https" && u.Scheme != "http" {
		return "", invalid("url", "must start with https:// (or http:// on a trusted network)")
	}
	if u.Host == "" {
		return "", invalid("url", "has no host")
	}
	if u.User != nil {
		// Credentials in a URL end up in logs and proxies: they belong in
		// the kind's secret fields, which are sealed.
		return "", invalid("url", "must not contain credentials; use the secret fields")
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return "", invalid("url", "must not have a query or fragment")
	}
	return strings.TrimRight(u.String(), "/"), nil
}

func validateName(name string) (string, error) {
	name, err := input.Name(name, input.MaxName)
	if err != nil {
		return "", invalid("name", "%v", err)
	}
	return name, nil
}

// validateSettings checks settings against the kind's non-secret fields and
// normalises JSON numbers.
func validateSettings(spec connector.Spec, in map[string]any) (map[string]any, error) {
	out := map[string]any{}
	for k, v := range in {
		if err := checkKey("settings", k); err != nil {
			return nil, err
		}
		f, ok := spec.Field(k)
		if !ok || f.Secret {
			if ok {
				return nil, invalid("settings."+k, "is a secret: send it in secrets")
			}
			return nil, invalid("settings."+k, "is not a setting of %s systems", spec.Title)
		}
		switch f.Type {
		case apitype.FieldBool:
			b, ok := v.(bool)
			if !ok {
				return nil, invalid("settings."+k, "must be true or false")
			}
			out[k] = b
		case apitype.FieldInt:
			n, ok := v.(float64)
			if !ok || n != float64(int64(n)) || n < 0 {
				return nil, invalid("settings."+k, "must be a whole number >= 0")
			}
			out[k] = int64(n)
		case apitype.FieldSelect:
			str, ok := v.(string)
			if !ok || (str != "" && !contains(f.Options, str)) {
				return nil, invalid("settings."+k, "must be one of %s", strings.Join(f.Options, ", "))
			}
			out[k] = str
		default:
			str, ok := v.(string)
			if !ok {
				return nil, invalid("settings."+k, "must be text")
			}
			if err := input.Bounded(str, input.MaxSetting); err != nil {
				return nil, invalid("settings."+k, "%v", err)
			}
			out[k] = strings.TrimSpace(str)
		}
	}
	for _, f := range spec.Fields {
		if _, set := out[f.Name]; !set && f.Default != nil && !f.Secret {
			out[f.Name] = f.Default
		}
		if f.Required && !f.Secret {
			if v, ok := out[f.Name]; !ok || v == "" {
				return nil, invalid("settings."+f.Name, "is required")
			}
		}
	}
	return out, nil
}

// checkSecret checks one secret a caller sent: a secret field of the kind,
// at most maxSecret bytes, and (unless "", which clears) long enough to be
// scrubbed from messages (secret.MinLen).
func checkSecret(spec connector.Spec, k string, v apitype.Secret) error {
	if err := checkKey("secrets", k); err != nil {
		return err
	}
	if f, ok := spec.Field(k); !ok || !f.Secret {
		return invalid("secrets."+k, "is not a secret of %s systems", spec.Title)
	}
	if len(v) > maxSecret {
		return invalid("secrets."+k, "is longer than %d bytes (it has %d)", maxSecret, len(v))
	}
	if err := secret.CheckLen(v.Reveal()); err != nil {
		return invalid("secrets."+k, "%v", err)
	}
	return nil
}

// checkKey refuses a settings or secrets key that could not be a field
// name, before the key is quoted back in an error.
func checkKey(group, k string) error {
	if err := input.Line(k, 64); err != nil {
		return invalid(group, "has a key that is not a field name: it %v", err)
	}
	return nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func newID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b) // crypto/rand does not fail on supported platforms
	return hex.EncodeToString(b)
}

// flat is the audit view of a record: secrets as set flags only.
func flat(r Record) map[string]any {
	m := map[string]any{"name": r.Name, "kind": r.Kind, "url": r.URL}
	for k, v := range r.Settings {
		m["settings."+k] = v
	}
	for k, v := range r.Secrets {
		m["secrets."+k] = len(v) > 0
	}
	return m
}

func secretNames(r ...Record) []string {
	var out []string
	for _, rec := range r {
		for k := range rec.Secrets {
			out = append(out, "secrets."+k)
		}
	}
	return out
}

// Create validates and stores a new system. It never contacts the system:
// administrators configure before firewalls open; Test is what checks.
func (s *Service) Create(actor string, p apitype.SystemsCreateParams) (apitype.System, error) {
	spec, ok := connector.Lookup(p.Kind)
	if !ok {
		return apitype.System{}, invalid("kind", "%q is not a known system kind", p.Kind)
	}
	name, err := validateName(p.Name)
	if err != nil {
		return apitype.System{}, err
	}
	u, err := validateURL(p.URL)
	if err != nil {
		return apitype.System{}, err
	}
	settings, err := validateSettings(spec, p.Settings)
	if err != nil {
		return apitype.System{}, err
	}
	now := s.now().UTC()
	rec := Record{ID: newID(), Name: name, Kind: p.Kind, URL: u, Settings: settings, Secrets: map[string][]byte{}, CreatedAt: now, UpdatedAt: now}
	if err := s.applySecrets(spec, &rec, p.Secrets, true); err != nil {
		return apitype.System{}, err
	}
	if err := s.write(rec, true, s.entry(actor, "systems.create", rec, Record{}, rec)); err != nil {
		return apitype.System{}, err
	}
	kept, err := s.keepDraftTest(actor, rec, true, nil)
	if err != nil {
		return apitype.System{}, err
	}
	s.publish(actor, "create", rec.ID)
	if kept != nil {
		s.announceTest(rec.ID, *kept)
	}
	v := View(rec)
	v.LastTest = kept
	return v, nil
}

// applySecrets seals new secret values into rec; "" clears a secret.
func (s *Service) applySecrets(spec connector.Spec, rec *Record, in map[string]apitype.Secret, creating bool) error {
	for k, v := range in {
		if err := checkSecret(spec, k, v); err != nil {
			return err
		}
		if v == "" {
			delete(rec.Secrets, k)
			continue
		}
		sealed, err := s.sealer.Seal(scope(rec.ID), "system", rec.ID, k, []byte(v.Reveal()))
		if err != nil {
			return fmt.Errorf("store secret %s: %w", k, err)
		}
		rec.Secrets[k] = sealed
	}
	if creating {
		for _, f := range spec.Fields {
			if f.Secret && f.Required && len(rec.Secrets[f.Name]) == 0 {
				return invalid("secrets."+f.Name, "is required")
			}
		}
	}
	return nil
}

// write stores rec and its audit record in one transaction.
func (s *Service) write(rec Record, creating bool, entry audit.Entry) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.st.Update(func(tx *store.Tx) error {
		dup := false
		err := s.repo.EachTx(tx, "", func(id string, other Record) error {
			if id != rec.ID && strings.EqualFold(other.Name, rec.Name) {
				dup = true
				return store.ErrStop
			}
			return nil
		})
		if err != nil {
			return err
		}
		if dup {
			return fmt.Errorf("%w: %q", ErrConflict, rec.Name)
		}
		if !creating {
			if _, err := s.repo.GetTx(tx, rec.ID); errors.Is(err, store.ErrNotFound) {
				return ErrNotFound
			}
		}
		if err := s.repo.PutTx(tx, rec.ID, rec); err != nil {
			return err
		}
		_, err = s.audit.AppendTx(tx, entry)
		return err
	})
}

func (s *Service) entry(actor, action string, target, before, after Record) audit.Entry {
	diff := audit.Diff(flat(before), flat(after), secretNames(before, after)...)
	return audit.Entry{Actor: actor, Action: action, Target: "system:" + target.ID + " (" + target.Name + ")", Result: audit.Success, Diff: diff}
}

func (s *Service) publish(actor, verb, id string) {
	if verb != "create" {
		s.hooksMu.Lock()
		hooks := slices.Clone(s.hooks)
		s.hooksMu.Unlock()
		for _, fn := range hooks {
			fn(id)
		}
	}
	s.bus.Publish(apitype.EventConfigChanged, apitype.ConfigChanged{Kind: "system", ID: id, Action: verb, Actor: actor})
}

// OnChange registers fn to run after a system is updated or deleted (with
// its id), before the change is announced: what was opened with the old
// configuration (the composition root's connector) is released then, not
// on the bus, whose subscribers may miss an event.
func (s *Service) OnChange(fn func(id string)) {
	s.hooksMu.Lock()
	s.hooks = append(s.hooks, fn)
	s.hooksMu.Unlock()
}

// Update changes a system; omitted fields keep their values.
func (s *Service) Update(actor string, p apitype.SystemsUpdateParams) (apitype.System, error) {
	before, err := s.Get(p.ID)
	if err != nil {
		return apitype.System{}, err
	}
	spec, ok := connector.Lookup(before.Kind)
	if !ok {
		return apitype.System{}, invalid("kind", "%q is no longer a known system kind", before.Kind)
	}
	rec := before
	rec.Secrets = maps.Clone(before.Secrets)
	if rec.Secrets == nil {
		rec.Secrets = map[string][]byte{}
	}
	if p.Name != nil {
		if rec.Name, err = validateName(*p.Name); err != nil {
			return apitype.System{}, err
		}
	}
	if p.URL != nil {
		if rec.URL, err = validateURL(*p.URL); err != nil {
			return apitype.System{}, err
		}
	}
	if p.Settings != nil {
		if rec.Settings, err = validateSettings(spec, p.Settings); err != nil {
			return apitype.System{}, err
		}
	}
	if err := s.applySecrets(spec, &rec, p.Secrets, false); err != nil {
		return apitype.System{}, err
	}
	rec.UpdatedAt = s.now().UTC()
	entry := s.entry(actor, "systems.update", rec, before, rec)
	if replaced := replacedSecrets(before, p.Secrets); len(replaced) > 0 {
		diff, _ := entry.Diff.([]audit.Change)
		entry.Diff = append(diff, replaced...)
	}
	if err := s.write(rec, false, entry); err != nil {
		return apitype.System{}, err
	}
	last, err := s.LastTest(rec.ID)
	if err != nil {
		return apitype.System{}, err
	}
	kept, err := s.keepDraftTest(actor, rec, false, last)
	if err != nil {
		return apitype.System{}, err
	}
	if kept == nil && connectionChanged(before, rec) {
		// The last test was of other credentials or another address.
		if err := s.tests.Delete(rec.ID); err != nil && !errors.Is(err, store.ErrNotFound) {
			return apitype.System{}, fmt.Errorf("forget the last test of %s: %w", rec.Name, err)
		}
		last = nil
	}
	s.publish(actor, "update", rec.ID)
	v := View(rec)
	v.LastTest = last
	if kept != nil {
		s.announceTest(rec.ID, *kept)
		v.LastTest = kept
	}
	return v, nil
}

// keepDraftTest keeps the test of a draft of exactly rec's connection (the
// system's latest draft; for a system just created, a draft of a new one),
// made after the system's last test (nil: none), as its last test, and
// returns it; nil when there is none to keep. A failed test that actor ran
// is kept as saved anyway: they saw it fail and saved all the same (the
// desktop's "Save anyway"), so the system reads failing, as they were
// shown, but nobody is notified of what they already know.
func (s *Service) keepDraftTest(actor string, rec Record, created bool, last *apitype.SystemTest) (*apitype.SystemTest, error) {
	cfg, err := s.Config(rec.ID)
	if err != nil {
		return nil, err
	}
	system := rec.ID
	if created {
		system = "" // its drafts were tested before it had an id
	}
	t := s.drafts.take(system, cfg, s.now())
	if t == nil || (last != nil && !t.At.After(last.At)) {
		return nil, nil
	}
	t.SavedAnyway = !t.OK && t.Actor == actor
	if err := s.tests.Put(rec.ID, *t); err != nil {
		return nil, fmt.Errorf("keep the test of %s before it was saved: %w", rec.Name, err)
	}
	return t, nil
}

// OnTested registers fn to run after a connection test is kept as a
// system's last test: a test of the saved system, or of a draft that was
// then saved as it was tested.
func (s *Service) OnTested(fn func(id string, t apitype.SystemTest)) {
	s.hooksMu.Lock()
	s.tested = append(s.tested, fn)
	s.hooksMu.Unlock()
}

func (s *Service) announceTest(id string, t apitype.SystemTest) {
	s.hooksMu.Lock()
	hooks := slices.Clone(s.tested)
	s.hooksMu.Unlock()
	for _, fn := range hooks {
		fn(id, t)
	}
}

// Delete removes a system and destroys its data key, so its sealed secrets
// cannot be recovered even from old database files.
func (s *Service) Delete(actor, id string) error {
	before, err := s.Get(id)
	if err != nil {
		return err
	}
	entry := s.entry(actor, "systems.delete", before, before, Record{})
	s.mu.Lock()
	err = s.st.Update(func(tx *store.Tx) error {
		if err := s.repo.DeleteTx(tx, id); err != nil {
			return err
		}
		_, err := s.audit.AppendTx(tx, entry)
		return err
	})
	s.mu.Unlock()
	if err != nil {
		return fmt.Errorf("delete system %s: %w", id, err)
	}
	if err := s.sealer.Shred(scope(id)); err != nil {
		return err
	}
	if err := s.tests.Delete(id); err != nil && !errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("delete the last test of system %s: %w", id, err)
	}
	s.publish(actor, "delete", id)
	return nil
}

// Config unseals a system's secrets for a connector, in memory only.
func (s *Service) Config(id string) (connector.Config, error) {
	rec, err := s.Get(id)
	if err != nil {
		return connector.Config{}, err
	}
	cfg := connector.Config{ID: rec.ID, Name: rec.Name, Kind: rec.Kind, URL: rec.URL, Settings: rec.Settings, Secrets: map[string]secret.Secret{}}
	for k, sealed := range rec.Secrets {
		plain, err := s.sealer.Open(scope(rec.ID), "system", rec.ID, k, sealed)
		if err != nil {
			return connector.Config{}, fmt.Errorf("unseal secret %s of system %s: %w", k, rec.Name, err)
		}
		cfg.Secrets[k] = secret.New(string(plain))
	}
	return cfg, nil
}

// KnownSecrets returns every stored secret value, for the support package's
// scrubber to remove any that slipped into a log line. They never leave memory.
func (s *Service) KnownSecrets() ([]string, error) {
	recs, err := s.repo.List()
	if err != nil {
		return nil, err
	}
	var out []string
	for _, r := range recs {
		cfg, err := s.Config(r.ID)
		if err != nil {
			continue // a secret that cannot be opened cannot leak either
		}
		for _, v := range cfg.Secrets {
			out = append(out, v.Reveal())
		}
	}
	return out, nil
}

// Test checks the connection of a saved system and keeps the result as its
// last test (shown after a reload, and part of its health).
func (s *Service) Test(ctx context.Context, actor, id string) (apitype.SystemsTestResult, error) {
	cfg, err := s.Config(id)
	if err != nil {
		return apitype.SystemsTestResult{}, err
	}
	res := s.probe(ctx, cfg)
	t := apitype.SystemTest{SystemsTestResult: res, Actor: actor}
	if err := s.tests.Put(id, t); err != nil {
		return apitype.SystemsTestResult{}, fmt.Errorf("keep the test result of %s: %w", cfg.Name, err)
	}
	s.announceTest(id, t)
	return res, nil
}

// TestDraft checks a configuration that is not saved (a form before Create,
// or a saved system with edits before Update): nothing is stored, but the
// result is remembered in memory, so that saving exactly this connection
// keeps it as the system's last test (draft.go). With p.ID set, omitted
// fields and secrets keep the saved system's values.
func (s *Service) TestDraft(ctx context.Context, actor string, p apitype.SystemsTestParams) (apitype.SystemsTestResult, error) {
	var cfg connector.Config
	var spec connector.Spec
	if p.ID != "" {
		base, err := s.Config(p.ID)
		if err != nil {
			return apitype.SystemsTestResult{}, err
		}
		cfg = base
		spec, _ = connector.Lookup(cfg.Kind)
	} else {
		var ok bool
		if spec, ok = connector.Lookup(p.Kind); !ok {
			return apitype.SystemsTestResult{}, invalid("kind", "%q is not a known system kind", p.Kind)
		}
		cfg = connector.Config{ID: "draft", Kind: p.Kind, Secrets: map[string]secret.Secret{}}
		if p.Name != "" {
			name, err := validateName(p.Name)
			if err != nil {
				return apitype.SystemsTestResult{}, err
			}
			cfg.Name = name
		}
		if p.URL == nil {
			return apitype.SystemsTestResult{}, invalid("url", "is required")
		}
	}
	if cfg.Name == "" {
		cfg.Name = "The system"
	}
	if p.URL != nil {
		u, err := validateURL(*p.URL)
		if err != nil {
			return apitype.SystemsTestResult{}, err
		}
		cfg.URL = u
	}
	if p.Settings != nil || p.ID == "" {
		settings, err := validateSettings(spec, p.Settings)
		if err != nil {
			return apitype.SystemsTestResult{}, err
		}
		cfg.Settings = settings
	}
	secrets := maps.Clone(cfg.Secrets)
	for k, v := range p.Secrets {
		if err := checkSecret(spec, k, v); err != nil {
			return apitype.SystemsTestResult{}, err
		}
		if v == "" {
			delete(secrets, k)
			continue
		}
		secrets[k] = secret.New(v.Reveal())
	}
	cfg.Secrets = secrets
	for _, f := range spec.Fields {
		if f.Secret && f.Required && !cfg.Secrets[f.Name].IsSet() {
			return apitype.SystemsTestResult{}, invalid("secrets."+f.Name, "is required")
		}
	}
	res := s.probe(ctx, cfg)
	s.drafts.remember(p.ID, cfg, apitype.SystemTest{SystemsTestResult: res, Actor: actor})
	return res, nil
}

// probe runs the kind's connection test, bounded so the request stays
// under the API's 30 s, and says in words what failed.
func (s *Service) probe(ctx context.Context, cfg connector.Config) apitype.SystemsTestResult {
	spec, _ := connector.Lookup(cfg.Kind)
	test := spec.Test
	if test == nil {
		test = connector.Probe
	}
	ctx, cancel := context.WithTimeout(ctx, 25*time.Second)
	defer cancel()
	start := time.Now()
	msg, err := test(ctx, cfg)
	res := apitype.SystemsTestResult{LatencyMs: time.Since(start).Milliseconds(), At: s.now().UTC()}
	if err != nil {
		res.Message = scrub(err.Error(), cfg)
		project, _ := cfg.Settings["project"].(string)
		res.Problem, res.Action = connector.Explain(connector.Cause(err), cfg.Name, project)
		return res
	}
	res.OK, res.Message = true, scrub(msg, cfg)
	return res
}

// LastTest returns a system's last kept connection test, if any.
func (s *Service) LastTest(id string) (*apitype.SystemTest, error) {
	t, err := s.tests.Get(id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read the last test of system %s: %w", id, err)
	}
	return &t, nil
}

// replacedSecrets records a secret given a new value where one was set: the
// set-or-not view cannot show it, and an audit must (never the value).
func replacedSecrets(before Record, in map[string]apitype.Secret) []audit.Change {
	var names []string
	for k, v := range in {
		if v != "" && len(before.Secrets[k]) > 0 {
			names = append(names, k)
		}
	}
	sort.Strings(names)
	out := make([]audit.Change, 0, len(names))
	for _, k := range names {
		out = append(out, audit.Change{Field: k, After: "replaced"})
	}
	return out
}

// connectionChanged says whether an edit touched what a connection test
// depends on: the address, the settings or a secret.
func connectionChanged(before, after Record) bool {
	if before.URL != after.URL || !reflect.DeepEqual(before.Settings, after.Settings) || len(before.Secrets) != len(after.Secrets) {
		return true
	}
	for k, v := range after.Secrets {
		if !bytes.Equal(before.Secrets[k], v) {
			return true
		}
	}
	return false
}

// scrub removes the system's own secrets from a message a remote server or
// library produced, which may echo what it was sent.
func scrub(msg string, cfg connector.Config) string {
	return secret.Scrub(msg, secret.Values(cfg.Secrets)...)
}
