package gitlab

import (
	"context"
	"errors"
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

// Tests here pin behaviour GitLab documents, against hand-written answers
// in the documented shapes (docs.gitlab.com/api: issues, notes, issue
// links, Markdown uploads, rest/#pagination, webhook events) rather than
// the emulator, so that a wrong reading shared by the connector and the
// emulator cannot hide.

// fake answers each "METHOD path?query" (or "METHOD path") with a status,
// headers and body, and records the request bodies it got.
type fake struct {
	mu      sync.Mutex
	answers map[string]answer
	got     map[string][]string
}

type answer struct {
	status int
	header map[string]string
	body   string
}

func serveFake(t *testing.T, answers map[string]answer) (*Conn, *fake) {
	t.Helper()
	f := &fake{answers: answers, got: map[string][]string{}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		key := r.Method + " " + r.URL.EscapedPath()
		f.mu.Lock()
		f.got[key] = append(f.got[key], string(b))
		a, ok := f.answers[key+"?"+r.URL.Query().Get("page")]
		if !ok {
			a, ok = f.answers[key]
		}
		f.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		if !ok {
			w.WriteHeader(http.StatusNotFound)
			_, _ = io.WriteString(w, `{"message":"404 Not found"}`)
			return
		}
		for k, v := range a.header {
			w.Header().Set(k, v)
		}
		if a.status == 0 {
			a.status = http.StatusOK
		}
		w.WriteHeader(a.status)
		_, _ = io.WriteString(w, a.body)
	}))
	t.Cleanup(srv.Close)
	c, err := Open(connector.Config{ID: "sys-fake", Name: "GitLab", Kind: Kind, URL: srv.URL,
		Secrets: map[string]secret.Secret{"token": secret.New("glpat-fake-0123456789")}}, connector.Env{})
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

const docProject = `{"id":3,"path_with_namespace":"diaspora/diaspora-project-site","web_url":"http://example.com/diaspora/diaspora-project-site"}`

// docIssue is the "Single project issue" example of the Issues API page
// (trimmed): GitLab Free leaves weight out; description may be null.
const docIssue = `{"id":42,"iid":1,"project_id":3,"title":"Ut commodi ullam eos dolores perferendis nihil sunt.",
 "description":null,"state":"closed","created_at":"2016-01-04T15:31:46.176Z","updated_at":"2016-01-04T15:31:46.176Z",
 "closed_at":"2016-01-05T15:31:46.176Z","labels":["foo","bar"],"milestone":{"id":17,"iid":2,"title":"v4.0","state":"closed"},
 "assignees":[{"id":1,"name":"Administrator","username":"root","state":"active"}],
 "due_date":"2016-07-22","issue_type":"issue","confidential":false,"web_url":"http://example.com/diaspora/diaspora-project-site/-/issues/1",
 "references":{"short":"#1","relative":"#1","full":"diaspora/diaspora-project-site#1"}}`

// TestDocumentedIssue reads the documented issue: every field, the Free
// tier's missing weight, the key from references.full.
func TestDocumentedIssue(t *testing.T) {
	c, _ := serveFake(t, map[string]answer{
		"GET /api/v4/projects/3":          {body: docProject},
		"GET /api/v4/projects/3/issues/1": {body: docIssue},
	})
	e, err := c.Get(context.Background(), connector.Ref{ID: "3:1"})
	if err != nil {
		t.Fatal(err)
	}
	f := e.Fields
	if e.Key != "diaspora/diaspora-project-site#1" || !strings.HasPrefix(e.Version, "2016-01-04T15:31:46.176Z~") || e.Type != "issue" ||
		!e.UpdatedAt.Equal(time.Date(2016, 1, 4, 15, 31, 46, 176e6, time.UTC)) {
		t.Fatalf("entity %+v", e)
	}
	if f["status"] != "closed" || f["description"] != nil || f["milestone"] != "v4.0" || f["dueDate"] != "2016-07-22" ||
		f["assignee"].(connector.User).ID != "root" || len(f["labels"].([]string)) != 2 {
		t.Fatalf("fields %+v", f)
	}
	if _, ok := f["weight"]; ok {
		t.Fatal("a Free issue has no weight field")
	}
	premium, known := c.projects["3"].tier()
	if !known || premium {
		t.Fatal("the tier was not learnt from the missing weight")
	}
}

// TestDocumentedPagination: offset pagination is read from X-Next-Page, or
// from the Link header alone (rest/#pagination-link-header; the only
// signal of keyset pagination); neither ends the list.
func TestDocumentedPagination(t *testing.T) {
	note := func(id string) string {
		return `{"id":` + id + `,"body":"n` + id + `","author":{"id":1,"username":"root","name":"Administrator"},"system":false,"created_at":"2016-01-04T15:31:46.176Z","updated_at":"2016-01-04T15:31:46.176Z"}`
	}
	base := "GET /api/v4/projects/3/issues/1/notes"
	c, f := serveFake(t, map[string]answer{
		"GET /api/v4/projects/3": {body: docProject},
		base + "?1":              {header: map[string]string{"X-Next-Page": "2", "X-Page": "1"}, body: "[" + note("1") + "]"},
		base + "?2": {header: map[string]string{"X-Next-Page": "", "Link": `<http://example.com/api/v4/projects/3/issues/1/notes?page=3&per_page=100>; rel="next", <http://example.com/api/v4/projects/3/issues/1/notes?page=1&per_page=100>; rel="first"`},
			body: "[" + note("2") + "]"},
		base + "?3": {header: map[string]string{"X-Next-Page": "", "Link": `<http://example.com/api/v4/projects/3/issues/1/notes?page=1&per_page=100>; rel="first"`},
			body: "[" + note("3") + "]"},
	})
	list, err := c.Comments(context.Background(), connector.Ref{ID: "3:1"})
	if err != nil || len(list) != 3 || list[2].Body != "n3" {
		t.Fatalf("comments %+v, %v", list, err)
	}
	if n := len(f.bodies(base)); n != 3 {
		t.Fatalf("%d requests, want 3", n)
	}
}

// TestDocumentedErrors: GitLab's error shapes reach the engine as
// messages: model validation {"message":{"title":[...]}}, Grape's
// {"error":"title is missing"}, a link that exists (409).
func TestDocumentedErrors(t *testing.T) {
	c, _ := serveFake(t, map[string]answer{
		"GET /api/v4/projects/3": {body: docProject},
		"POST /api/v4/projects/3/issues": {status: http.StatusBadRequest,
			body: `{"message":{"title":["is too long (maximum is 255 characters)"]}}`},
		"GET /api/v4/projects/3/issues/1":        {body: docIssue},
		"PUT /api/v4/projects/3/issues/1":        {status: http.StatusBadRequest, body: `{"error":"due_date is invalid"}`},
		"POST /api/v4/projects/3/issues/1/links": {status: http.StatusConflict, body: `{"message":"Issue(s) already assigned"}`},
		"GET /api/v4/projects/3/issues/1/links": {body: `[{"id":84,"iid":2,"project_id":3,"issue_link_id":7,"link_type":"relates_to",
			"references":{"full":"diaspora/diaspora-project-site#2"}}]`},
	})
	ctx := context.Background()
	_, err := c.Create(ctx, "3", "issue", connector.Fields{"title": "x"}, connector.Marker{})
	if !errors.Is(err, connector.ErrInvalid) || !strings.Contains(err.Error(), "title: is too long (maximum is 255 characters)") {
		t.Fatalf("create: %v", err)
	}
	_, err = c.Update(ctx, connector.Ref{ID: "3:1"}, connector.Fields{"title": "y"}, "")
	if !errors.Is(err, connector.ErrInvalid) || !strings.Contains(err.Error(), "due_date is invalid") {
		t.Fatalf("update: %v", err)
	}
	if err := c.AddLink(ctx, connector.Ref{ID: "3:1"}, connector.Link{Type: "relates to", Target: connector.Ref{ID: "3:2"}}); err != nil {
		t.Fatalf("a link GitLab has already: %v", err)
	}
	err = c.AddLink(ctx, connector.Ref{ID: "3:1"}, connector.Link{Type: "relates_to", Target: connector.Ref{ID: "3:9"}})
	if !errors.Is(err, connector.ErrConflict) {
		t.Fatalf("a 409 not explained by a listed link stays a conflict: %v", err)
	}
}

// TestDocumentedUpload: the upload answer of the Markdown uploads API
// (GitLab 17.3: id, alt, url, full_path, markdown).
func TestDocumentedUpload(t *testing.T) {
	c, f := serveFake(t, map[string]answer{
		"GET /api/v4/projects/3": {body: docProject},
		"POST /api/v4/projects/3/uploads": {status: http.StatusCreated, body: `{"id":5,"alt":"dk","url":"/uploads/66dbcd21ec5d24ed6ea225176098d52b/dk.png",
			"full_path":"/-/project/1234/uploads/66dbcd21ec5d24ed6ea225176098d52b/dk.png","markdown":"![dk](/uploads/66dbcd21ec5d24ed6ea225176098d52b/dk.png)"}`},
		"POST /api/v4/projects/3/issues/1/notes": {status: http.StatusCreated, body: `{"id":302,"body":"x","created_at":"2013-10-02T10:22:45Z"}`},
	})
	a, err := c.Upload(context.Background(), connector.Ref{ID: "3:1"}, "dk.png", "image/png", 3, strings.NewReader("png"))
	if err != nil || a.ID != "66dbcd21ec5d24ed6ea225176098d52b/dk.png" || a.Size != 3 {
		t.Fatalf("Upload = %+v, %v", a, err)
	}
	notes := f.bodies("POST /api/v4/projects/3/issues/1/notes")
	if len(notes) != 1 || !strings.Contains(notes[0], `![dk](/uploads/66dbcd21ec5d24ed6ea225176098d52b/dk.png)`) ||
		!strings.Contains(notes[0], "lockstep-attachment size=3 name=dk.png") {
		t.Fatalf("the note %q", notes)
	}
}

// TestDocumentedWebhooks parses the examples of "Webhook events": an issue
// event, a comment on an issue, a comment on a merge request.
func TestDocumentedWebhooks(t *testing.T) {
	c, _ := serveFake(t, nil)
	req := httptest.NewRequest(http.MethodPost, "/hook", nil)
	req.Header.Set("X-Gitlab-Event", "Issue Hook")
	req.Header.Set(TokenHeader, "s3cret")
	for body, want := range map[string]string{
		`{"object_kind":"issue","event_type":"issue","user":{"id":1,"name":"Administrator","username":"root"},
		  "project":{"id":1,"name":"Gitlab Test","path_with_namespace":"gitlabhq/gitlab-test","web_url":"http://example.com/gitlabhq/gitlab-test"},
		  "object_attributes":{"id":301,"title":"New API: create/update/delete file","assignee_ids":[51],"author_id":51,
		  "created_at":"2013-12-03T17:15:43Z","updated_at":"2013-12-03T17:15:43Z","project_id":14,"iid":23,"state":"opened","action":"open"}}`: "14:23",
		`{"object_kind":"note","event_type":"note","user":{"id":1,"name":"Administrator","username":"root"},"project_id":5,
		  "project":{"id":5,"name":"Gitlab Test","path_with_namespace":"gitlabhq/gitlab-test"},
		  "object_attributes":{"id":1241,"note":"Hello world","noteable_type":"Issue","author_id":1,"project_id":5,"noteable_id":92,"system":false},
		  "issue":{"id":92,"iid":17,"project_id":5,"title":"test","state":"closed"}}`: "5:17",
		`{"object_kind":"note","event_type":"note","project_id":5,"project":{"id":5},
		  "object_attributes":{"id":1244,"note":"This MR needs work.","noteable_type":"MergeRequest","project_id":5},
		  "merge_request":{"id":7,"iid":1}}`: "",
	} {
		refs, err := c.ParseWebhook(req, []byte(body), "s3cret")
		if err != nil {
			t.Fatal(err)
		}
		got := ""
		if len(refs) > 0 {
			got = refs[0].ID
		}
		if got != want || len(refs) > 1 {
			t.Errorf("refs %+v, want %q", refs, want)
		}
	}
}
