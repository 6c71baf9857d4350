package jira

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lockstep-sync/lockstep/agent/internal/connector"
	"github.com/lockstep-sync/lockstep/agent/internal/secret"
)

// Tests here pin behaviour Atlassian documents, against hand-written
// answers in the documented shapes rather than the emulator, so that a
// wrong reading shared by the connector and the emulator cannot hide.

// fake is a Jira that answers each "METHOD path" with a fixed body and
// records the request bodies it got.
type fake struct {
	mu      sync.Mutex
	answers map[string]string
	got     map[string][]string
}

func serveFake(t *testing.T, deployment string, answers map[string]string) (*Conn, *fake) {
	t.Helper()
	f := &fake{answers: answers, got: map[string][]string{}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		key := r.Method + " " + r.URL.Path
		f.mu.Lock()
		f.got[key] = append(f.got[key], string(b))
		ans, ok := f.answers[key]
		f.mu.Unlock()
		if !ok {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusNotFound)
			_, _ = io.WriteString(w, `{"errorMessages":["no such resource in this test"],"errors":{}}`)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		if r.Method == http.MethodPost && ans == "" {
			w.WriteHeader(http.StatusCreated)
			return
		}
		_, _ = io.WriteString(w, ans)
	}))
	t.Cleanup(srv.Close)
	cfg := connector.Config{ID: "sys-fake", Name: "Jira", Kind: Kind, URL: srv.URL,
		Settings: map[string]any{"deployment": deployment, "email": "ada@example.com"},
		Secrets:  map[string]secret.Secret{"apiToken": secret.New("t0ken-0123456789"), "personalAccessToken": secret.New("t0ken-0123456789")}}
	c, err := Open(cfg, connector.Env{})
	if err != nil {
		t.Fatal(err)
	}
	return c, f
}

func (f *fake) bodies(key string) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.got[key]...)
}

// TestIssueLinkDirection pins how POST /issueLink reads. Atlassian's
// "Jira issue linking model" guide (developer.atlassian.com/cloud/jira/
// platform/issue-linking-model/) shows that GET /issue/{key} labels a link
// that carries outwardIssue with the type's outward description ("THING-1
// blocks FEAT-2") and one that carries inwardIssue with the inward one.
// For the create request, the issue named inwardIssue is the one the
// outward description reads from: {type: Blocks, inwardIssue: A,
// outwardIssue: B} makes "A blocks B", and A's issuelinks then list
// outwardIssue: B. That is what Jira Cloud and Data Center do, as found
// live in mozilla/jira-bugzilla-integration#1285 ("Jira's REST API treats
// inwardIssue as the blocker"), b1ff/atlassian-dc-mcp#74 and
// atlassian/atlassian-mcp-server#112. So AddLink(A, "blocks" B) must send
// inwardIssue A, and Links(A) must read outwardIssue B as "blocks".
func TestIssueLinkDirection(t *testing.T) {
	types := `{"issueLinkTypes":[{"id":"10000","name":"Blocks","inward":"is blocked by","outward":"blocks"}]}`
	c, f := serveFake(t, Server, map[string]string{
		"GET /rest/api/2/issueLinkType": types,
		"POST /rest/api/2/issueLink":    "",
		// A's links as Jira shows them after "A blocks B" and "C blocks A".
		"GET /rest/api/2/issue/1": `{"id":"1","key":"A-1","fields":{"issuelinks":[
			{"id":"900","type":{"id":"10000","name":"Blocks","inward":"is blocked by","outward":"blocks"},"outwardIssue":{"id":"2","key":"B-2"}},
			{"id":"901","type":{"id":"10000","name":"Blocks","inward":"is blocked by","outward":"blocks"},"inwardIssue":{"id":"3","key":"C-3"}}]}}`,
		"GET /rest/api/2/issue/1/remotelink": `[]`,
	})
	ctx := context.Background()
	a := connector.Ref{ID: "1", Key: "A-1"}
	if err := c.AddLink(ctx, a, connector.Link{Type: "blocks", Target: connector.Ref{ID: "2", Key: "B-2"}}); err != nil {
		t.Fatal(err)
	}
	if err := c.AddLink(ctx, a, connector.Link{Type: "is blocked by", Target: connector.Ref{ID: "3", Key: "C-3"}}); err != nil {
		t.Fatal(err)
	}
	type ref struct{ ID, Key string }
	var sent []struct {
		Type         struct{ Name string } `json:"type"`
		InwardIssue  ref                   `json:"inwardIssue"`
		OutwardIssue ref                   `json:"outwardIssue"`
	}
	for _, b := range f.bodies("POST /rest/api/2/issueLink") {
		var one struct {
			Type         struct{ Name string } `json:"type"`
			InwardIssue  ref                   `json:"inwardIssue"`
			OutwardIssue ref                   `json:"outwardIssue"`
		}
		if err := json.Unmarshal([]byte(b), &one); err != nil {
			t.Fatal(err)
		}
		sent = append(sent, one)
	}
	if len(sent) != 2 || sent[0].Type.Name != "Blocks" ||
		sent[0].InwardIssue.ID != "1" || sent[0].OutwardIssue.ID != "2" || // A blocks B
		sent[1].InwardIssue.ID != "3" || sent[1].OutwardIssue.ID != "1" { // C blocks A
		t.Fatalf("issueLink requests %+v", sent)
	}
	links, err := c.Links(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	if len(links) != 2 || links[0] != (connector.Link{Type: "blocks", Target: connector.Ref{ID: "2", Key: "B-2"}}) ||
		links[1] != (connector.Link{Type: "is blocked by", Target: connector.Ref{ID: "3", Key: "C-3"}}) {
		t.Fatalf("Links(A) = %+v", links)
	}
}

// TestCloudSearchPaging pins GET /rest/api/3/search/jql paging as
// Atlassian's reference describes it: the answer has issues,
// nextPageToken and isLast (no total); the token is null on the last page;
// Jira may answer fewer issues than maxResults. So a short or even empty
// page with a token and isLast false is not the end, and a page with
// isLast true is, whatever it holds. Fields must be asked for: the
// endpoint's default is the issue id only.
func TestCloudSearchPaging(t *testing.T) {
	cases := []struct {
		name, answer, sent, want string
	}{
		{"empty page, more to come", `{"issues":[],"nextPageToken":"tok-2","isLast":false}`, "", "tok-2"},
		{"last page", `{"issues":[],"isLast":true}`, "tok-2", ""},
		{"token without isLast", `{"issues":[],"nextPageToken":"tok-3"}`, "tok-2", "tok-3"},
		{"token repeated", `{"issues":[],"nextPageToken":"tok-2","isLast":false}`, "tok-2", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var q map[string][]string
			var mu sync.Mutex
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				switch r.URL.Path {
				case "/rest/api/3/myself":
					_, _ = io.WriteString(w, `{"accountId":"1","displayName":"Ada","timeZone":"UTC"}`)
				case "/rest/api/3/search/jql":
					mu.Lock()
					q = r.URL.Query()
					mu.Unlock()
					_, _ = io.WriteString(w, tc.answer)
				default:
					_, _ = io.WriteString(w, `[]`)
				}
			}))
			defer srv.Close()
			c, err := Open(connector.Config{ID: "s", Name: "J", Kind: Kind, URL: srv.URL,
				Settings: map[string]any{"deployment": Cloud, "email": "ada@example.com"},
				Secrets:  map[string]secret.Secret{"apiToken": secret.New("t0ken-0123456789")}}, connector.Env{})
			if err != nil {
				t.Fatal(err)
			}
			page, err := c.Changes(context.Background(), "HELP", time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), tc.sent)
			if err != nil {
				t.Fatal(err)
			}
			if page.Cursor != tc.want {
				t.Fatalf("cursor %q, want %q", page.Cursor, tc.want)
			}
			mu.Lock()
			defer mu.Unlock()
			if strings.Join(q["fields"], ",") != "*all" || q["maxResults"][0] != "100" || (tc.sent != "" && q["nextPageToken"][0] != tc.sent) {
				t.Fatalf("query %v", q)
			}
			if !strings.Contains(q["jql"][0], `updated >= "2026/01/02 03:03"`) || !strings.HasSuffix(q["jql"][0], "ORDER BY updated ASC, key ASC") {
				t.Fatalf("jql %q", q["jql"][0])
			}
		})
	}
}

// TestServerCommentMarkerProperty pins the comment marker on Server/Data
// Center v2. Jira Server's CommentJsonBean (com.atlassian.jira.issue.fields.
// rest.json.beans, the bean behind POST /rest/api/2/issue/{key}/comment)
// takes "properties" on create as a list of {key, value} whose value it
// casts to a JSON object, and lists them only with expand=properties. So
// the marker goes as {"marker": "..."} (an object, never a bare string)
// and is read back from the expanded list.
func TestServerCommentMarkerProperty(t *testing.T) {
	mark := "<!-- lockstep:a:42 -->"
	c, f := serveFake(t, Server, map[string]string{
		"POST /rest/api/2/issue/HELP-1/comment": `{"id":"10000","body":"copied","created":"2026-01-02T03:04:05.000+0000","author":{"name":"ada","displayName":"Ada"}}`,
		"GET /rest/api/2/issue/HELP-1/comment": `{"startAt":0,"maxResults":100,"total":1,"comments":[{"id":"10000","body":"copied",
			"created":"2026-01-02T03:04:05.000+0000","author":{"name":"ada","displayName":"Ada"},
			"properties":[{"key":"lockstep","value":{"marker":"<!-- lockstep:a:42 -->"}}]}]}`,
	})
	ctx := context.Background()
	ref := connector.Ref{Key: "HELP-1"}
	added, err := c.AddComment(ctx, ref, connector.NewComment{Body: "copied", Marker: mark})
	if err != nil || added.Marker != "lockstep:a:42" || strings.Contains(added.Body, "lockstep:") {
		t.Fatalf("AddComment = %+v, %v", added, err)
	}
	var sent struct {
		Body       string `json:"body"`
		Properties []struct {
			Key   string          `json:"key"`
			Value json.RawMessage `json:"value"`
		} `json:"properties"`
	}
	bodies := f.bodies("POST /rest/api/2/issue/HELP-1/comment")
	if len(bodies) != 1 || json.Unmarshal([]byte(bodies[0]), &sent) != nil {
		t.Fatalf("sent %q", bodies)
	}
	var value map[string]string
	if len(sent.Properties) != 1 || sent.Properties[0].Key != commentProperty ||
		json.Unmarshal(sent.Properties[0].Value, &value) != nil || value["marker"] != mark || strings.Contains(sent.Body, "lockstep") {
		t.Fatalf("sent comment %+v", sent)
	}
	list, err := c.Comments(ctx, ref)
	if err != nil || len(list) != 1 || list[0].Marker != "lockstep:a:42" || strings.Contains(list[0].Body, "lockstep:") {
		t.Fatalf("Comments = %+v, %v", list, err)
	}
}
