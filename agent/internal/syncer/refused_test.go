package syncer_test

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lockstep-sync/lockstep/agent/agenttest"
	"github.com/lockstep-sync/lockstep/agent/agenttest/rig"
	"github.com/lockstep-sync/lockstep/agent/internal/connector"
	"github.com/lockstep-sync/lockstep/agent/internal/connector/sandboxconn"
	"github.com/lockstep-sync/lockstep/agent/internal/mapping"
	"github.com/lockstep-sync/lockstep/agent/internal/sandbox"
	"github.com/lockstep-sync/lockstep/agent/internal/syncer"
	"github.com/lockstep-sync/lockstep/shared/apitype"
)

// revokedAfter is a sandbox's connector whose token the sandbox revokes
// once the connector has created `after` entities: the credentials that
// served the run's polls are refused in the middle of its items, as when
// an administrator revokes a token or it expires during a run.
type revokedAfter struct {
	*sandboxconn.Conn
	after   int32
	created atomic.Int32
	revoke  func()
}

func (r *revokedAfter) Create(ctx context.Context, project, entityType string, fields connector.Fields, marker connector.Marker) (connector.Entity, error) {
	e, err := r.Conn.Create(ctx, project, entityType, fields, marker)
	if err == nil && r.created.Add(1) == r.after {
		r.revoke()
	}
	return e, err
}

// TestRefusedCredentialsStopTheRun: a token refused in the middle of an
// initial sync stops the run at the first 401. No entity is parked and no
// attempt is counted against any: every item not worked stays queued as it
// was; the requests sent with the refused token are at most one per worker
// in flight, not one per item; the run records one failure naming the
// side whose system refused, so the process and that system read failing
// because of the credentials. With the token accepted again the next run
// syncs everything, nothing twice: the connection test of the fixed
// system starts it.
func TestRefusedCredentialsStopTheRun(t *testing.T) {
	a := rig.NewSandbox(t, "HELP", "incident", sandbox.Knobs{})
	b := rig.NewSandbox(t, "ENG", "bug", sandbox.Knobs{})
	const after = 10
	bcon := &revokedAfter{Conn: b.Conn, after: after, revoke: func() { b.Server.RevokeToken(rig.Token) }}
	eng := rig.NewEngine(t, rig.Systems{a.ID: a.Conn, b.ID: bcon})
	ctx := context.Background()
	p, err := eng.Processes().Create(ctx, "test", syncer.Process{Name: "refused", Active: true, Schedule: syncer.Schedule{PollSeconds: 3600},
		A: syncer.End{System: a.ID, Project: "HELP"}, B: syncer.End{System: b.ID, Project: "ENG"},
		Types: []mapping.TypePair{{A: "incident", B: "bug", Fields: []mapping.FieldPair{
			{A: "title", B: "title", Direction: mapping.Both}, {A: "priority", B: "priority", Direction: mapping.Both}}}},
		Options: syncer.Options{CreateInB: true, Comments: true, Conflict: syncer.ConflictAWins}})
	if err != nil {
		t.Fatal(err)
	}
	const n = 50
	ids := map[string]bool{}
	for i := range n {
		it, err := a.Server.Store().CreateItem(sandbox.NewItem{Project: "HELP", Type: "incident", Title: fmt.Sprint("help ", i), Priority: "low"})
		if err != nil {
			t.Fatal(err)
		}
		ids[strconv.FormatInt(it.ID, 10)] = true
	}

	r, err := eng.RunNow(ctx, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	// One failure, the run's, on side B, because of the credentials.
	if len(r.Errors) != 1 {
		t.Fatalf("want the run's one failure, got %+v", r.Errors)
	}
	re := r.Errors[0]
	if re.Entity != "" || re.Side != syncer.SideB || re.Cause != connector.CauseUnauthorized || re.Parked {
		t.Fatalf("the run's failure: %+v", re)
	}
	if !strings.Contains(re.Message, b.ID) {
		t.Fatalf("the failure does not name the system %s: %q", b.ID, re.Message)
	}
	if r.Counts.Failed != 0 {
		t.Fatalf("%d items counted failed", r.Counts.Failed)
	}
	// At most one request per worker met the revoked token: the one in
	// flight when the first was refused.
	refused := b.Server.Stats().ByStatus["401"]
	if refused < 1 || refused > syncer.DrainWorkers {
		t.Fatalf("%d requests sent with the refused token, want 1 to %d", refused, syncer.DrainWorkers)
	}
	if parked, err := eng.Views().Errors(p.ID); err != nil || len(parked) != 0 {
		t.Fatalf("parked: %v %+v", err, parked)
	}
	// Every item is either synced or queued as it was: no attempt, no
	// error, no backoff.
	q, err := eng.Views().Queue(p.ID, 500)
	if err != nil {
		t.Fatal(err)
	}
	queued := map[string]bool{}
	for _, e := range q.Items {
		if e.Side != syncer.SideA || !ids[e.Entity] || e.Attempts != 0 || e.LastError != "" || !e.NextAttempt.IsZero() {
			t.Fatalf("queue entry changed: %+v", e.Pending)
		}
		queued[e.Entity] = true
	}
	pairs, _, err := eng.Views().Pairs(p.ID, "", "", 500)
	if err != nil {
		t.Fatal(err)
	}
	paired := map[string]bool{}
	for _, pv := range pairs {
		paired[pv.A.ID] = true
	}
	for id := range ids {
		if !queued[id] && !paired[id] {
			t.Fatalf("item %s is neither synced nor queued: lost", id)
		}
	}
	// A create in flight when the run stopped may have landed without its
	// answer: its copy is found by its marker next time, not made again.
	if made := count(t, b.Server, "ENG"); made < after || made < len(pairs) || made > len(pairs)+syncer.DrainWorkers-1 || len(queued) < n-len(pairs) {
		t.Fatalf("%d copies made, %d pairs, %d queued of %d", made, len(pairs), len(queued), n)
	}
	t.Logf("stopped after %d copies, %d refused requests, %d items queued: %s", len(pairs), refused, len(queued), re.Message)

	// The process and system B read failing because of the credentials
	// (what RetrySystem looks for when the token is fixed); A is fine.
	names := map[string]string{a.ID: "HELP", b.ID: "ENG"}
	byProc, bySys, err := eng.Views().SystemsHealth(names)
	if err != nil {
		t.Fatal(err)
	}
	if h := byProc[p.ID]; h.State != apitype.HealthFailing || h.Cause != connector.CauseUnauthorized || h.System != b.ID {
		t.Fatalf("process health: %+v", h)
	}
	if h := bySys[b.ID]; h.State != apitype.HealthFailing || h.Cause != connector.CauseUnauthorized {
		t.Fatalf("health of %s: %+v", b.ID, h)
	}
	if h := bySys[a.ID]; h.State != apitype.HealthOK {
		t.Fatalf("health of %s: %+v", a.ID, h)
	}

	// The engine serves: its first run meets the refused token at the
	// poll, and polls again in an hour.
	runs := func() []syncer.Run {
		rs, err := eng.Views().Runs(p.ID, 10)
		if err != nil {
			t.Fatal(err)
		}
		return rs
	}
	serve, stop := context.WithCancel(ctx)
	served := make(chan struct{})
	go func() { eng.Serve(serve); close(served) }()
	t.Cleanup(func() { stop(); <-served })
	agenttest.Eventually(t, "the served run to meet the refused token", func() bool {
		rs := runs()
		return len(rs) == 2 && !rs[0].EndedAt.IsZero()
	})
	// The token is accepted again and the system's test passes: the
	// process failing because of it runs now, and syncs the rest, once.
	b.Server.AddToken(sandbox.Token{Value: rig.Token, User: "alice"})
	if started, err := eng.RetrySystem(b.ID); err != nil || len(started) != 1 || started[0].Process != p.ID || !started[0].Failing {
		t.Fatalf("the fixed system's test started %v, %v", started, err)
	}
	agenttest.Eventually(t, "the run the test started", func() bool {
		rs := runs()
		return len(rs) == 3 && rs[0].Trigger == syncer.TriggerTest && !rs[0].EndedAt.IsZero()
	})
	if r := runs()[0]; len(r.Errors) > 0 {
		t.Fatalf("after the fix: %+v", r.Errors)
	}
	if made := count(t, b.Server, "ENG"); made != n {
		t.Fatalf("%d copies of %d items", made, n)
	}
	if q, err := eng.Views().Queue(p.ID, 500); err != nil || q.Total != 0 {
		t.Fatalf("queue after the fix: %v %+v", err, q)
	}
	if pairs, _, _ := eng.Views().Pairs(p.ID, "", "", 500); len(pairs) != n {
		t.Fatalf("%d pairs of %d items", len(pairs), n)
	}
	if h, err := eng.Views().ProcessHealth(&p, names); err != nil || h.State != apitype.HealthOK {
		t.Fatalf("health after the fix: %v %+v", err, h)
	}
}

// TestBulkJobSaysItsRunFailed: a bulk sync whose run stops (credentials
// refused half way) ends "failed" with the run's reason, and says how many
// items it worked, not "done" with all of them.
func TestBulkJobSaysItsRunFailed(t *testing.T) {
	a := rig.NewSandbox(t, "HELP", "incident", sandbox.Knobs{})
	b := rig.NewSandbox(t, "ENG", "bug", sandbox.Knobs{})
	bcon := &revokedAfter{Conn: b.Conn, after: 5, revoke: func() { b.Server.RevokeToken(rig.Token) }}
	eng := rig.NewEngine(t, rig.Systems{a.ID: a.Conn, b.ID: bcon})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go eng.Serve(ctx)
	p, err := eng.Processes().Create(ctx, "test", syncer.Process{Name: "bulk refused",
		A: syncer.End{System: a.ID, Project: "HELP"}, B: syncer.End{System: b.ID, Project: "ENG"},
		Types: []mapping.TypePair{{A: "incident", B: "bug", Fields: []mapping.FieldPair{
			{A: "title", B: "title", Direction: mapping.Both}}}},
		Options: syncer.Options{CreateInB: true, Conflict: syncer.ConflictAWins}})
	if err != nil {
		t.Fatal(err)
	}
	const n = 30
	for i := range n {
		if _, err := a.Server.Store().CreateItem(sandbox.NewItem{Project: "HELP", Type: "incident", Title: fmt.Sprint("bulk ", i)}); err != nil {
			t.Fatal(err)
		}
	}
	var job syncer.BulkJob
	agenttest.Eventually(t, "the engine serving", func() bool {
		job, err = eng.Bulk(p.ID, time.Time{})
		return err == nil
	})
	agenttest.Eventually(t, "the bulk job ending", func() bool {
		job, err = eng.BulkStatus(job.ID)
		return err == nil && job.State != "running"
	})
	if job.State != "failed" || !strings.Contains(job.Error, "refused the credentials") || job.Run == "" {
		t.Fatalf("bulk job after its run stopped: %+v", job)
	}
	if job.Total != n || job.Done >= n {
		t.Fatalf("bulk job says %d of %d done; the run stopped after about 5 creates", job.Done, job.Total)
	}
}
