package syncer_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/lockstep-sync/lockstep/agent/internal/connector"
	sbconn "github.com/lockstep-sync/lockstep/agent/internal/connector/sandbox"
	"github.com/lockstep-sync/lockstep/agent/internal/events"
	"github.com/lockstep-sync/lockstep/agent/internal/mapping"
	"github.com/lockstep-sync/lockstep/agent/internal/sandbox"
	"github.com/lockstep-sync/lockstep/agent/internal/secret"
	"github.com/lockstep-sync/lockstep/agent/internal/store"
	"github.com/lockstep-sync/lockstep/agent/internal/syncer"
)

type sandboxSide struct {
	srv  *sandbox.Server
	conn *sbconn.Conn
	url  string
}

// neighbour spends the sandbox's request budget from another client, as a
// busy system's other users do, so the engine meets 429s it must wait out.
func neighbour(ctx context.Context, url string) {
	for ctx.Err() == nil {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url+"/api/users", nil)
		req.Header.Set("Authorization", "Bearer tok")
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
		}
		time.Sleep(60 * time.Millisecond)
	}
}

func newSandboxSide(t testing.TB, key, typ string, knobs sandbox.Knobs) sandboxSide {
	t.Helper()
	s, err := sandbox.New(sandbox.Options{Tokens: []sandbox.Token{{Value: "tok", User: "alice"}}, Users: sandbox.DemoUsers(),
		Projects: []sandbox.Project{{Key: key, Name: key, Types: []string{typ}}}, Knobs: knobs, Seed: 11})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(s.Handler())
	t.Cleanup(func() { hs.Close(); s.Close() })
	c, err := sbconn.Open(connector.Config{ID: "sys-" + key, Name: key, Kind: "sandbox", URL: hs.URL,
		Settings: map[string]any{"project": key}, Secrets: map[string]secret.Secret{"token": secret.New("tok")}}, connector.Env{})
	if err != nil {
		t.Fatal(err)
	}
	return sandboxSide{srv: s, conn: c, url: hs.URL}
}

// TestConvergesThroughFaults syncs two real sandboxes answering 20% of
// requests with 503 and rate limiting the rest (429 with Retry-After):
// everything converges, nothing is duplicated.
func TestConvergesThroughFaults(t *testing.T) {
	if testing.Short() {
		t.Skip("syncs over HTTP with injected faults")
	}
	knobs := sandbox.Knobs{ErrorRate: 0.2, RatePerSecond: 25, Burst: 5}
	a := newSandboxSide(t, "HELP", "incident", knobs)
	b := newSandboxSide(t, "ENG", "bug", knobs)
	key := make([]byte, 32)
	rand.Read(key)
	st, err := store.Create(store.Options{Dir: t.TempDir(), Key: key})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	eng := syncer.New(syncer.Deps{Store: st, Bus: events.New(100, nil), Log: zerolog.Nop(),
		Open: func(id string) (connector.Connector, error) {
			if id == "sys-HELP" {
				return a.conn, nil
			}
			return b.conn, nil
		}})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go eng.Serve(ctx)
	const n = 20
	for i := 0; i < n; i++ {
		a.srv.Store().CreateItem(sandbox.NewItem{Project: "HELP", Type: "incident", Title: fmt.Sprint("help ", i), Status: "open", Priority: "low"})
		b.srv.Store().CreateItem(sandbox.NewItem{Project: "ENG", Type: "bug", Title: fmt.Sprint("eng ", i), Status: "open", Priority: "high"})
	}
	p, err := eng.Create(ctx, "test", syncer.Process{Name: "faults",
		A: syncer.End{System: "sys-HELP", Project: "HELP"}, B: syncer.End{System: "sys-ENG", Project: "ENG"},
		Types: []mapping.TypePair{{A: "incident", B: "bug", Fields: []mapping.FieldPair{
			{A: "title", B: "title", Direction: mapping.Both}, {A: "status", B: "status", Direction: mapping.Both},
			{A: "priority", B: "priority", Direction: mapping.Both}}}},
		Options: syncer.Options{CreateInA: true, CreateInB: true, Comments: true, Conflict: syncer.ConflictAWins}})
	if err != nil {
		t.Fatal(err)
	}
	go neighbour(ctx, a.url)
	go neighbour(ctx, b.url)
	deadline := time.Now().Add(3 * time.Minute)
	for {
		if _, err := eng.RunNow(ctx, p.ID); err != nil {
			t.Fatal(err)
		}
		errs, _ := eng.Errors(p.ID)
		if len(errs) > 0 {
			eng.Retry(p.ID, "", "")
		}
		pairs, _, _ := eng.Pairs(p.ID, "", "", 500)
		ca, cb := count(t, a.srv, "HELP"), count(t, b.srv, "ENG")
		if len(pairs) == 2*n && ca == 2*n && cb == 2*n {
			break
		}
		if ca > 2*n || cb > 2*n {
			t.Fatalf("duplicates: %d and %d items", ca, cb)
		}
		if time.Now().After(deadline) {
			t.Fatalf("no convergence: %d pairs, %d and %d items", len(pairs), ca, cb)
		}
	}
	sa, sb := a.srv.Stats(), b.srv.Stats()
	if sa.InjectedFaults+sb.InjectedFaults == 0 || sa.RateLimited+sb.RateLimited == 0 {
		t.Fatal("no 5xx or no 429 was injected: the test proves nothing")
	}
	t.Logf("requests %d+%d, injected faults %d+%d, rate limited %d+%d", sa.Requests, sb.Requests, sa.InjectedFaults, sb.InjectedFaults, sa.RateLimited, sb.RateLimited)
}

func count(t testing.TB, s *sandbox.Server, project string) int {
	n := 0
	q := sandbox.Query{Project: project, Limit: 100}
	for {
		page, err := s.Store().ListItems(q)
		if err != nil {
			t.Fatal(err)
		}
		n += len(page.Items)
		if page.NextCursor == "" {
			return n
		}
		q.Cursor = page.NextCursor
	}
}
