// Package syncbench joins a sandbox project to a connector under test
// through the real engine, for the kinds' benchmarks.
package syncbench

import (
	"context"
	"fmt"
	"testing"

	"github.com/lockstep-sync/lockstep/agent/agenttest/rig"
	"github.com/lockstep-sync/lockstep/agent/internal/connector"
	"github.com/lockstep-sync/lockstep/agent/internal/mapping"
	"github.com/lockstep-sync/lockstep/agent/internal/sandbox"
	"github.com/lockstep-sync/lockstep/agent/internal/syncer"
)

// Bench joins a sandbox project, HELP with items of type incident, as
// side A, to the connector under test, as side B, through the real engine
// and a real encrypted store, syncing titles both ways: what the kinds'
// benchmarks measure their connector's requests by.
type Bench struct {
	tb      testing.TB
	Sandbox *sandbox.Server
	Engine  *syncer.Engine
	Process syncer.Process
}

// New makes the bench; b syncs project's entityType items.
func New(tb testing.TB, b connector.Connector, project, entityType string) *Bench {
	tb.Helper()
	a := rig.NewSandbox(tb, "HELP", "incident", sandbox.Knobs{})
	eng := rig.NewEngine(tb, rig.Systems{a.ID: a.Conn, "sys-B": b})
	p, err := eng.Processes().Create(context.Background(), "bench", syncer.Process{Name: "bench",
		A: syncer.End{System: "sys-HELP", Project: "HELP"}, B: syncer.End{System: "sys-B", Project: project},
		Types: []mapping.TypePair{{A: "incident", B: entityType, Fields: []mapping.FieldPair{
			{A: "title", B: "title", Direction: mapping.Both}}}},
		Options: syncer.Options{CreateInA: true, CreateInB: true, Conflict: syncer.ConflictAWins}})
	if err != nil {
		tb.Fatal(err)
	}
	return &Bench{tb: tb, Sandbox: a.Server, Engine: eng, Process: p}
}

// Seed makes n sandbox items, "item 0" to "item n-1".
func (s *Bench) Seed(n int) {
	s.tb.Helper()
	for i := range n {
		if _, err := s.Sandbox.Store().CreateItem(sandbox.NewItem{Project: "HELP", Type: "incident", Title: fmt.Sprint("item ", i),
			Status: "open", Priority: "low"}); err != nil {
			s.tb.Fatal(err)
		}
	}
}

// Run runs the process once, now.
func (s *Bench) Run() {
	s.tb.Helper()
	if _, err := s.Engine.RunNow(context.Background(), s.Process.ID); err != nil {
		s.tb.Fatal(err)
	}
}

// RetitleAll appends suffix to the title of every sandbox item, as its
// users would.
func (s *Bench) RetitleAll(suffix string) {
	s.tb.Helper()
	var items []sandbox.Item // all first: an edited item moves to the end of the list
	for q := (sandbox.Query{Project: "HELP", Limit: 100}); ; {
		page, err := s.Sandbox.Store().ListItems(q)
		if err != nil {
			s.tb.Fatal(err)
		}
		items = append(items, page.Items...)
		if q.Cursor = page.NextCursor; q.Cursor == "" {
			break
		}
	}
	for _, it := range items {
		title := it.Title + suffix
		if _, err := s.Sandbox.Store().UpdateItem(it.Key, sandbox.Patch{Title: &title}, 0); err != nil {
			s.tb.Fatal(err)
		}
	}
}
