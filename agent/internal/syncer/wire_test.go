package syncer

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/lockstep-sync/lockstep/agent/internal/mapping"
	"github.com/lockstep-sync/lockstep/shared/apitype"
)

var updateWire = flag.Bool("update-wire", false, "rewrite testdata/wire")

// The engine's records are stored, exported and sent as they encode, so
// their JSON (and the export's YAML) must not change when their types move
// or are renamed: these goldens were written before the wire types moved to
// shared/apitype and pin every field's name, order and omission rule.

func wireTime(s int) time.Time { return time.Date(2026, 3, 4, 5, 6, s, 7000, time.UTC) }

func str(s string) *string { return &s }

// fullProcess sets every field of a process to something other than its
// zero value.
func fullProcess() Process {
	return Process{
		ID: "p1", Name: "Helpdesk to Engineering",
		A: End{System: "sa", Project: "HELP"}, B: End{System: "sb", Project: "ENG"},
		Types: []mapping.TypePair{{
			A: "incident", B: "bug",
			Fields: []mapping.FieldPair{
				{A: "status", B: "state", Direction: mapping.Both,
					ValueMap: &mapping.ValueMap{Pairs: []mapping.ValuePair{{A: "Open", B: "new"}}, DefaultA: str("Open"), DefaultB: str("new"), OnMissing: mapping.OnMissingDefault}},
				{A: "assignee", B: "owner", Direction: mapping.AtoB, UserMap: true,
					TransformAToB: &mapping.Transform{Kind: mapping.TransformRegex, Value: "v", Pattern: "^(.*)$", Replace: "$1"},
					TransformBToA: &mapping.Transform{Kind: mapping.TransformConstant, Value: "x"}},
			},
			Filters: []mapping.Filter{
				{Side: mapping.SideB, Field: "priority", Op: mapping.OpIn, Value: []any{"high", 2.5, true}},
				{Field: "title", Op: mapping.OpNotEmpty},
			},
			LinkTypes: []mapping.LinkTypePair{{A: "blocks", B: "blocked by"}},
		}},
		Users: mapping.UserMap{
			Entries:   []mapping.UserEntry{{A: mapping.UserRef{ID: "1", Email: "a@x", Name: "Ann"}, B: mapping.UserRef{Email: "ann@y"}}},
			MatchBy:   mapping.MatchEmail,
			DefaultA:  &mapping.UserRef{Name: "Bot"},
			DefaultB:  &mapping.UserRef{ID: "9"},
			OnMissing: mapping.OnMissingKeep,
		},
		Options: Options{CreateInA: true, CreateInB: true, Comments: true, Attachments: true, MaxAttachmentBytes: 1 << 20, WritePeerKey: true, Conflict: ConflictHold,
			Deletes: Deletes{A: DeletePolicy{Action: DeleteMark, Field: "status", Value: "Gone", Comment: "{key} went"}, B: DeletePolicy{Action: DeleteMirror}}},
		Schedule:  Schedule{PollSeconds: 30, Webhooks: true},
		Active:    true,
		CreatedAt: wireTime(1), UpdatedAt: wireTime(2),
	}
}

func fullPair() Pair {
	return Pair{
		ID: "pr1", Process: "p1",
		A:     EntityRef{ID: "1", Key: "HELP-1", Title: "Printer", Type: "incident", URL: "https://a/1", Version: "3", Extras: "3"},
		B:     EntityRef{ID: "2", Key: "ENG-2"},
		State: PairHeld, Error: "e", Held: []string{"status|state"},
		Resolve:     map[string]Side{"status|state": SideB},
		Fields:      map[string]Base{"status|state": {A: "ha", B: "hb"}},
		Comments:    map[string]string{"a:1": "b:2", "b:2": "a:1"},
		Attachments: map[string]string{"a:3": "b:4"},
		Links:       map[string]bool{"blocks|1|2": true},
		CommentSums: map[string]string{"a:1": "h"}, AttachmentOrigins: map[string]bool{"a:3": true},
		Gone: SideA, Divergences: []string{"d"}, WaitingLinks: 2,
		CreatedAt: wireTime(3), LastSyncedAt: wireTime(4),
	}
}

func fullRun() Run {
	return Run{ID: "p1-7", Process: "p1", Trigger: "manual", StartedAt: wireTime(5), EndedAt: wireTime(6),
		Counts:    Counts{Created: 1, Updated: 2, Commented: 3, Attached: 4, Linked: 5, Skipped: 6, Failed: 7, Conflicts: 8, Deleted: 9},
		Conflicts: []ConflictRecord{{Pair: "pr1", Field: "status|state", AVersion: "3", BVersion: "4", Winner: "held"}},
		Errors:    []RunError{{Side: SideA, Entity: "1", Key: "HELP-1", Message: "m", Parked: true, Cause: "auth"}},
		Requests:  12, Interrupted: true}
}

// wireValues are the records as the API and the store carry them, each
// full and empty.
func wireValues() map[string]any {
	pending := Pending{Side: SideA, Entity: "1", Attempts: 2, Step: "fields", NextAttempt: wireTime(7), LastError: "x", Enqueued: wireTime(8)}
	brief := Brief{ID: "1", Key: "HELP-1", Title: "t"}
	return map[string]any{
		"process":           fullProcess(),
		"process-empty":     Process{},
		"pair":              fullPair(),
		"pair-empty":        Pair{},
		"pairview":          PairView{Pair: fullPair(), Pending: []Pending{pending}, Status: "s"},
		"pairview-empty":    PairView{},
		"run":               fullRun(),
		"run-empty":         Run{},
		"parked":            ParkedError{Process: "p1", Parked: Parked{Side: SideB, Entity: "2", Key: "ENG-2", Title: "t", Pair: "pr1", Error: "e", Attempts: 3, Step: "links", At: wireTime(9)}},
		"parked-empty":      ParkedError{},
		"plan":              []PlanItem{{Action: "create", Side: SideB, Entity: "1", Key: "HELP-1", Title: "t", Detail: "d"}, {}},
		"bulk":              BulkJob{ID: "j", Process: "p1", Since: wireTime(10), State: "done", Total: 3, Done: 3, Error: "e", Run: "p1-8", EndedAt: wireTime(11)},
		"bulk-empty":        BulkJob{},
		"values":            []FieldValues{{Field: "status|state", A: "Open", B: []any{"x"}, InB: "new", InA: nil, Held: true, Same: true}, {}},
		"adopt":             AdoptResult{Matches: []AdoptMatch{{A: brief, B: brief}}, Ambiguous: []AdoptAmbiguity{{Match: "m", A: []Brief{brief}, B: []Brief{}}}, UnmatchedA: []Brief{brief}, UnmatchedB: []Brief{}, AlreadyPaired: []AdoptMatch{}, Problems: []string{"line 2"}, Adopted: 1, DryRun: true},
		"adopt-empty":       AdoptResult{},
		"queue":             QueueView{Total: 1, Retrying: 1, Oldest: wireTime(12), Items: []QueueEntry{{Pending: pending, Key: "HELP-1", Title: "t", Pair: "pr1", Reason: "r"}}},
		"queue-empty":       QueueView{},
		"import":            ImportResult{Created: []string{"a"}, Updated: []string{"b"}},
		"document-process":  Document{Version: DocumentVersion, Kind: documentKind, Processes: []Process{fullProcess()}},
		"document-empty":    Document{},
		"adopt-request":     AdoptRequest{CSV: "a,b", MatchA: "title", MatchB: "title", DryRun: true},
		"adopt-request-nil": AdoptRequest{},
	}
}

func TestWireFormatUnchanged(t *testing.T) {
	for name, v := range wireValues() {
		got, err := json.Marshal(v)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		checkWireGolden(t, name+".json", got)
	}
	// The export document is YAML a person reviews in git.
	y, err := yaml.Marshal(Document{Version: DocumentVersion, Kind: documentKind, Processes: []Process{fullProcess(), {}}})
	if err != nil {
		t.Fatal(err)
	}
	checkWireGolden(t, "document.yaml", y)
	// And it reads back strictly into what was written.
	var back Document
	dec := yaml.NewDecoder(bytes.NewReader(y))
	dec.KnownFields(true)
	if err := dec.Decode(&back); err != nil {
		t.Fatal(err)
	}
	again, _ := yaml.Marshal(back)
	if !bytes.Equal(again, y) {
		t.Fatalf("the document does not survive a round trip:\n%s\n---\n%s", y, again)
	}
}

func checkWireGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", "wire", name)
	if *updateWire {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%s: %v (run with -update-wire to write it)", name, err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s changed:\n got %s\nwant %s", name, got, want)
	}
}

// The engine's events were maps until their payloads were typed; a map
// encodes its keys sorted, and each typed payload must read the same.
func TestEventPayloadsUnchanged(t *testing.T) {
	counts := Counts{Created: 1, Failed: 2}
	for _, c := range []struct {
		typed any
		was   map[string]any
	}{
		{apitype.RunStarted{Process: "p", Run: "p-1", Trigger: "manual"},
			map[string]any{"process": "p", "run": "p-1", "trigger": "manual"}},
		{apitype.RunFinished{Process: "p", Run: "p-1", Counts: counts, Errors: 3},
			map[string]any{"process": "p", "run": "p-1", "counts": counts, "errors": 3}},
		{apitype.PairFailed{Process: "p", Side: SideA, Entity: "1", Key: "K-1", Title: "t", Pair: "", Error: "e", Step: "fields", Cause: "invalid"},
			map[string]any{"process": "p", "side": SideA, "entity": "1", "key": "K-1", "title": "t", "pair": "", "error": "e", "step": "fields", "cause": "invalid"}},
		{apitype.PairChanged{Process: "p", Pair: "x", Change: "unpaired"},
			map[string]any{"process": "p", "pair": "x", "change": "unpaired"}},
		{apitype.BulkProgress{ID: "j", Process: "p", State: "running", Total: 4, Done: 1, Percent: 25, Error: ""},
			map[string]any{"id": "j", "process": "p", "state": "running", "total": 4, "done": 1, "percent": 25, "error": ""}},
	} {
		got, _ := json.Marshal(c.typed)
		want, _ := json.Marshal(c.was)
		if !bytes.Equal(got, want) {
			t.Errorf("%T:\n got %s\nwant %s", c.typed, got, want)
		}
	}
}
