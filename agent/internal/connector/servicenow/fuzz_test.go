package servicenow

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/lockstep-sync/lockstep/agent/internal/connector"
	"github.com/lockstep-sync/lockstep/agent/internal/connector/contracttest"
	"github.com/lockstep-sync/lockstep/agent/internal/connector/servicenow/snemu"
	"github.com/lockstep-sync/lockstep/agent/internal/secret"
)

// FuzzResponses feeds one answer body to every request the connector
// makes, through every reading method, one update and the webhook parser:
// whatever the instance (or something in its place) answers, the
// connector returns an error or a value, never panics or hangs.
func FuzzResponses(f *testing.F) {
	for _, s := range []string{
		`{"result":[{"name":"incident","super_class.name":"task","element":"state","internal_type":"integer","choice":"3","max_length":"40"}]}`,
		`{"result":{"sys_id":{"value":"0123456789abcdef0123456789abcdef","display_value":"x"},"sys_mod_count":"3","sys_updated_on":"2026-01-02 03:04:05"}}`,
		`{"result":[{"sys_id":"0123456789abcdef0123456789abcdef","element":"work_notes","value":"hi\n[code]<!-- lockstep:a:1 -->[/code]","sys_created_by":"x"}]}`,
		`{"result":[{"sys_id":"0123456789abcdef0123456789abcdef","file_name":"a.txt","size_bytes":"-5","table_sys_id":"0123456789abcdef0123456789abcdef"}]}`,
		`{"access_token":"t","expires_in":"soon"}`,
		`{"error":{"message":"Rate limit exceeded","detail":null},"status":"failure"}`,
		`{"result":null}`, `{"result":"text"}`, `{"result":[[]]}`, `null`, `[]`, `{}`, `"x"`,
	} {
		f.Add([]byte(s))
	}
	url, serve := contracttest.FuzzServer(f)
	const hookSecret = "whsec-fuzz"
	f.Fuzz(func(t *testing.T, b []byte) {
		serve(b)
		for _, auth := range []string{AuthBasic, AuthOAuth} {
			c, err := Open(connector.Config{ID: "fuzz-" + auth, Name: "S", Kind: Kind, URL: url,
				Settings: map[string]any{"auth": auth, "username": "u", "clientId": "c"},
				Secrets: map[string]secret.Secret{"password": secret.New("pw-0123456789"), "clientSecret": secret.New("cs-0123456789"),
					"webhookSecret": secret.New(hookSecret)}}, connector.Env{})
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			ref := connector.Ref{ID: "incident:0123456789abcdef0123456789abcdef", Key: "INC0010001"}
			contracttest.ReadAll(ctx, c, "incident", ref, "3")
			_, _ = c.Changes(ctx, "incident", time.Time{}, `{"m":"eq","t":"2026-01-02 03:04:05","id":"0123456789abcdef0123456789abcdef"}`)
			_, _ = c.AddComment(ctx, ref, connector.NewComment{Body: "b", Marker: "lockstep:a:1"})
			cancel()
			r := httptest.NewRequest(http.MethodPost, "/hook", bytes.NewReader(b))
			r.Header.Set(SecretHeader, hookSecret)
			_, _ = c.ParseWebhook(r, b, "")
		}
	})
}

// FuzzDecoders reads a record answer through a real table's schema (from
// the emulator), and odd cursors and journal texts: every value decodes
// to the contract's shapes or to nothing, never to a panic.
func FuzzDecoders(f *testing.F) {
	e := start(f, snemu.Options{})
	c := open(f, e)
	s, err := c.schema(context.Background(), "incident")
	if err != nil {
		f.Fatal(err)
	}
	for _, seed := range []struct{ rec, cursor, journal string }{
		{`{"sys_id":{"value":"0123456789abcdef0123456789abcdef"},"state":{"value":"2","display_value":"In Progress"},"impact":"1",
			"assigned_to":{"value":"0123456789abcdef0123456789abcdef","display_value":"A","link":"x"},"due_date":{"value":"2026-01-02 03:04:05"},
			"active":{"value":true},"reassignment_count":{"value":3},"correlation_id":"lockstep:o1:K-1"}`,
			`{"m":"ge","t":"2026-01-02 03:04:05","id":"0123456789abcdef0123456789abcdef","f":{"0123456789abcdef0123456789abcdef":5}}`,
			"text\n\n[code]<!-- lockstep:a:1 -->[/code]"},
		{`{"state":{"value":{"deep":[1]}},"due_date":"not a date","reassignment_count":"1e999","assigned_to":[],"correlation_id":"lockstep:"}`,
			`{"m":"zz"}`, "<!--"},
		{`[]`, `null`, "[code]<!-- -->[/code]"},
	} {
		f.Add([]byte(seed.rec), seed.cursor, seed.journal)
	}
	f.Fuzz(func(t *testing.T, rec []byte, cur, journal string) {
		var r record
		if json.Unmarshal(rec, &r) == nil {
			ent := c.entity(s, r)
			if _, err := json.Marshal(ent); err != nil {
				t.Fatalf("entity of %s does not encode: %v", rec, err)
			}
			for _, fi := range s.fields {
				if v, ok := ent.Fields[fi.name]; !ok {
					t.Fatalf("field %s missing", fi.name)
				} else if fi.kind == kindDateTime && v != nil {
					if _, err := time.Parse(time.RFC3339, v.(string)); err != nil {
						t.Fatalf("date-time %v", v)
					}
				}
			}
		}
		if c2, err := parseCursor(cur); err == nil && parseStamp(c2.At).IsZero() {
			t.Fatalf("cursor %q accepted with a bad time", cur)
		}
		body, marker := splitMarker(journal)
		if len(body)+len(marker) > len(journal) {
			t.Fatalf("splitMarker grew %q", journal)
		}
	})
}
