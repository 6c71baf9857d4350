package contracttest

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lockstep-sync/lockstep/agent/internal/connector"
)

// Helpers the connectors' own tests share: configurations, opening,
// reading every page of changes, and the scaffolding of their fuzz tests.

// SystemID is a system id unique to the running test, so limiters, caches
// and markers of parallel tests never meet.
func SystemID(t testing.TB) string {
	return "sys-" + strings.ReplaceAll(t.Name(), "/", "-")
}

// Settings returns base with the name/value pairs of more set on it: the
// tests' way of saying "the usual configuration, but with this".
func Settings(t testing.TB, base map[string]any, more ...any) map[string]any {
	t.Helper()
	if len(more)%2 != 0 {
		t.Fatalf("settings %v: names and values must come in pairs", more)
	}
	out := make(map[string]any, len(base)+len(more)/2)
	for k, v := range base {
		out[k] = v
	}
	for i := 0; i < len(more); i += 2 {
		name, ok := more[i].(string)
		if !ok {
			t.Fatalf("setting name %v is %T, not text", more[i], more[i])
		}
		out[name] = more[i+1]
	}
	return out
}

// Open opens a connector with a package's own Open, fails the test if it
// cannot, and closes it when the test ends.
func Open[C any](t testing.TB, open func(connector.Config, connector.Env) (C, error), cfg connector.Config, env connector.Env) C {
	t.Helper()
	c, err := open(cfg, env)
	if err != nil {
		t.Fatalf("open %s system %s: %v", cfg.Kind, cfg.Name, err)
	}
	if cl, ok := any(c).(io.Closer); ok {
		t.Cleanup(func() { cl.Close() })
	}
	return c
}

// Pages reads Changes of project since from the first page to the last,
// checking that entities come in ascending UpdatedAt across pages. It
// fails the test on an error, or when paging has not ended after
// maxPages pages.
func Pages(t testing.TB, ctx context.Context, c connector.Connector, project string, since time.Time, maxPages int) []connector.Page {
	t.Helper()
	return pages(t, ctx, c, project, since, maxPages, nil)
}

// pages is Pages, calling between, when set, after each page but the last.
func pages(t testing.TB, ctx context.Context, c connector.Connector, project string, since time.Time, maxPages int, between func(n int)) []connector.Page {
	t.Helper()
	var (
		out    []connector.Page
		last   time.Time
		cursor string
	)
	for range maxPages {
		page, err := c.Changes(ctx, project, since, cursor)
		if err != nil {
			t.Fatalf("changes of %q since %v, page %d: %v", project, since, len(out)+1, err)
		}
		for _, e := range page.Entities {
			if e.UpdatedAt.Before(last) {
				t.Fatalf("changes not ascending: %v after %v", e.UpdatedAt, last)
			}
			last = e.UpdatedAt
		}
		out = append(out, page)
		if cursor = page.Cursor; cursor == "" {
			return out
		}
		if between != nil {
			between(len(out))
		}
	}
	t.Fatalf("paging did not end after %d pages", maxPages)
	return nil
}

// Entities are the entities of pages, in order.
func Entities(pages []connector.Page) []connector.Entity {
	var out []connector.Entity
	for _, p := range pages {
		out = append(out, p.Entities...)
	}
	return out
}

// FuzzServer is an HTTP server for fuzzing a connector's decoders: it
// answers every request with the body last given to serve, as JSON.
func FuzzServer(f *testing.F) (url string, serve func(body []byte)) {
	var body atomic.Pointer[[]byte]
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if b := body.Load(); b != nil {
			_, _ = w.Write(*b)
		}
	}))
	f.Cleanup(srv.Close)
	return srv.URL, func(b []byte) { body.Store(&b) }
}

// ReadAll calls every reading method of the contract on ref and project,
// and one Update with version, ignoring what they return: a fuzz test
// serving odd answers asks only that none of them panics or hangs.
func ReadAll(ctx context.Context, c connector.Connector, project string, ref connector.Ref, version string) {
	_, _ = c.Validate(ctx)
	_, _ = c.Schema(ctx, project)
	_, _ = c.Get(ctx, ref)
	_, _ = c.Comments(ctx, ref)
	_, _ = c.Attachments(ctx, ref)
	_, _ = c.Links(ctx, ref)
	_, _ = c.Changes(ctx, project, time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC), "")
	_, _ = c.FindByMarker(ctx, project, connector.Marker{System: "s", Key: "K-1"})
	_, _ = c.Update(ctx, ref, connector.Fields{"title": "t", "labels": []string{"a"}}, version)
}

// DesktopKindFixture keeps the desktop's form test of a kind on the kind's
// real schema: frontend/src/pages/systems/testdata/<kind>.kind.json must
// be what systems.kinds answers for it (with update, it is written first).
// It runs from the connector's package directory,
// agent/internal/connector/<kind>.
func DesktopKindFixture(t *testing.T, kind string, update bool) {
	t.Helper()
	spec, ok := connector.Lookup(kind)
	if !ok {
		t.Fatalf("kind %s is not registered", kind)
	}
	want, err := json.MarshalIndent(spec.Schema(), "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	want = append(want, '\n')
	path := filepath.Join("..", "..", "..", "..", "frontend", "src", "pages", "systems", "testdata", kind+".kind.json")
	if update {
		if err := os.WriteFile(path, want, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%s is not the kind's schema; rewrite it with go test -run DesktopKind -update:\n%s", path, want)
	}
}
