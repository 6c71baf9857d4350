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

// Register adds or replaces a kind. A connector package registers its kind in
// init.
func Register(s Spec) error {
	if s.Kind == "" || s.Title == "" {
		return fmt.Errorf("register connector kind %q: kind and title are required", s.Kind)
	}
	mu.Lock()
	defer mu.Unlock()
	specs[s.Kind] = s
	return nil
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
