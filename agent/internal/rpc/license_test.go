//go:build licensetest

package rpc_test

import (
	"strings"
	"testing"
	"time"

	"github.com/lockstep-sync/lockstep/agent/internal/license"
	"github.com/lockstep-sync/lockstep/agent/internal/license/licensetest"
	"github.com/lockstep-sync/lockstep/shared/apitype"
	"github.com/lockstep-sync/lockstep/shared/protocol"
)

// TestLicenseEnforcement imports a license through the API and checks that
// a kind it does not allow cannot be configured, that a tampered file is
// refused with a precise error, and that the state shows everywhere.
func TestLicenseEnforcement(t *testing.T) {
	ag := startAgent(t)
	admin := ag.session(t, "admin", adminPassword)
	info := callOK(t, admin, protocol.LicenseGet, apitype.Empty{})
	if info.State != "missing" || info.EvaluationEndsAt == nil {
		t.Fatalf("a new agent: %+v, want evaluation", info)
	}
	text := licensetest.Issue(t, license.Payload{AllowedSystems: []string{"redmine"}, MaxUsers: 5, NotBefore: time.Now().Add(-time.Hour)})
	tampered := strings.Replace(string(text), "A", "B", 1)
	if _, e := call(admin, protocol.LicenseImport, apitype.LicenseImportParams{License: tampered}); kindOf(e) != protocol.KindInvalid || e.Data.Field != "license" {
		t.Fatalf("tampered license: %+v", e)
	}
	info = callOK(t, admin, protocol.LicenseImport, apitype.LicenseImportParams{License: string(text)})
	if info.State != "valid" || info.MaxUsers != 5 || len(info.AllowedSystems) != 1 {
		t.Fatalf("imported: %+v", info)
	}
	agentInfo := callOK(t, admin, protocol.AgentInfo, apitype.Empty{})
	if agentInfo.License.State != "valid" || agentInfo.License.ExpiresAt == nil {
		t.Fatalf("agent.info license: %+v", agentInfo.License)
	}
	_, e := call(admin, protocol.SystemsCreate, apitype.SystemsCreateParams{Name: "J", Kind: "jira", URL: "https://jira.example",
		Settings: map[string]any{"deployment": "cloud"}})
	if kindOf(e) != protocol.KindLicense {
		t.Fatalf("a kind the license does not allow: %v, want kind license", e)
	}
	callOK(t, admin, protocol.SystemsCreate, apitype.SystemsCreateParams{Name: "R", Kind: "redmine", URL: "https://redmine.example",
		Secrets: map[string]apitype.Secret{"apiKey": "k3y-value"}})
	// The sandbox is always allowed.
	callOK(t, admin, protocol.SystemsCreate, apitype.SystemsCreateParams{Name: "S", Kind: "sandbox", URL: "http://127.0.0.1:1",
		Secrets: map[string]apitype.Secret{"token": "t0ken-value"}})
	preview := callOK(t, admin, protocol.TelemetryPreview, apitype.Empty{})
	if !strings.HasPrefix(preview.Body, `{"schema":1,"version":`) || !strings.Contains(preview.Body, `"users_over_limit":false}`) {
		t.Fatalf("telemetry preview: %s", preview.Body)
	}
	if tel := callOK(t, admin, protocol.TelemetryGet, apitype.Empty{}); tel.Enabled {
		t.Fatal("telemetry is on by default")
	}
}
