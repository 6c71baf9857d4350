package servicenow

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/lockstep-sync/lockstep/agent/internal/connector"
	"github.com/lockstep-sync/lockstep/agent/internal/secret"
)

// These tests pin the connector's readings of ServiceNow's answers against
// hand-written answers in the shapes the vendor documents (and public
// captures of real instances), not against the emulator.

// documented serves canned answers by method and path.
func documented(t *testing.T, answers map[string]func(w http.ResponseWriter, r *http.Request)) *Conn {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h, ok := answers[r.Method+" "+r.URL.Path]
		if !ok {
			t.Errorf("unexpected %s %s", r.Method, r.URL.Path)
			w.WriteHeader(http.StatusNotImplemented)
			return
		}
		w.Header().Set("Content-Type", "application/json;charset=UTF-8")
		h(w, r)
	}))
	t.Cleanup(srv.Close)
	c, err := Open(connector.Config{ID: "doc-" + t.Name(), Name: "doc", URL: srv.URL, Settings: map[string]any{"username": "admin"},
		Secrets: map[string]secret.Secret{"password": secret.New("admin-password")}}, connector.Env{})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestUploadAnswer: POST /api/now/attachment/file answers 201 with the
// attachment's metadata, every value a string (from a capture of a
// developer instance published with a connector's documentation).
func TestUploadAnswer(t *testing.T) {
	c := documented(t, map[string]func(http.ResponseWriter, *http.Request){
		"POST /api/now/attachment/file": func(w http.ResponseWriter, r *http.Request) {
			q := r.URL.Query()
			body, _ := io.ReadAll(r.Body)
			if q.Get("table_name") != "incident" || q.Get("table_sys_id") != "1c741bd70b2322007518478d83673af3" || q.Get("file_name") != "test" ||
				r.Header.Get("Content-Type") != "application/json" || string(body) != "{}" {
				t.Errorf("upload request %v %v %q", q, r.Header, body)
			}
			w.Header().Set("Location", "https://dev130168.service-now.com/api/now/attachment/41f9dad09783111084d57e121153af94/file")
			w.WriteHeader(http.StatusCreated)
			_, _ = io.WriteString(w, `{"result":{"size_bytes":"5881","file_name":"test","sys_mod_count":"0","average_image_color":"",
				"image_width":"","sys_updated_on":"2022-11-05 00:53:43","sys_tags":"","table_name":"incident","sys_id":"41f9dad09783111084d57e121153af94",
				"image_height":"","sys_updated_by":"admin","download_link":"https://dev130168.service-now.com/api/now/attachment/41f9dad09783111084d57e121153af94/file",
				"content_type":"application/json","sys_created_on":"2022-11-05 00:53:43","size_compressed":"4343","compressed":"true","state":"pending",
				"table_sys_id":"1c741bd70b2322007518478d83673af3","chunk_size_bytes":"700000","hash":"8671fa6613cd1c6e82c0e1d6b940ae0771d1d8b3f56019f8274ed501407ffc2a","sys_created_by":"admin"}}`)
		},
	})
	a, err := c.Upload(context.Background(), connector.Ref{ID: "incident:1c741bd70b2322007518478d83673af3"}, "test", "application/json", 2, strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	if a.ID != "41f9dad09783111084d57e121153af94" || a.Size != 5881 || a.Name != "test" || a.ContentType != "application/json" ||
		a.CreatedAt.Format(stamp) != "2022-11-05 00:53:43" {
		t.Fatalf("attachment %+v", a)
	}
}

// TestPagingSignals: the Table API's Link header (first, prev, next, last,
// each the request with another sysparm_offset; none when one page holds
// everything) and X-Total-Count, as in the REST API's published sample.
func TestPagingSignals(t *testing.T) {
	const link = `<https://demo003.service-now.com/api/now/table/incident?sysparm_limit=1&sysparm_fields=number&sysparm_offset=0>;rel="first",` +
		`<https://demo003.service-now.com/api/now/table/incident?sysparm_limit=1&sysparm_fields=number&sysparm_offset=-1>;rel="prev",` +
		`<https://demo003.service-now.com/api/now/table/incident?sysparm_limit=1&sysparm_fields=number&sysparm_offset=1>;rel="next",` +
		`<https://demo003.service-now.com/api/now/table/incident?sysparm_limit=1&sysparm_fields=number&sysparm_offset=549>;rel="last"`
	var headers http.Header
	c := documented(t, map[string]func(http.ResponseWriter, *http.Request){
		"GET /api/now/table/incident": func(w http.ResponseWriter, r *http.Request) {
			for k, v := range headers {
				w.Header()[k] = v
			}
			_, _ = io.WriteString(w, `{"result":[{"number":"INC0000001"}]}`)
		},
	})
	for _, tc := range []struct {
		name   string
		header http.Header
		limit  int
		offset int
		more   bool
	}{
		{"next in Link", http.Header{"Link": {link}, "X-Total-Count": {"550"}}, 1, 0, true},
		{"Link without next (last page)", http.Header{"Link": {strings.Replace(link, `rel="next"`, `rel="nothing"`, 1)}}, 1, 549, false},
		// A page shorter than asked (ACLs removed records) is not the end.
		{"short page with next", http.Header{"Link": {link}}, 100, 0, true},
		{"no Link, count not reached", http.Header{"X-Total-Count": {"550"}}, 100, 0, true},
		{"no Link, count reached", http.Header{"X-Total-Count": {"550"}}, 100, 500, false},
		{"no Link, no count: a full page", http.Header{}, 1, 0, true},
		{"no Link, no count: a short page", http.Header{}, 100, 0, false},
	} {
		headers = tc.header
		recs, more, err := c.page(context.Background(), "/api/now/table/incident", "", []string{"number"}, tc.limit, tc.offset)
		if err != nil || len(recs) != 1 || recs[0].get("number") != "INC0000001" || more != tc.more {
			t.Errorf("%s: %v more=%v, %v", tc.name, recs, more, err)
		}
	}
}

// TestErrorAnswers: the REST API's error body,
// {"error":{"message","detail"},"status":"failure"}; detail may be null.
func TestErrorAnswers(t *testing.T) {
	status, body := 0, ""
	c := documented(t, map[string]func(http.ResponseWriter, *http.Request){
		"GET /api/now/table/incident/0123456789abcdef0123456789abcdef": func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(status)
			_, _ = io.WriteString(w, body)
		},
		"GET /api/now/table/sys_db_object": func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.WriteString(w, `{"result":[{"name":"incident","super_class.name":"task"},{"name":"task","super_class.name":""}]}`)
		},
		"GET /api/now/table/sys_dictionary": func(w http.ResponseWriter, r *http.Request) {
			if strings.Contains(r.URL.Query().Get("sysparm_query"), "display=true") {
				_, _ = io.WriteString(w, `{"result":[]}`)
				return
			}
			_, _ = io.WriteString(w, `{"result":[{"name":"task","element":"short_description","internal_type":"string","max_length":"160"}]}`)
		},
		"GET /api/now/table/sys_choice": func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, `{"result":[]}`) },
	})
	ref := connector.Ref{ID: "incident:0123456789abcdef0123456789abcdef"}
	for _, tc := range []struct {
		status int
		body   string
		want   error
		text   string
	}{
		{404, `{"error":{"message":"No Record found","detail":"Record doesn't exist or ACL restricts the record retrieval"},"status":"failure"}`,
			connector.ErrNotFound, "No Record found (Record doesn't exist or ACL restricts the record retrieval)"},
		{401, `{"error":{"message":"User Not Authenticated","detail":"Required to provide Auth information"},"status":"failure"}`,
			connector.ErrUnauthorized, "User Not Authenticated"},
		{403, `{"error":{"message":"Operation Failed","detail":"ACL Exception Update Failed due to security constraints"},"status":"failure"}`,
			connector.ErrForbidden, "ACL Exception"},
		{400, `{"error":{"message":"Invalid table incident","detail":null},"status":"failure"}`, connector.ErrInvalid, "Invalid table"},
		{200, `{"result":`, connector.ErrUnavailable, "decode"},
		{200, `{"status":"success"}`, connector.ErrUnavailable, "no result"},
	} {
		status, body = tc.status, tc.body
		_, err := c.Get(context.Background(), ref)
		if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.text) {
			t.Errorf("HTTP %d %s: %v, want %v with %q", tc.status, tc.body, err, tc.want, tc.text)
		}
	}
}

// TestTokenAnswers: /oauth_token.do answers a form post with
// {"access_token","refresh_token","scope","token_type","expires_in"}, and
// a refusal with 401 {"error_description":"access_denied","error":"server_error"}.
func TestTokenAnswers(t *testing.T) {
	refuse := false
	var auth string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json;charset=UTF-8")
		switch r.URL.Path {
		case "/oauth_token.do":
			if r.Header.Get("Content-Type") != "application/x-www-form-urlencoded" || r.ParseForm() != nil ||
				r.PostForm.Get("grant_type") != "client_credentials" || r.PostForm.Get("client_id") != "be3aeb583ace210011c15b24a43e25d8" {
				t.Errorf("token request %v %v", r.Header, r.PostForm)
			}
			if refuse {
				w.WriteHeader(http.StatusUnauthorized)
				_, _ = io.WriteString(w, `{"error_description":"access_denied","error":"server_error"}`)
				return
			}
			_, _ = io.WriteString(w, `{"access_token":"Gf1qPEu2bMBg2XkE1ZqlQ3lGwHExP6cQkx9jNlu4d8I_Jc7iK6r1PqFiyAQdnNtDZvXqnSkGkPwsGuUH8obqMg",`+
				`"refresh_token":"kkP8P1LhR4fcMzOA6SnxL0Y5lVj8GN8aWYS6ehsUd_c","scope":"useraccount","token_type":"Bearer","expires_in":1799}`)
		default:
			auth = r.Header.Get("Authorization")
			_, _ = io.WriteString(w, `{"result":[]}`)
		}
	}))
	defer srv.Close()
	c, err := Open(connector.Config{ID: "doc-token", Name: "doc", URL: srv.URL, Settings: map[string]any{"auth": AuthOAuth, "clientId": "be3aeb583ace210011c15b24a43e25d8"},
		Secrets: map[string]secret.Secret{"clientSecret": secret.New("client_password")}}, connector.Env{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.list(context.Background(), "incident", "", nil, 1, 0); err != nil || !strings.HasPrefix(auth, "Bearer Gf1qPEu2") {
		t.Fatalf("list with a token: %q, %v", auth, err)
	}
	refuse = true
	c.oauth.invalidate(c.oauth.token)
	if _, err := c.list(context.Background(), "incident", "", nil, 1, 0); !errors.Is(err, connector.ErrUnauthorized) || !strings.Contains(err.Error(), "access_denied") {
		t.Fatalf("refused token: %v", err)
	}
}
