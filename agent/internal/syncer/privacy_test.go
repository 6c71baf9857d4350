package syncer_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http/httptest"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/rs/zerolog"

	"github.com/lockstep-sync/lockstep/agent/agenttest"
	"github.com/lockstep-sync/lockstep/agent/internal/connector"
	sbconn "github.com/lockstep-sync/lockstep/agent/internal/connector/sandboxconn"
	"github.com/lockstep-sync/lockstep/agent/internal/events"
	"github.com/lockstep-sync/lockstep/agent/internal/logging"
	"github.com/lockstep-sync/lockstep/agent/internal/mapping"
	"github.com/lockstep-sync/lockstep/agent/internal/sandbox"
	"github.com/lockstep-sync/lockstep/agent/internal/secret"
	"github.com/lockstep-sync/lockstep/agent/internal/store"
	"github.com/lockstep-sync/lockstep/agent/internal/syncer"
)

// The privacy statement: about entities the agent keeps only ids, keys,
// names or titles, types, versions and hashes, and its sync logs name
// entities by the fields DESIGN.md lists. These tests plant canaries in
// everything else an entity holds (descriptions, comments, custom fields,
// labels, an assignee's email, attachment bodies), sync them with the real
// engine between two real sandbox systems, into a real encrypted Badger
// store, including runs where coercion, value and user mapping and the
// target system refuse canary values, and then look for the canaries.

// lockedBuffer collects log lines written from many goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// privateWorld is two sandboxes synced by an engine on a real store, with
// every log line of the run (engine and connectors, debug level) kept.
type privateWorld struct {
	a, b    *sandbox.Server
	eng     *syncer.Engine
	st      *store.Store
	dir     string
	key     []byte
	logs    *lockedBuffer
	proc    syncer.Process
	canary  string
	planted map[string]string // what was planted where, for the messages
}

func privateSide(t *testing.T, key, typ string, users []sandbox.User, cfs []sandbox.FieldDef, log zerolog.Logger) (*sandbox.Server, connector.Connector) {
	t.Helper()
	s, err := sandbox.New(sandbox.Options{Tokens: []sandbox.Token{{Value: "tok", User: "alice"}}, Users: users,
		Projects: []sandbox.Project{{Key: key, Name: key, Types: []string{typ}, CustomFields: cfs}}, Seed: 5})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(s.Handler())
	t.Cleanup(func() { hs.Close(); s.Close() })
	id := "sys-" + key
	c, err := sbconn.Open(connector.Config{ID: id, Name: key, Kind: "sandbox", URL: hs.URL,
		Settings: map[string]any{"project": key}, Secrets: map[string]secret.Secret{"token": secret.New("tok")}},
		connector.Env{Log: log.With().Str(logging.FieldComponent, "connector").Str(logging.FieldSystem, id).Logger()})
	if err != nil {
		t.Fatal(err)
	}
	return s, c
}

// newPrivateWorld plants the canaries and runs the process twice: the
// second run updates a synced item into a coercion failure (parking its
// pair) and copies a new comment.
func newPrivateWorld(t *testing.T) *privateWorld {
	t.Helper()
	raw := make([]byte, 8)
	rand.Read(raw)
	w := &privateWorld{canary: "cnry" + hex.EncodeToString(raw), logs: &lockedBuffer{}, dir: t.TempDir(), key: agenttest.Key(t), planted: map[string]string{}}
	c := func(where string) string {
		v := w.canary + "-" + where
		w.planted[where] = v
		return v
	}
	log := zerolog.New(w.logs).Level(zerolog.DebugLevel).With().Timestamp().Logger()

	erin := sandbox.User{ID: "erin", Name: "Erin " + c("name"), Email: c("email") + "@example.test"}
	var conA, conB connector.Connector
	w.a, conA = privateSide(t, "HELP", "incident", append(sandbox.DemoUsers(), erin), []sandbox.FieldDef{
		{Name: "notes", Type: "string"}, {Name: "points", Type: "string"}, {Name: "tier", Type: "string"}, {Name: "level", Type: "string"}}, log)
	w.b, conB = privateSide(t, "ENG", "bug", sandbox.DemoUsers(), []sandbox.FieldDef{
		{Name: "notes", Type: "string"}, {Name: "points", Type: "number"},
		{Name: "tier", Type: "enum", Values: []string{"gold", "silver"}}, {Name: "level", Type: "enum", Values: []string{"low", "high"}}}, log)

	var err error
	if w.st, err = store.Create(store.Options{Dir: w.dir, Key: w.key}); err != nil {
		t.Fatal(err)
	}
	w.eng = syncer.New(syncer.Deps{Store: w.st, Bus: events.New(100, nil),
		Log: log.With().Str(logging.FieldComponent, "sync").Logger(),
		Open: func(id string) (connector.Connector, error) {
			if id == "sys-HELP" {
				return conA, nil
			}
			return conB, nil
		}})
	keep := func(a, b string) *mapping.ValueMap {
		return &mapping.ValueMap{Pairs: []mapping.ValuePair{{A: a, B: b}}, OnMissing: mapping.OnMissingKeep}
	}
	ctx := context.Background()
	w.proc, err = w.eng.Processes().Create(ctx, "test", syncer.Process{Name: "privacy",
		A: syncer.End{System: "sys-HELP", Project: "HELP"}, B: syncer.End{System: "sys-ENG", Project: "ENG"},
		Types: []mapping.TypePair{{A: "incident", B: "bug", Fields: []mapping.FieldPair{
			{A: "title", B: "title", Direction: mapping.Both},
			{A: "description", B: "description", Direction: mapping.Both},
			{A: "cf.notes", B: "cf.notes", Direction: mapping.Both},
			// Text into a number and into an enum: what a value map keeps
			// is coerced, and a canary fails coercion.
			{A: "cf.points", B: "cf.points", Direction: mapping.AtoB, ValueMap: keep("one", "1")},
			{A: "cf.tier", B: "cf.tier", Direction: mapping.AtoB, ValueMap: keep("Gold", "gold")},
			// A value nobody mapped is an error.
			{A: "cf.level", B: "cf.level", Direction: mapping.AtoB, ValueMap: &mapping.ValueMap{
				Pairs: []mapping.ValuePair{{A: "Low", B: "low"}}, OnMissing: mapping.OnMissingError}},
			// Labels B refuses (a space), quoting them in its answer.
			{A: "labels", B: "labels", Direction: mapping.AtoB, TransformAToB: &mapping.Transform{Kind: mapping.TransformRegex, Pattern: "^(.+)$", Replace: "$1 x"}},
			// A person nobody mapped is an error.
			{A: "assignee", B: "assignee", Direction: mapping.AtoB, UserMap: true},
		}}},
		Users:   mapping.UserMap{OnMissing: mapping.OnMissingError, Entries: []mapping.UserEntry{{A: mapping.UserRef{ID: "alice"}, B: mapping.UserRef{ID: "alice"}}}},
		Options: syncer.Options{CreateInB: true, Comments: true, Attachments: true, Conflict: syncer.ConflictHold}})
	if err != nil {
		t.Fatal(err)
	}

	store := w.a.Store()
	item := func(title string, n sandbox.NewItem) sandbox.Item {
		n.Project, n.Type, n.Title, n.Status, n.Priority = "HELP", "incident", title, "open", "low"
		it, err := store.CreateItem(n)
		if err != nil {
			t.Fatal(err)
		}
		return it
	}
	ok := item("Synced whole", sandbox.NewItem{Description: "Steps: " + c("description") + "\nline two",
		CustomFields: map[string]any{"notes": c("notes"), "points": "one", "tier": "Gold", "level": "Low"}})
	if _, err := store.AddComment(ok.Key, "alice", "It fails: "+c("comment")); err != nil {
		t.Fatal(err)
	}
	if _, err := store.AddAttachment(ok.Key, "evidence.txt", "text/plain", "alice", strings.NewReader("log: "+c("attachment"))); err != nil {
		t.Fatal(err)
	}
	item("Coercion to a number fails", sandbox.NewItem{CustomFields: map[string]any{"points": c("points")}})
	item("Coercion to an enum fails", sandbox.NewItem{CustomFields: map[string]any{"tier": c("tier")}})
	item("Value map fails", sandbox.NewItem{CustomFields: map[string]any{"level": c("level")}})
	item("Target refuses a label", sandbox.NewItem{Labels: []string{c("label")}})
	item("User map fails", sandbox.NewItem{Assignee: "erin"})
	later := item("Gets a comment later", sandbox.NewItem{Description: c("description2")})

	w.run(t)
	// Run 2: a synced item changes into a coercion failure (its pair is
	// parked with the error); another gets a comment. The plan of that
	// run is read first.
	desc, bad := "Now "+c("description3"), c("points2")
	if _, err := store.UpdateItem(ok.Key, sandbox.Patch{Description: &desc, CustomFields: map[string]any{"points": bad}}, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := store.AddComment(later.Key, "bob", c("comment2")); err != nil {
		t.Fatal(err)
	}
	plan, err := w.eng.Plan(ctx, w.proc.ID)
	if err != nil {
		t.Fatal(err)
	}
	w.noCanary(t, "the dry-run plan", plan)
	w.run(t)
	return w
}

func (w *privateWorld) run(t *testing.T) {
	t.Helper()
	r, err := w.eng.RunNow(context.Background(), w.proc.ID)
	if err != nil {
		t.Fatal(err)
	}
	w.noCanary(t, "a run record", r)
}

// noCanary fails when any planted value shows in v's JSON.
func (w *privateWorld) noCanary(t *testing.T, what string, v any) {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	if i := bytes.Index(b, []byte(w.canary)); i >= 0 {
		t.Errorf("%s quotes a field value: …%s…", what, b[max(0, i-200):min(len(b), i+60)])
	}
}

// TestStoreHoldsNoFieldValue opens the store with its key after the runs
// and reads every version of every key and value it holds: no planted
// value is there, while the errors name the field, the entity's key and
// the value's digest.
func TestStoreHoldsNoFieldValue(t *testing.T) {
	if testing.Short() {
		t.Skip("syncs two sandboxes over HTTP")
	}
	w := newPrivateWorld(t)

	// The canaries did go through the engine: the peer holds them.
	peers, err := w.b.Store().ListItems(sandbox.Query{Project: "ENG", Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	var peer sandbox.Item
	for _, it := range peers.Items {
		if it.Title == "Synced whole" {
			peer = it
		}
	}
	comments, _, _ := w.b.Store().Comments(peer.Key, 0, 100)
	atts, _ := w.b.Store().Attachments(peer.Key)
	if !strings.Contains(peer.Description, w.planted["description"]) || len(comments) != 1 ||
		!strings.Contains(comments[0].Body, w.planted["comment"]) || len(atts) != 1 {
		t.Fatalf("the canaries were not synced: %+v, comments %+v, attachments %+v", peer, comments, atts)
	}

	// What the API shows, each error naming field, key and digest.
	parked, err := w.eng.Views().Errors(w.proc.ID)
	if err != nil {
		t.Fatal(err)
	}
	w.noCanary(t, "errors.list", parked)
	var texts []string
	for _, p := range parked {
		texts = append(texts, p.Error)
	}
	all := strings.Join(texts, "\n")
	for where, field := range map[string]string{"points": "cf.points", "tier": "cf.tier", "level": "cf.level", "label": "label", "points2": "cf.points"} {
		if !strings.Contains(all, connector.Digest(w.planted[where])) && !strings.Contains(all, connector.Digest(w.planted[where]+" x")) {
			t.Errorf("no error names the digest of the %s value: %s", where, all)
		}
		if !strings.Contains(all, field) {
			t.Errorf("no error names the field %s: %s", field, all)
		}
	}
	if len(parked) < 6 {
		t.Errorf("%d parked entities, want 6 or more (five refused at create, one pair at update): %s", len(parked), all)
	}
	for _, p := range parked {
		if !strings.Contains(p.Error, "HELP-") && !strings.Contains(p.Error, "ENG-") {
			t.Errorf("error %q does not name an entity's key", p.Error)
		}
	}
	runs, _ := w.eng.Views().Runs(w.proc.ID, 0)
	w.noCanary(t, "runs.list", runs)
	pairs, _, _ := w.eng.Views().Pairs(w.proc.ID, "", "", 0)
	w.noCanary(t, "pairs.list", pairs)
	if !slices.ContainsFunc(pairs, func(p syncer.PairView) bool {
		return p.State == syncer.PairError && strings.Contains(p.Error, "cf.points")
	}) {
		t.Errorf("no pair was parked by the update's coercion failure: %+v", pairs)
	}

	// Everything the store holds, read with its key after a restart.
	if err := w.st.Close(); err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(store.Options{Dir: w.dir, Key: w.key})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	versions, prefixes := 0, map[string]bool{}
	if err := st.ScanVersions(func(k string, v []byte) error {
		versions++
		prefixes[strings.SplitN(k, "/", 2)[0]] = true
		for _, b := range [][]byte{[]byte(k), v} {
			if i := bytes.Index(b, []byte(w.canary)); i >= 0 {
				t.Errorf("the store holds a field value under %s: …%s…", k, b[max(0, i-200):min(len(b), i+60)])
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"pair", "pidx", "perr", "run", "proc"} {
		if !prefixes[want] {
			t.Errorf("the store holds no %s/ keys (%v): the scan proves nothing", want, prefixes)
		}
	}
	t.Logf("%d versions of keys under %d prefixes hold no planted value", versions, len(prefixes))
}

// syncLogFields are the only fields a sync run's log lines may carry.
// The first group names entities, as DESIGN.md (Logging) lists them
// (logging.Field*); everything else is bookkeeping that holds no entity
// content: ids and keys of Lockstep's own records and of the other end of
// a pair or link, field names, counts, versions, times and error texts,
// which name fields and values' digests only.
var syncLogFields = map[string]string{
	logging.FieldProcess: "entity", logging.FieldRun: "entity", logging.FieldSystem: "entity",
	logging.FieldEntityID: "entity", logging.FieldEntityKey: "entity", logging.FieldEntityTitle: "entity",
	logging.FieldRelationType: "entity", logging.FieldAttachmentID: "entity", logging.FieldAttachmentName: "entity",
	logging.FieldAttachmentSize: "entity",

	"level": "line", "time": "line", "message": "line", logging.FieldComponent: "line", "error": "line",
	"pair": "id", "peer_key": "key of the other end", "comment": "comment id", "fields": "field names", "field": "field name",
	"winner": "side", "a_version": "version", "b_version": "version", "attempt": "count", "retry_at": "time", "limit": "bytes",
	"created": "count", "updated": "count", "commented": "count", "attached": "count", "linked": "count", "failed": "count",
	"conflicts": "count", "method": "http", "path": "http (ids, no query values)", "status": "http", "request_id": "id",
	"duration_ms": "http",
	"step":        "step name", "policy": "deletion policy", "peer_id": "id", "marker": "key of the original",
}

// TestSyncLogFields: the stable names are DESIGN.md's, and the log lines
// of sync runs (the engine's and its connectors', at debug level) carry no
// other fields and never a field value.
func TestSyncLogFields(t *testing.T) {
	if testing.Short() {
		t.Skip("syncs two sandboxes over HTTP")
	}
	design := []string{"process", "run", "system", "entity_id", "entity_key", "entity_title", "relation_type", "attachment_id", "attachment_name", "attachment_size"}
	stable := []string{logging.FieldProcess, logging.FieldRun, logging.FieldSystem, logging.FieldEntityID, logging.FieldEntityKey,
		logging.FieldEntityTitle, logging.FieldRelationType, logging.FieldAttachmentID, logging.FieldAttachmentName, logging.FieldAttachmentSize}
	if !slices.Equal(design, stable) {
		t.Fatalf("logging's stable names %v are not DESIGN.md's %v", stable, design)
	}

	w := newPrivateWorld(t)
	seen := map[string]int{}
	messages := map[string]int{}
	lines := 0
	sc := bufio.NewScanner(strings.NewReader(w.logs.String()))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Bytes()
		lines++
		if i := bytes.Index(line, []byte(w.canary)); i >= 0 {
			t.Errorf("a log line quotes a field value: %s", line)
		}
		var fields map[string]json.RawMessage
		if err := json.Unmarshal(line, &fields); err != nil {
			t.Fatalf("not a JSON line: %s", line)
		}
		var msg string
		json.Unmarshal(fields["message"], &msg)
		messages[msg]++
		if msg == "created peer entity" && (fields["entity_title"] == nil || fields["peer_key"] == nil) {
			t.Errorf("a create does not name its source and its peer: %s", line)
		}
		for k := range fields {
			seen[k]++
			if _, ok := syncLogFields[k]; !ok {
				t.Errorf("field %q is not a sync log field: %s", k, line)
			}
		}
	}
	if err := sc.Err(); err != nil && err != io.EOF {
		t.Fatal(err)
	}
	var names []string
	for k := range seen {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, want := range []string{"process", "run", "system", "entity_id", "entity_key", "entity_title", "attachment_id", "attachment_name", "attachment_size", "error"} {
		if seen[want] == 0 {
			t.Errorf("no line carried %s (fields seen: %v): the runs did not log what the test checks", want, names)
		}
	}
	// Administrators follow creates in the live log by this message.
	if messages["created peer entity"] == 0 {
		t.Errorf("no create was logged as one: %v", messages)
	}
	t.Logf("%d lines, fields %v", lines, names)
}
