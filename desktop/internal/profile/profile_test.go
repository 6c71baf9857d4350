package profile

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/lockstep-sync/lockstep/shared/input"
)

func newStore(t *testing.T) *Store {
	t.Helper()
	return New(filepath.Join(t.TempDir(), "lockstep", "profiles.json"))
}

func TestSaveListGetDelete(t *testing.T) {
	s := newStore(t)
	list, err := s.List()
	if err != nil || len(list) != 0 {
		t.Fatalf("empty store: %v %v", list, err)
	}
	b := Profile{Name: "  prod  ", URL: "wss://prod:7443/v1/ws", Fingerprint: strings.Repeat("ab", 32)}
	a := Profile{Name: "lab", URL: "wss://lab:7443/v1/ws"}
	if got, err := s.Save(b); err != nil || got.Name != "prod" {
		t.Fatalf("save: %+v %v", got, err)
	}
	if _, err := s.Save(a); err != nil {
		t.Fatal(err)
	}
	a.Fingerprint = strings.Repeat("cd", 32)
	if _, err := s.Save(a); err != nil { // replaces by name
		t.Fatal(err)
	}
	list, err = s.List()
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || list[0].Name != "lab" || list[1].Name != "prod" || list[0].Fingerprint != a.Fingerprint {
		t.Fatalf("list = %+v", list)
	}
	// A second store on the same file sees the same list.
	got, err := New(s.Path()).Get("prod")
	if err != nil || got.URL != b.URL {
		t.Fatalf("get: %+v %v", got, err)
	}
	if err := s.Delete("lab"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get("lab"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("get deleted: %v", err)
	}
	if err := s.Delete("lab"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("delete twice: %v", err)
	}
}

func TestFileIsPrivateAndHoldsOnlyProfiles(t *testing.T) {
	s := newStore(t)
	if _, err := s.Save(Profile{Name: "prod", URL: "wss://prod:7443/v1/ws"}); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(s.Path())
	if err != nil {
		t.Fatal(err)
	}
	if runtime.GOOS != "windows" && fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v, want 0600", fi.Mode().Perm())
	}
	b, err := os.ReadFile(s.Path())
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Version  int              `json:"version"`
		Profiles []map[string]any `json:"profiles"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	for k := range doc.Profiles[0] {
		if k != "name" && k != "url" && k != "fingerprint" {
			t.Errorf("unexpected field %q in profiles file", k)
		}
	}
	// No temporary files are left beside it.
	entries, _ := os.ReadDir(filepath.Dir(s.Path()))
	if len(entries) != 1 {
		t.Errorf("dir holds %d entries, want only profiles.json", len(entries))
	}
}

func TestValidation(t *testing.T) {
	s := newStore(t)
	for _, p := range []Profile{
		{Name: "", URL: "wss://x"},
		{Name: "  ", URL: "wss://x"},
		{Name: "x", URL: ""},
		{Name: "a\nb", URL: "wss://x"},
		{Name: strings.Repeat("n", input.MaxName+1), URL: "wss://x"},
		{Name: "prod\tlab", URL: "wss://x"},
		{Name: "prod\x1b[2J", URL: "wss://x"},
		{Name: "lab\u202Edorp", URL: "wss://x"},
		{Name: "lab\u2028prod", URL: "wss://x"},
		{Name: "x", URL: "wss://" + strings.Repeat("h", input.MaxURL)},
	} {
		if _, err := s.Save(p); !errors.Is(err, ErrInvalid) {
			t.Errorf("Save(%+v) = %v, want ErrInvalid", p, err)
		}
	}
	if _, err := os.Stat(s.Path()); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a refused profile created the file: %v", err)
	}
}

func TestCorruptOrNewerFileIsAnError(t *testing.T) {
	for name, content := range map[string]string{
		"corrupt": "{not json",
		"newer":   `{"version": 99, "profiles": []}`,
	} {
		t.Run(name, func(t *testing.T) {
			s := newStore(t)
			os.MkdirAll(filepath.Dir(s.Path()), 0o700)
			if err := os.WriteFile(s.Path(), []byte(content), 0o600); err != nil {
				t.Fatal(err)
			}
			if _, err := s.List(); err == nil {
				t.Fatal("List accepted the file")
			}
			// Saving must not overwrite a file it could not read.
			if _, err := s.Save(Profile{Name: "x", URL: "wss://x"}); err == nil {
				t.Fatal("Save overwrote an unreadable file")
			}
			b, _ := os.ReadFile(s.Path())
			if string(b) != content {
				t.Fatalf("file changed to %q", b)
			}
		})
	}
}

func TestDefaultPath(t *testing.T) {
	p, err := DefaultPath()
	if err != nil {
		t.Skipf("no config dir here: %v", err)
	}
	if filepath.Base(p) != "profiles.json" || filepath.Base(filepath.Dir(p)) != "lockstep" {
		t.Fatalf("DefaultPath() = %q", p)
	}
}
