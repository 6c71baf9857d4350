package servicenow_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/lockstep-sync/lockstep/agent/agenttest/rig"
	"github.com/lockstep-sync/lockstep/agent/internal/connector"
	"github.com/lockstep-sync/lockstep/agent/internal/connector/servicenow"
	"github.com/lockstep-sync/lockstep/agent/internal/connector/servicenow/snemu"
	"github.com/lockstep-sync/lockstep/agent/internal/mapping"
	"github.com/lockstep-sync/lockstep/agent/internal/sandbox"
	"github.com/lockstep-sync/lockstep/agent/internal/secret"
	"github.com/lockstep-sync/lockstep/agent/internal/syncer"
)

// BenchmarkServiceNowSync runs the engine between the ServiceNow emulator
// (incidents) and a sandbox (bugs) and reports what the ServiceNow side
// costs in requests: per incident synced to a new bug, per changed
// incident, per change written into an incident, and per idle poll. The
// numbers are counts, not times: the same on any machine.
func BenchmarkServiceNowSync(b *testing.B) {
	const n = 100
	ctx := context.Background()
	var perNew, perChanged, perWritten, perIdle float64
	for range b.N {
		sn := snemu.Start(snemu.Options{Users: []snemu.User{{UserName: "lockstep", Name: "Lockstep", Password: "bench-password"}}})
		b.Cleanup(sn.Close)
		eng := rig.NewSandbox(b, "ENG", "bug", sandbox.Knobs{})
		snc, err := servicenow.Open(connector.Config{ID: "bench-sn", Name: "SN", Kind: servicenow.Kind, URL: sn.URL(),
			Settings: map[string]any{"username": "lockstep"}, Secrets: map[string]secret.Secret{"password": secret.New("bench-password")}}, connector.Env{})
		if err != nil {
			b.Fatal(err)
		}
		e := rig.NewEngine(b, rig.Systems{"bench-sn": snc, eng.ID: eng.Conn})
		p, err := e.Processes().Create(ctx, "bench", syncer.Process{Name: "bench",
			A: syncer.End{System: "bench-sn", Project: "incident"}, B: syncer.End{System: eng.ID, Project: "ENG"},
			Types: []mapping.TypePair{{A: "incident", B: "bug", Fields: []mapping.FieldPair{
				{A: "title", B: "title", Direction: mapping.Both}}}},
			Options: syncer.Options{CreateInA: true, CreateInB: true, Conflict: syncer.ConflictAWins}})
		if err != nil {
			b.Fatal(err)
		}
		var ids []string
		for i := range n {
			id, err := sn.Insert("incident", "lockstep", map[string]string{"short_description": fmt.Sprint("incident ", i)})
			if err != nil {
				b.Fatal(err)
			}
			ids = append(ids, id)
		}
		run := func() float64 {
			before := sn.Stats().Requests
			if _, err := e.RunNow(ctx, p.ID); err != nil {
				b.Fatal(err)
			}
			return float64(sn.Stats().Requests - before)
		}
		perNew += run() / n
		run() // settles the echoes of its own writes
		perIdle += run()
		for _, id := range ids {
			if err := sn.Update(id, "lockstep", map[string]string{"short_description": sn.Record(id)["short_description"] + " (edited)"}); err != nil {
				b.Fatal(err)
			}
		}
		perChanged += run() / n
		run()
		q := sandbox.Query{Project: "ENG", Limit: 100}
		page, err := eng.Server.Store().ListItems(q)
		if err != nil || len(page.Items) != n {
			b.Fatalf("%d bugs, %v", len(page.Items), err)
		}
		for _, it := range page.Items {
			title := it.Title + " (fixed)"
			if _, err := eng.Server.Store().UpdateItem(it.Key, sandbox.Patch{Title: &title}, 0); err != nil {
				b.Fatal(err)
			}
		}
		perWritten += run() / n
	}
	b.ReportMetric(perNew/float64(b.N), "servicenow_requests/new_incident")
	b.ReportMetric(perChanged/float64(b.N), "servicenow_requests/changed_incident")
	b.ReportMetric(perWritten/float64(b.N), "servicenow_requests/written_change")
	b.ReportMetric(perIdle/float64(b.N), "servicenow_requests/idle_poll")
}
