// Package connector is the contract between the sync engine and the work
// systems, and the registry of system kinds. Each kind registers a Spec: its
// schema (the settings and secrets a system of that kind needs, which the
// desktop app turns into forms) and how to test a connection.
package connector

import (
	"context"
	"fmt"
	"sort"
	"sync"

	"github.com/lockstep-sync/lockstep/agent/internal/secret"
	"github.com/lockstep-sync/lockstep/shared/apitype"
)

// Config is a configured system as a connector sees it: settings in clear,
// secrets unsealed in memory only.
type Config struct {
	ID       string
	Name     string
	Kind     string
	URL      string
	Settings map[string]any
	Secrets  map[string]secret.Secret
}

// Spec describes a system kind.
type Spec struct {
	Kind   string
	Title  string
	Fields []apitype.KindField
	// URLHelp says where a new administrator finds the system's address
	// (shown under the form's URL field); empty uses a generic line.
	URLHelp string
	// Test checks that a system of this kind is reachable with its
	// credentials; nil uses a generic HTTPS reachability probe.
	Test func(ctx context.Context, c Config) (message string, err error)
	// Open makes a connector; nil for a kind known by its schema only.
	Open Opener
}

// Field returns the named field.
func (s Spec) Field(name string) (apitype.KindField, bool) {
	for _, f := range s.Fields {
		if f.Name == name {
			return f, true
		}
	}
	return apitype.KindField{}, false
}

var (
	mu    sync.RWMutex
	specs = map[string]Spec{}
)

// Register adds a kind. A kind is registered once: a second registration of
// the same kind is refused, since it means two packages claim one kind and
// whichever init ran last would silently win.
func Register(s Spec) error {
	if s.Kind == "" || s.Title == "" {
		return fmt.Errorf("register connector kind %q: kind and title are required", s.Kind)
	}
	mu.Lock()
	defer mu.Unlock()
	if _, ok := specs[s.Kind]; ok {
		return fmt.Errorf("register connector kind %q: it is already registered", s.Kind)
	}
	specs[s.Kind] = s
	return nil
}

// MustRegister registers a kind from a connector package's init and panics
// when Register refuses it, as database/sql.Register does: a duplicate or
// nameless kind is a mistake in how the binary was put together, and every
// binary and test that links the two packages stops at start-up instead of
// running with one kind quietly replaced.
func MustRegister(s Spec) {
	if err := Register(s); err != nil {
		panic(err)
	}
}

// Override registers s in place of the kind's current registration, or as
// a new kind, until restore is called, which puts back what was there. It
// is for tests that stand in for a kind (the agent's own or one of their
// making), so that doing so is said out loud rather than done by a second
// Register.
func Override(s Spec) (restore func()) {
	mu.Lock()
	defer mu.Unlock()
	prev, had := specs[s.Kind]
	specs[s.Kind] = s
	return func() {
		mu.Lock()
		defer mu.Unlock()
		if had {
			specs[s.Kind] = prev
		} else {
			delete(specs, s.Kind)
		}
	}
}

// Lookup returns a kind's spec.
func Lookup(kind string) (Spec, bool) {
	mu.RLock()
	defer mu.RUnlock()
	s, ok := specs[kind]
	return s, ok
}

// Kinds lists every kind, sorted by title.
func Kinds() []Spec {
	mu.RLock()
	defer mu.RUnlock()
	out := make([]Spec, 0, len(specs))
	for _, s := range specs {
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Title < out[j].Title })
	return out
}

// Schema returns the wire view of a spec.
func (s Spec) Schema() apitype.Kind {
	return apitype.Kind{Kind: s.Kind, Title: s.Title, URLHelp: s.URLHelp, Fields: append([]apitype.KindField(nil), s.Fields...)}
}
