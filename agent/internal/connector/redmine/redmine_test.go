package redmine

import (
	"context"
	"testing"
	"time"

	"github.com/lockstep-sync/lockstep/agent/internal/connector"
	"github.com/lockstep-sync/lockstep/agent/internal/connector/contracttest"
	"github.com/lockstep-sync/lockstep/agent/internal/realsys"
	"github.com/lockstep-sync/lockstep/agent/internal/secret"
)

// server starts (or finds) the real Redmine and makes a project for the
// test alone.
func server(t *testing.T) (realsys.Redmine, string) {
	t.Helper()
	rm := realsys.StartRedmine(t)
	return rm, rm.NewProject(t)
}

// config is the system the tests open. Text passes through unconverted
// (textFormatting markdown) unless a test asks for Textile, so the tests
// of fields and comments read what they stored.
func config(t *testing.T, rm realsys.Redmine, project string, settings ...any) connector.Config {
	return connector.Config{ID: contracttest.SystemID(t), Name: "Redmine", Kind: Kind, URL: rm.URL,
		Settings: contracttest.Settings(t, map[string]any{"project": project, "textFormatting": Markdown}, settings...),
		Secrets:  map[string]secret.Secret{"apiKey": secret.New(rm.APIKey)}}
}

func open(t *testing.T, rm realsys.Redmine, project string, settings ...any) *Conn {
	t.Helper()
	return contracttest.Open(t, Open, config(t, rm, project, settings...), connector.Env{})
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	t.Cleanup(cancel)
	return c
}

func TestContract(t *testing.T) {
	t.Parallel()
	contracttest.RunContract(t, func(t *testing.T) (connector.Connector, string) {
		rm, project := server(t)
		return open(t, rm, project), project
	})
}

func TestContractTextile(t *testing.T) {
	t.Parallel()
	contracttest.RunContract(t, func(t *testing.T) (connector.Connector, string) {
		rm, project := server(t)
		return open(t, rm, project, "textFormatting", Textile), project
	})
}

func TestContractMarkerField(t *testing.T) {
	t.Parallel()
	contracttest.RunContract(t, func(t *testing.T) (connector.Connector, string) {
		rm, project := server(t)
		return open(t, rm, project, "markerField", "External ID"), project
	})
}
