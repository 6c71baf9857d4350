package rpc

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/lockstep-sync/lockstep/agent/internal/connector"
	"github.com/lockstep-sync/lockstep/agent/internal/secret"
	"github.com/lockstep-sync/lockstep/shared/apitype"
	"github.com/lockstep-sync/lockstep/shared/protocol"
)

// TestSchemaErrorScrubsAndClassifies feeds schemaError connector failures
// whose text carries the system's secret, as a library or server may put
// it there: every kind comes out named, with the system named and the
// secret gone.
func TestSchemaErrorScrubsAndClassifies(t *testing.T) {
	const tok = "s3cret-canary-value"
	cfg := connector.Config{ID: "sys1", Name: "Helpdesk", Kind: "sandbox",
		Secrets: map[string]secret.Secret{"token": secret.New(tok), "unset": secret.New("")}}
	cases := []struct {
		err   error
		kind  protocol.Kind
		field string
	}{
		{fmt.Errorf("GET /x with %s: %w", tok, connector.ErrUnauthorized), protocol.KindUnavailable, ""},
		{fmt.Errorf("GET /x with %s: %w", tok, connector.ErrForbidden), protocol.KindUnavailable, ""},
		{fmt.Errorf("GET /x with %s: %w", tok, connector.ErrNotFound), protocol.KindInvalid, "project"},
		{fmt.Errorf("GET /x with %s: %w", tok, connector.ErrInvalid), protocol.KindInvalid, "project"},
		{fmt.Errorf("GET /x with %s: %w", tok, connector.ErrRateLimited), protocol.KindRateLimited, ""},
		{fmt.Errorf("GET /x with %s: %w", tok, connector.ErrUnavailable), protocol.KindUnavailable, ""},
		{fmt.Errorf("decode %s: unexpected end", tok), protocol.KindUnavailable, ""},
		{fmt.Errorf("GET /x with %s: %w", tok, context.DeadlineExceeded), protocol.KindTimeout, ""},
		{fmt.Errorf("GET /x with %s: %w", tok, context.Canceled), protocol.KindCanceled, ""},
	}
	for _, tc := range cases {
		err := schemaError(context.Background(), cfg, "HELP", tc.err)
		var pe *protocol.Error
		if !errors.As(err, &pe) {
			t.Fatalf("%v: not a wire error: %T", tc.err, err)
		}
		if pe.ErrorKind() != tc.kind {
			t.Errorf("%v: kind %s, want %s", tc.err, pe.ErrorKind(), tc.kind)
		}
		if tc.field != "" && (pe.Data == nil || pe.Data.Field != tc.field) {
			t.Errorf("%v: field %+v, want %s", tc.err, pe.Data, tc.field)
		}
		if strings.Contains(pe.Message, tok) {
			t.Errorf("the secret is in the message: %s", pe.Message)
		}
		if !strings.Contains(pe.Message, "Helpdesk") {
			t.Errorf("the message does not name the system: %s", pe.Message)
		}
	}
	// The caller going away is canceled whatever the connector said.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if k := schemaError(ctx, cfg, "", errors.New("dial failed")).(*protocol.Error).ErrorKind(); k != protocol.KindCanceled {
		t.Fatalf("after the caller left: %s", k)
	}
}

func TestSchemaResult(t *testing.T) {
	sch := connector.Schema{
		EntityTypes: []string{"Bug", "Task"},
		Fields: []connector.FieldSchema{
			{Name: "status", Label: "State", Type: connector.TypeEnum, Values: []string{"New", "Active", "To Do", "Done"}},
			{Name: "title", Label: "Title", Type: connector.TypeString, Required: true},
			{Name: "cf.Custom.Locked", Label: "Locked", Type: connector.TypeBool, ReadOnly: true},
		},
		Users: []connector.User{{ID: "u1", Email: "ann@example.test", Name: "Ann"}},
		Extra: map[string][]any{"states:Bug": {"New", "Active"}, "states:Task": {"To Do", "Done", 7}, "other": {"x"}},
	}
	res := schemaResult("sys1", "P", sch, true)
	if res.LinkTypes == nil || len(res.LinkTypes) != 0 {
		t.Fatalf("link types %#v, want an empty list", res.LinkTypes)
	}
	if len(res.Fields) != 3 || res.Fields[0].Label != "State" || !res.Fields[1].Required || !res.Fields[2].ReadOnly {
		t.Fatalf("fields %+v", res.Fields)
	}
	if !slices.Equal(res.TypeValues["Bug"]["status"], []string{"New", "Active"}) || !slices.Equal(res.TypeValues["Task"]["status"], []string{"To Do", "Done"}) || len(res.TypeValues) != 2 {
		t.Fatalf("type values %+v", res.TypeValues)
	}
	if len(res.Users) != 1 || res.Users[0].Email != "ann@example.test" || res.UsersOmitted {
		t.Fatalf("users %+v omitted %v", res.Users, res.UsersOmitted)
	}
	hidden := schemaResult("sys1", "P", sch, false)
	if hidden.Users != nil || !hidden.UsersOmitted {
		t.Fatalf("users for a viewer: %+v omitted %v", hidden.Users, hidden.UsersOmitted)
	}
	if res.Attachments != "" {
		t.Fatalf("attachments %q for a system that holds files", res.Attachments)
	}
	for mode, want := range map[string]string{"comment": apitype.AttachmentsComment, "skip": apitype.AttachmentsSkip, "upload": ""} {
		withMode := sch
		withMode.Extra = map[string][]any{"attachments": {mode}}
		if got := schemaResult("sys1", "P", withMode, true).Attachments; got != want {
			t.Fatalf("attachments %q read as %q, want %q", mode, got, want)
		}
	}
	// Per-type states mean nothing without a status field to narrow.
	sch.Fields = sch.Fields[1:]
	if tv := schemaResult("sys1", "P", sch, true).TypeValues; tv != nil {
		t.Fatalf("type values without a status field: %+v", tv)
	}
}

// TestSchemaTypesMatchTheConnectors keeps the wire's documented field
// types the connector contract's.
func TestSchemaTypesMatchTheConnectors(t *testing.T) {
	pairs := [][2]string{
		{apitype.SchemaTypeString, connector.TypeString}, {apitype.SchemaTypeText, connector.TypeText},
		{apitype.SchemaTypeNumber, connector.TypeNumber}, {apitype.SchemaTypeBool, connector.TypeBool},
		{apitype.SchemaTypeDate, connector.TypeDate}, {apitype.SchemaTypeDateTime, connector.TypeDateTime},
		{apitype.SchemaTypeEnum, connector.TypeEnum}, {apitype.SchemaTypeLabels, connector.TypeLabels},
		{apitype.SchemaTypeUser, connector.TypeUser},
	}
	for _, p := range pairs {
		if p[0] != p[1] {
			t.Errorf("wire type %q, connector type %q", p[0], p[1])
		}
	}
}

// TestOpenConnectorPrefersTheLentCache checks that a composition root's
// connector cache, when lent, is what the schema is read through (so a
// system keeps one rate limiter), and that without one the registry opens
// the system from its configuration.
func TestOpenConnectorPrefersTheLentCache(t *testing.T) {
	var asked []string
	s := &Server{deps: Deps{Connector: func(id string) (connector.Connector, error) {
		asked = append(asked, id)
		return nil, fmt.Errorf("open system %s: %w", id, connector.ErrUnavailable)
	}}}
	cfg := connector.Config{ID: "sys1", Name: "Helpdesk", Kind: "no-such-kind"}
	if _, _, err := s.openConnector(cfg); !errors.Is(err, connector.ErrUnavailable) || !slices.Equal(asked, []string{"sys1"}) {
		t.Fatalf("with a cache: err %v, asked %v", err, asked)
	}
	s.deps.Connector = nil
	_, _, err := s.openConnector(cfg)
	if !errors.Is(err, connector.ErrUnavailable) || !strings.Contains(err.Error(), "no-such-kind") {
		t.Fatalf("an unknown kind without a cache: %v", err)
	}
}
