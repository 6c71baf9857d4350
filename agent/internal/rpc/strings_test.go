package rpc_test

import (
	"strings"
	"testing"

	"github.com/lockstep-sync/lockstep/shared/apitype"
	"github.com/lockstep-sync/lockstep/shared/input"
	"github.com/lockstep-sync/lockstep/shared/protocol"
)

func sandboxSystem(name string) map[string]any {
	return map[string]any{"name": name, "kind": "sandbox", "url": "http://127.0.0.1:1",
		"settings": map[string]any{"project": "HELP"}, "secrets": map[string]any{"token": "token-value-123"}}
}

// hasIssue reports whether an invalid error names field, first or among
// its issues.
func hasIssue(e *protocol.Error, field string) bool {
	if e == nil || e.Data == nil || e.ErrorKind() != protocol.KindInvalid {
		return false
	}
	if e.Data.Field == field {
		return true
	}
	for _, is := range e.Data.Issues {
		if is.Field == field {
			return true
		}
	}
	return false
}

// TestNamesRefuseControlAndBidiCharacters: every name the API stores
// (systems, sync processes, accounts) goes through the one validator.
func TestNamesRefuseControlAndBidiCharacters(t *testing.T) {
	ag := startAgent(t)
	admin := ag.session(t, "admin", adminPassword)
	sys := callOK(t, admin, protocol.SystemsCreate, apitype.SystemsCreateParams{Name: "Helpdesk", Kind: "sandbox", URL: "http://127.0.0.1:1",
		Settings: map[string]any{"project": "HELP"}, Secrets: map[string]apitype.Secret{"token": "token-value-123"}})
	bad := map[string]string{"TAB": "a\tb", "ESC": "a\x1b[31mb", "BEL": "a\ab", "DEL": "a\x7fb",
		"U+202E": "help\u202Eksed", "U+2028": "a\u2028b", "U+2066": "a\u2066b", "U+200F": "a\u200Fb"}
	for what, name := range bad {
		if e := admin.raw(protocol.SystemsCreate.Name, sandboxSystem(name)).Error; !hasIssue(e, "name") {
			t.Errorf("systems.create with %s: %+v", what, e)
		}
		if e := admin.raw(protocol.SystemsUpdate.Name, map[string]any{"id": sys.System.ID, "name": name}).Error; !hasIssue(e, "name") {
			t.Errorf("systems.update with %s: %+v", what, e)
		}
		proc := map[string]any{"name": name, "a": map[string]string{"system": sys.System.ID, "project": "HELP"},
			"b": map[string]string{"system": sys.System.ID, "project": "ENG"}, "types": []any{map[string]string{"a": "incident", "b": "bug"}}}
		if e := admin.raw(protocol.ProcessesCreate.Name, map[string]any{"process": proc}).Error; !hasIssue(e, "name") {
			t.Errorf("processes.create with %s: %+v", what, e)
		}
		if e := admin.raw(protocol.AccountsCreate.Name, map[string]any{"username": name, "password": "a long enough password", "role": "viewer"}).Error; !hasIssue(e, "username") {
			t.Errorf("accounts.create with %s: %+v", what, e)
		}
	}
	list := callOK(t, admin, protocol.SystemsList, apitype.Empty{})
	if len(list.Systems) != 1 || list.Systems[0].Name != "Helpdesk" {
		t.Fatalf("a refused name was stored: %+v", list.Systems)
	}
	// Names in any script, with emoji, still pass.
	callOK(t, admin, protocol.SystemsCreate, apitype.SystemsCreateParams{Name: "Ingeniería 工程 👩‍💻", Kind: "sandbox", URL: "http://127.0.0.1:2",
		Settings: map[string]any{"project": "ENG"}, Secrets: map[string]apitype.Secret{"token": "token-value-123"}})
}

// TestEveryStringIsBounded: strings the API stores have a limit each, and
// every other string the ceiling input.MaxString; the error names the
// field and states the limit.
func TestEveryStringIsBounded(t *testing.T) {
	ag := startAgent(t)
	admin := ag.session(t, "admin", adminPassword)
	mib := strings.Repeat("a", 1<<20)
	kib3 := strings.Repeat("a", 3000) // over a URL's limit, under the ceiling
	with := func(base map[string]any, k string, v any) map[string]any {
		m := map[string]any{}
		for key, val := range base {
			m[key] = val
		}
		m[k] = v
		return m
	}
	sys := sandboxSystem("S")
	origins := make([]string, 65)
	for i := range origins {
		origins[i] = "https://admin.example.com"
	}
	cases := []struct {
		method string
		params map[string]any
		field  string
		limit  string
	}{
		{protocol.SystemsCreate.Name, with(sys, "url", "https://example.com/"+kib3), "url", "2048 bytes"},
		{protocol.SystemsCreate.Name, with(sys, "url", "https://example.com/"+mib), "url", "65536 bytes"},
		{protocol.SystemsCreate.Name, with(sys, "name", strings.Repeat("n", 101)), "name", "100 characters"},
		{protocol.SystemsCreate.Name, with(sys, "settings", map[string]any{"project": strings.Repeat("P", 4097)}), "settings.project", "4096 bytes"},
		{protocol.SystemsCreate.Name, with(sys, "secrets", map[string]any{"token": strings.Repeat("s", 16<<10+1)}), "secrets.token", "16384 bytes"},
		{protocol.SettingsSet.Name, map[string]any{"publicUrl": "https://agent.example.com/" + kib3}, "publicUrl", "2048 bytes"},
		{protocol.SettingsSet.Name, map[string]any{"origins": []string{"https://" + kib3}}, "origins[0]", "2048 bytes"},
		{protocol.SettingsSet.Name, map[string]any{"origins": origins}, "origins", "at most 64"},
		{protocol.AccountsCreate.Name, map[string]any{"username": strings.Repeat("u", 65), "password": "a long enough password", "role": "viewer"}, "username", "64 characters"},
		{protocol.AccountsCreate.Name, map[string]any{"username": "bob", "password": strings.Repeat("p", 1025), "role": "viewer"}, "password", "1024 bytes"},
		{protocol.TelemetrySet.Name, map[string]any{"enabled": false, "endpoint": "https://t.example.com/" + kib3}, "endpoint", "2048"},
		{protocol.AuditList.Name, map[string]any{"actor": mib}, "actor", "65536 bytes"},
		{protocol.LogsQuery.Name, map[string]any{"text": mib}, "text", "65536 bytes"},
		{protocol.SystemsGet.Name, map[string]any{"id": mib}, "id", "65536 bytes"},
		{protocol.ProcessesCreate.Name, map[string]any{"process": map[string]any{"name": "p", "types": []any{map[string]any{"a": mib}}}}, "process.types[0].a", "65536 bytes"},
		{protocol.EventsSubscribe.Name, map[string]any{"types": []string{"RunStarted", mib}}, "types[1]", "65536 bytes"},
		{protocol.SystemsCreate.Name, with(sys, "settings", map[string]any{strings.Repeat("k", 300): "v"}), "settings." + strings.Repeat("k", 32) + "...", "256 bytes"},
	}
	for _, c := range cases {
		e := admin.raw(c.method, c.params).Error
		if !hasIssue(e, c.field) || !strings.Contains(e.Message, c.limit) {
			t.Errorf("%s %s: %+v, want invalid %s stating %q", c.method, c.field, e, c.field, c.limit)
		}
		if e != nil && len(e.Message) > 1024 {
			t.Errorf("%s %s: the error quotes the input back (%d bytes)", c.method, c.field, len(e.Message))
		}
	}
	if list := callOK(t, admin, protocol.SystemsList, apitype.Empty{}); len(list.Systems) != 0 {
		t.Fatalf("a refused system was stored: %+v", list.Systems)
	}
	if s := callOK(t, admin, protocol.SettingsGet, apitype.Empty{}); s.Settings.PublicURL != "" || len(s.Settings.Origins) != 0 {
		t.Fatalf("refused settings were stored: %+v", s.Settings)
	}
	// A configuration document may be larger than the ceiling: its frame bounds it.
	doc := "# " + strings.Repeat("x", input.MaxString+10) + "\nprocesses: []\n"
	if e := admin.raw(protocol.ProcessesImport.Name, map[string]any{"document": doc}).Error; e != nil && strings.Contains(e.Message, "longer than") {
		t.Errorf("an import document over the ceiling was refused for its length: %v", e)
	}
}

// TestShortSecretsAreRefused: a secret too short to be scrubbed without
// garbling messages (and so revealing it) is refused at input, on create
// and on update, and the error never quotes it.
func TestShortSecretsAreRefused(t *testing.T) {
	ag := startAgent(t)
	admin := ag.session(t, "admin", adminPassword)
	for _, short := range []string{"t", "tok", "1234567"} {
		sys := sandboxSystem("S")
		sys["secrets"] = map[string]any{"token": short}
		e := admin.raw(protocol.SystemsCreate.Name, sys).Error
		if !hasIssue(e, "secrets.token") || !strings.Contains(e.Message, "at least 8 characters") || strings.Contains(e.Message, `"`+short+`"`) {
			t.Errorf("create with %q: %+v", short, e)
		}
	}
	sys := callOK(t, admin, protocol.SystemsCreate, apitype.SystemsCreateParams{Name: "S", Kind: "sandbox", URL: "http://127.0.0.1:1",
		Settings: map[string]any{"project": "HELP"}, Secrets: map[string]apitype.Secret{"token": "12345678"}})
	e := admin.raw(protocol.SystemsUpdate.Name, map[string]any{"id": sys.System.ID, "secrets": map[string]any{"token": "t"}}).Error
	if !hasIssue(e, "secrets.token") {
		t.Errorf("update with a short secret: %+v", e)
	}
	// Testing a configuration before saving it takes secrets too.
	e = admin.raw(protocol.SystemsTest.Name, map[string]any{"kind": "sandbox", "url": "http://127.0.0.1:1",
		"settings": map[string]any{"project": "HELP"}, "secrets": map[string]any{"token": "t"}}).Error
	if !hasIssue(e, "secrets.token") {
		t.Errorf("testing a draft with a short secret: %+v", e)
	}
	// The connection test's message stays readable: the secret is not a
	// word in it, so nothing in it is redacted.
	res := callOK(t, admin, protocol.SystemsTest, apitype.SystemsTestParams{ID: sys.System.ID})
	if res.OK || strings.Contains(res.Message, "[redacted]") || !strings.Contains(res.Message, "127.0.0.1") {
		t.Errorf("systems.test message: %q", res.Message)
	}
}
