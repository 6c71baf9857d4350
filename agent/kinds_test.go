package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/lockstep-sync/lockstep/agent/agenttest"
)

// TestEveryKindIsAvailable asks the real agent for its system kinds: the
// seven work systems and the sandbox, each with its form's fields, and
// each opens a connector (a system of every kind reaches its server; none
// answers "not available in this version").
func TestEveryKindIsAvailable(t *testing.T) {
	const pw = "kinds admin password"
	dir := filepath.Join(t.TempDir(), "data")
	pwFile := filepath.Join(t.TempDir(), "pw")
	os.WriteFile(pwFile, []byte(pw), 0o600)
	addr := agenttest.FreeAddr(t)
	if out, code := runAgent(t, "init", "--data-dir", dir, "--listen", addr, "--admin-password-file", pwFile); code != 0 {
		t.Fatalf("init: %s", out)
	}
	stop := start(t, dir)
	defer stop()
	c := dialAgent(t, addr)
	c.call("session.login", map[string]string{"username": "admin", "password": pw}, nil)

	type field struct {
		Name     string
		Type     string
		Required bool
		Options  []string
	}
	var res struct {
		Kinds []struct {
			Kind, Title string
			Fields      []field
		}
	}
	c.call("systems.kinds", map[string]any{}, &res)
	var names []string
	for _, k := range res.Kinds {
		names = append(names, k.Kind)
	}
	slices.Sort(names)
	if want := []string{"azuredevops", "github", "gitlab", "jira", "redmine", "rt", "sandbox", "servicenow"}; !slices.Equal(names, want) {
		t.Fatalf("kinds %v, want %v", names, want)
	}
	// A closed port on loopback: every connector that opens tries it and
	// fails to connect, which is not the answer of a kind without one.
	url := "http://" + agenttest.FreeAddr(t)
	for _, k := range res.Kinds {
		settings, secrets := map[string]any{}, map[string]string{}
		for _, f := range k.Fields {
			switch {
			case f.Type == "secret":
				secrets[f.Name] = "secret-value-0123456789"
			case f.Type == "select" && len(f.Options) > 0:
				settings[f.Name] = f.Options[0]
			case f.Type == "int" || f.Type == "bool" || f.Type == "duration":
			case f.Required:
				settings[f.Name] = "x"
			}
		}
		var made struct{ System struct{ ID string } }
		if err := c.try("systems.create", map[string]any{"name": k.Title + " probe", "kind": k.Kind, "url": url,
			"settings": settings, "secrets": secrets}, &made); err != nil {
			t.Fatalf("create a %s system: %v", k.Kind, err)
		}
		err := c.try("systems.schema", map[string]any{"id": made.System.ID}, nil)
		if err == nil || strings.Contains(err.Error(), "not available in this version") {
			t.Errorf("%s: systems.schema answered %v, want the connector's failure to reach %s", k.Kind, err, url)
		}
	}
}
