package app

import (
	"context"
	"encoding/json"
	"io"
	"io/fs"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/lockstep-sync/lockstep/agent/internal/license"
	"github.com/lockstep-sync/lockstep/agent/internal/license/licensetest"
	"github.com/lockstep-sync/lockstep/agent/internal/sandbox"
	"github.com/lockstep-sync/lockstep/agent/internal/store"
	"github.com/lockstep-sync/lockstep/agent/internal/syncer"
	"github.com/lockstep-sync/lockstep/shared/apitype"
)

// Upgrade fixtures: testdata/upgrade/<release>/ is a data dir written by
// that release (agent.json, the TLS identity, the Badger store and the
// test master key that opens it, committed on purpose: it protects nothing
// but this fixture), with expect.json saying what it holds and
// processes.yaml, that release's processes.export document.
//
// TestStoresOfEarlierReleasesOpen is where every schema migration proves
// itself: a migration appended to store/schema.go runs on each fixture
// here, and each must still open and hold what it held. A release that
// changes the schema or the export format adds its own fixture:
//
//	LOCKSTEP_WRITE_FIXTURE=<release> go test -tags licensetest -run TestWriteUpgradeFixture ./agent/internal/app/
//
// Fixtures are never rewritten: they are what older agents left behind.

const fixtureAdminPassword = "fixture admin password"

// fixtureExpect is expect.json.
type fixtureExpect struct {
	Release      string            `json:"release"`
	Schema       int               `json:"schema"`
	InstanceID   string            `json:"instanceId"`
	Systems      map[string]string `json:"systems"` // name -> its token, which must unseal
	Processes    []string          `json:"processes"`
	Pairs        int               `json:"pairs"`
	AuditRecords int               `json:"auditRecords"`
	Accounts     []string          `json:"accounts"`
	Customer     string            `json:"customer"`
}

// fixtureProcess is the sync process a fixture holds, as the API takes it.
func fixtureProcess(a, b string) syncer.Process {
	raw := `{"name": "Helpdesk incidents <-> Engineering bugs",
		"a": {"system": "` + a + `", "project": "HELP"}, "b": {"system": "` + b + `", "project": "ENG"},
		"types": [{"a": "incident", "b": "bug", "fields": [
			{"a": "title", "b": "title", "direction": "both"},
			{"a": "status", "b": "status", "direction": "both"},
			{"a": "priority", "b": "priority", "direction": "both"}]}],
		"options": {"createInA": true, "createInB": true, "comments": true, "conflict": "a_wins"},
		"schedule": {"pollSeconds": 60}}`
	var p syncer.Process
	if err := json.Unmarshal([]byte(raw), &p); err != nil {
		panic(err)
	}
	return p
}

// sandboxes serves the Helpdesk (HELP) and Engineering (ENG) work systems.
func sandboxes(t *testing.T) (help *sandbox.Server, helpURL, engURL string) {
	t.Helper()
	mk := func(p sandbox.Project, token string) (*sandbox.Server, string) {
		s, err := sandbox.New(sandbox.Options{Tokens: []sandbox.Token{{Value: token, User: "alice"}}, Users: sandbox.DemoUsers(), Projects: []sandbox.Project{p}})
		if err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(s.Handler())
		t.Cleanup(func() { srv.Close(); s.Close() })
		return s, srv.URL
	}
	help, helpURL = mk(sandbox.Project{Key: "HELP", Name: "Helpdesk", Types: []string{"incident"}}, fixtureTokens["Helpdesk"])
	_, engURL = mk(sandbox.Project{Key: "ENG", Name: "Engineering", Types: []string{"bug"}}, fixtureTokens["Engineering"])
	return help, helpURL, engURL
}

var fixtureTokens = map[string]string{"Helpdesk": "fixture-helpdesk-token-0001", "Engineering": "fixture-engineering-token-0002"}

func createSystems(t *testing.T, a *App, helpURL, engURL string) map[string]string {
	t.Helper()
	ids := map[string]string{}
	for _, s := range []struct{ name, url, project string }{{"Helpdesk", helpURL, "HELP"}, {"Engineering", engURL, "ENG"}} {
		sys, err := a.systems.Create("fixture", apitype.SystemsCreateParams{Name: s.name, Kind: "sandbox", URL: s.url,
			Settings: map[string]any{"project": s.project}, Secrets: map[string]apitype.Secret{"token": apitype.Secret(fixtureTokens[s.name])}})
		if err != nil {
			t.Fatal(err)
		}
		ids[s.name] = sys.ID
	}
	return ids
}

// TestWriteUpgradeFixture writes this release's fixture. It runs only when
// asked to (LOCKSTEP_WRITE_FIXTURE=<release>) and never over an existing one.
func TestWriteUpgradeFixture(t *testing.T) {
	release := os.Getenv("LOCKSTEP_WRITE_FIXTURE")
	if release == "" {
		t.Skip("set LOCKSTEP_WRITE_FIXTURE=<release> to write a fixture")
	}
	dir, err := filepath.Abs(filepath.Join("testdata", "upgrade", release))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dir); err == nil {
		t.Fatalf("%s exists: fixtures are never rewritten", dir)
	}
	help, helpURL, engURL := sandboxes(t)
	for i, title := range []string{"Printer on fire", "VPN drops every hour", "Badge reader offline"} {
		it, err := help.Store().CreateItem(sandbox.NewItem{Project: "HELP", Type: "incident", Title: title, Status: "open", Priority: "low"})
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			help.Store().AddComment(it.Key, "carol", "It smells of toner.")
		}
	}
	pw := filepath.Join(t.TempDir(), "pw")
	os.WriteFile(pw, []byte(fixtureAdminPassword), 0o600)
	if _, err := Init(InitOptions{Options: Options{DataDir: dir, Listen: "127.0.0.1:7443"}, AdminUser: "admin", AdminPasswordFile: pw}); err != nil {
		t.Fatal(err)
	}
	a, err := Open(Options{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	ids := createSystems(t, a, helpURL, engURL)
	if _, err := a.auth.Create("fixture", "olga", "operator password 123", "operator"); err != nil {
		t.Fatal(err)
	}
	proc, err := a.engine.Processes().Create(t.Context(), "fixture", fixtureProcess(ids["Helpdesk"], ids["Engineering"]))
	if err != nil {
		t.Fatal(err)
	}
	if run, err := a.engine.RunNow(t.Context(), proc.ID); err != nil || run.Counts.Created != 3 {
		t.Fatalf("fixture run: %+v %v", run.Counts, err)
	}
	lic := licensetest.Issue(t, license.Payload{Customer: "Fixture Customer", LicenseID: "LIC-FIXTURE", NotBefore: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC),
		ExpiresAt: time.Date(2099, 1, 1, 0, 0, 0, 0, time.UTC), MaxUsers: 25})
	if _, err := a.license.Import("fixture", lic); err != nil {
		t.Fatal(err)
	}
	doc, err := a.engine.Processes().Export(nil)
	if err != nil {
		t.Fatal(err)
	}
	counts, _ := a.engine.Views().PairCounts()
	v, _ := a.audit.Verify()
	schema, _ := a.store.Schema()
	exp := fixtureExpect{Release: release, Schema: schema, InstanceID: a.instanceID, Systems: fixtureTokens, Processes: []string{proc.Name},
		Pairs: counts[proc.ID], AuditRecords: v.Records, Accounts: []string{"admin", "olga"}, Customer: "Fixture Customer"}
	a.close()
	raw, _ := json.MarshalIndent(exp, "", "  ")
	for name, data := range map[string][]byte{"expect.json": append(raw, '\n'), "processes.yaml": doc} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// Logs, support packages and backups are not part of a store's upgrade.
	for _, d := range []string{"logs", "support", "backups"} {
		os.RemoveAll(filepath.Join(dir, d))
	}
	t.Logf("wrote %s: %+v", dir, exp)
}

// copyFixture copies a fixture to a private temporary data dir: opening a
// store writes to it, and the key file must be 0600 (git keeps 0644).
func copyFixture(t *testing.T, src string) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), "data")
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o700)
		}
		in, err := os.Open(p)
		if err != nil {
			return err
		}
		defer in.Close()
		out, err := os.OpenFile(target, os.O_CREATE|os.O_WRONLY|os.O_EXCL, 0o600)
		if err != nil {
			return err
		}
		if _, err := io.Copy(out, in); err != nil {
			out.Close()
			return err
		}
		return out.Close()
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}

func readExpect(t *testing.T, dir string) fixtureExpect {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(dir, "expect.json"))
	if err != nil {
		t.Fatal(err)
	}
	var e fixtureExpect
	if err := json.Unmarshal(raw, &e); err != nil {
		t.Fatal(err)
	}
	return e
}

func fixtures(t *testing.T) []string {
	t.Helper()
	dirs, err := filepath.Glob(filepath.Join("testdata", "upgrade", "*"))
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no upgrade fixtures: %v", err)
	}
	return dirs
}

func testKeyTrusted(t *testing.T) bool {
	ids, err := LicenseKeyIDs()
	if err != nil {
		t.Fatal(err)
	}
	return slices.Contains(ids, licensetest.KeyID)
}

// TestStoresOfEarlierReleasesOpen opens each release's fixture with today's
// code: the schema migrates to this build's version, and systems (their
// tokens unsealed), processes, pairs, accounts, the audit chain and the
// license are all there.
func TestStoresOfEarlierReleasesOpen(t *testing.T) {
	for _, src := range fixtures(t) {
		t.Run(filepath.Base(src), func(t *testing.T) {
			exp := readExpect(t, src)
			if exp.Schema > store.SchemaVersion() {
				t.Fatalf("the fixture has schema %d, newer than this build's %d", exp.Schema, store.SchemaVersion())
			}
			dir := copyFixture(t, src)
			a, err := Open(Options{DataDir: dir})
			if err != nil {
				t.Fatalf("today's agent does not open the %s store: %v", exp.Release, err)
			}
			defer a.close()
			if v, err := a.store.Schema(); err != nil || v != store.SchemaVersion() {
				t.Fatalf("schema after open: %d %v, want %d", v, err, store.SchemaVersion())
			}
			if a.instanceID != exp.InstanceID {
				t.Fatalf("instance id %q, want %q", a.instanceID, exp.InstanceID)
			}
			systems, err := a.systems.List()
			if err != nil || len(systems) != len(exp.Systems) {
				t.Fatalf("systems: %+v %v", systems, err)
			}
			for _, s := range systems {
				cfg, err := a.systems.Config(s.ID)
				if err != nil {
					t.Fatalf("system %s does not unseal: %v", s.Name, err)
				}
				if got := cfg.Secrets["token"].Reveal(); got != exp.Systems[s.Name] {
					t.Fatalf("system %s: token unsealed to something else", s.Name)
				}
			}
			procs, err := a.engine.Processes().List()
			var names []string
			for _, p := range procs {
				names = append(names, p.Name)
			}
			sort.Strings(names)
			if err != nil || strings.Join(names, "|") != strings.Join(exp.Processes, "|") {
				t.Fatalf("processes %v %v, want %v", names, err, exp.Processes)
			}
			counts, err := a.engine.Views().PairCounts()
			total := 0
			for _, n := range counts {
				total += n
			}
			if err != nil || total != exp.Pairs {
				t.Fatalf("pairs %d %v, want %d", total, err, exp.Pairs)
			}
			accounts, err := a.auth.List()
			var users []string
			for _, acc := range accounts {
				users = append(users, acc.Username)
			}
			sort.Strings(users)
			if err != nil || strings.Join(users, "|") != strings.Join(exp.Accounts, "|") {
				t.Fatalf("accounts %v %v, want %v", users, err, exp.Accounts)
			}
			if _, err := a.auth.Login(context.Background(), "admin", fixtureAdminPassword, "upgrade test"); err != nil {
				t.Fatalf("the admin cannot log in: %v", err)
			}
			v, err := a.audit.Verify()
			if err != nil || !v.OK || v.Records < exp.AuditRecords {
				t.Fatalf("audit chain: %+v %v, want intact with at least %d records", v, err, exp.AuditRecords)
			}
			// The fixture's license is signed with the test key, which only
			// test builds (-tags licensetest) trust; others keep it and say
			// why it does not count.
			st := a.license.Status()
			switch {
			case testKeyTrusted(t) && (st.State != license.StateValid || st.Customer != exp.Customer):
				t.Fatalf("license %s for %q (%s), want valid for %q", st.State, st.Customer, st.Problem, exp.Customer)
			case !testKeyTrusted(t) && (st.State != license.StateInvalid || st.Problem == ""):
				t.Fatalf("license %s (%q) without the test key, want invalid with the reason", st.State, st.Problem)
			}
		})
	}
}

// TestExportDocumentsOfEarlierReleasesImport imports each release's
// processes.export document: into a fresh agent whose systems have the
// same names (the processes are created), and back into the fixture's own
// agent (they are updated in place).
func TestExportDocumentsOfEarlierReleasesImport(t *testing.T) {
	_, helpURL, engURL := sandboxes(t)
	for _, src := range fixtures(t) {
		t.Run(filepath.Base(src), func(t *testing.T) {
			exp := readExpect(t, src)
			doc, err := os.ReadFile(filepath.Join(src, "processes.yaml"))
			if err != nil {
				t.Fatal(err)
			}
			fresh := filepath.Join(t.TempDir(), "data")
			pw := filepath.Join(t.TempDir(), "pw")
			os.WriteFile(pw, []byte(fixtureAdminPassword), 0o600)
			if _, err := Init(InitOptions{Options: Options{DataDir: fresh, Listen: "127.0.0.1:0"}, AdminUser: "admin", AdminPasswordFile: pw}); err != nil {
				t.Fatal(err)
			}
			a, err := Open(Options{DataDir: fresh})
			if err != nil {
				t.Fatal(err)
			}
			defer a.close()
			createSystems(t, a, helpURL, engURL)
			res, err := a.engine.Processes().Import(t.Context(), "upgrade test", doc)
			if err != nil || strings.Join(res.Created, "|") != strings.Join(exp.Processes, "|") {
				t.Fatalf("import into a fresh agent: %+v %v", res, err)
			}

			old, err := Open(Options{DataDir: copyFixture(t, src)})
			if err != nil {
				t.Fatal(err)
			}
			defer old.close()
			systems, _ := old.systems.List()
			for _, s := range systems {
				url := map[string]string{"Helpdesk": helpURL, "Engineering": engURL}[s.Name]
				if _, err := old.systems.Update("upgrade test", apitype.SystemsUpdateParams{ID: s.ID, URL: &url}); err != nil {
					t.Fatal(err)
				}
			}
			res, err = old.engine.Processes().Import(t.Context(), "upgrade test", doc)
			if err != nil || strings.Join(res.Updated, "|") != strings.Join(exp.Processes, "|") || len(res.Created) != 0 {
				t.Fatalf("import into the fixture's own agent: %+v %v", res, err)
			}
		})
	}
}
