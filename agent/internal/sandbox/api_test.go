package sandbox

import (
	"bytes"
	"io"
	"mime/multipart"
	"net/http"
	"strconv"
	"strings"
	"testing"
)

func TestAuth(t *testing.T) {
	_, hs := newTest(t, Options{})
	tests := []struct {
		name, token, method, path string
		want                      int
		code                      string
	}{
		{"no token", "", "GET", "/api/projects", 401, CodeUnauthorized},
		{"unknown token", "nope", "GET", "/api/projects", 401, CodeUnauthorized},
		{"read-only reads", "read-only-token", "GET", "/api/projects", 200, ""},
		{"read-only writes", "read-only-token", "POST", "/api/items", 403, CodeForbidden},
		{"admin needs a token", "", "GET", "/admin/stats", 401, CodeUnauthorized},
		{"health is open", "", "GET", "/healthz", 200, ""},
		{"unknown endpoint", testToken, "GET", "/api/nothing", 404, CodeNotFound},
		{"wrong method", testToken, "DELETE", "/api/projects", 405, CodeMethod},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := call(t, hs, tc.token, tc.method, tc.path, `{}`)
			if r.status != tc.want {
				t.Fatalf("status %d, want %d: %s", r.status, tc.want, r.body)
			}
			if tc.code != "" {
				if e := r.errorBody(t); e.Code != tc.code || e.Message == "" {
					t.Fatalf("error body %s", r.body)
				}
			}
		})
	}
}

// A revoked token is refused from then on, as any unknown one; added
// again, it is accepted again.
func TestRevokeToken(t *testing.T) {
	s, hs := newTest(t, Options{})
	s.RevokeToken(testToken)
	if r := call(t, hs, testToken, "GET", "/api/projects", nil); r.status != 401 || r.errorBody(t).Code != CodeUnauthorized {
		t.Fatalf("revoked: %d %s", r.status, r.body)
	}
	if r := call(t, hs, "read-only-token", "GET", "/api/projects", nil); r.status != 200 {
		t.Fatalf("another token: %d %s", r.status, r.body)
	}
	s.AddToken(Token{Value: testToken, User: "alice"})
	if r := call(t, hs, testToken, "GET", "/api/projects", nil); r.status != 200 {
		t.Fatalf("added again: %d %s", r.status, r.body)
	}
}

func TestItemsAPI(t *testing.T) {
	_, hs := newTest(t, Options{})
	r := call(t, hs, testToken, "POST", "/api/items", map[string]any{
		"project": "ENG", "type": "bug", "title": "Crash", "labels": []string{"crash"},
		"customFields": map[string]any{"story_points": 5},
		"remoteLinks":  []map[string]string{{"globalId": "lockstep:s1:HELP-9", "url": "https://help.example/HELP-9"}},
	})
	if r.status != 201 || r.header.Get("ETag") != `"1"` || r.header.Get("Location") == "" {
		t.Fatalf("create: %d %v %s", r.status, r.header, r.body)
	}
	var it Item
	r.decode(t, &it)
	if it.Key != "ENG-1" || it.CustomFields["story_points"] != 5.0 {
		t.Fatalf("created %+v", it)
	}
	if r := call(t, hs, testToken, "GET", "/api/items/eng-1", nil); r.status != 200 {
		t.Fatalf("get by key: %d", r.status)
	}
	tests := []struct {
		name   string
		body   string
		ifm    string
		status int
		field  string
	}{
		{"stale If-Match", `{"title":"x"}`, `"7"`, 409, ""},
		{"bad If-Match", `{"title":"x"}`, `abc`, 400, "If-Match"},
		{"unknown member", `{"titel":"x"}`, "", 400, "titel"},
		{"read-only member", `{"version":3}`, "", 400, "version"},
		{"clear a required field", `{"status":null}`, "", 400, "status"},
		{"wrong type", `{"labels":"a"}`, "", 400, "labels"},
		{"not JSON", `{`, "", 400, "body"},
		{"good", `{"status":"in_progress","assignee":"dave","dueDate":"2025-04-01","customFields":{"story_points":null}}`, `"1"`, 200, ""},
		{"clear", `{"assignee":null,"dueDate":null,"labels":null}`, `W/"2"`, 200, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var hdr []string
			if tc.ifm != "" {
				hdr = []string{"If-Match", tc.ifm}
			}
			r := call(t, hs, testToken, "PATCH", "/api/items/"+strconv.FormatInt(it.ID, 10), tc.body, hdr...)
			if r.status != tc.status {
				t.Fatalf("status %d, want %d: %s", r.status, tc.status, r.body)
			}
			if tc.field != "" {
				if e := r.errorBody(t); e.Field != tc.field {
					t.Fatalf("field %q, want %q: %s", e.Field, tc.field, r.body)
				}
			}
		})
	}
	r = call(t, hs, testToken, "GET", "/api/items/ENG-1", nil)
	r.decode(t, &it)
	if it.Version != 3 || it.Assignee != "" || it.DueDate != "" || len(it.Labels) != 0 || it.Status != "in_progress" {
		t.Fatalf("after patches: %+v", it)
	}
	r = call(t, hs, testToken, "GET", "/api/items?project=ENG&remote_link_global_id=lockstep:s1:HELP-9", nil)
	var page ItemPage
	r.decode(t, &page)
	if len(page.Items) != 1 {
		t.Fatalf("search by marker: %s", r.body)
	}
}

func TestListItemsAPI(t *testing.T) {
	s, hs := newTest(t, Options{})
	for range 7 {
		mustItem(t, s, NewItem{Project: "HELP", Type: "incident", Title: "x"})
	}
	var seen []string
	path := "/api/items?project=HELP&limit=3&updated_since=2000-01-01T00:00:00Z"
	for range 5 {
		var page ItemPage
		call(t, hs, testToken, "GET", path, nil).decode(t, &page)
		for _, it := range page.Items {
			seen = append(seen, it.Key)
		}
		if page.NextCursor == "" {
			break
		}
		path = "/api/items?project=HELP&limit=3&cursor=" + page.NextCursor
	}
	if len(seen) != 7 {
		t.Fatalf("paged %v", seen)
	}
	for _, bad := range []struct{ query, field string }{
		{"project=HELP&limit=101", "limit"}, {"project=HELP&limit=x", "limit"},
		{"project=HELP&updated_since=yesterday", "updated_since"}, {"", "project"}, {"project=HELP&cursor=zz", "cursor"},
	} {
		r := call(t, hs, testToken, "GET", "/api/items?"+bad.query, nil)
		if r.status != 400 || r.errorBody(t).Field != bad.field {
			t.Errorf("%s: %d %s", bad.query, r.status, r.body)
		}
	}
}

func TestCommentsAPI(t *testing.T) {
	s, hs := newTest(t, Options{})
	it := mustItem(t, s, NewItem{Project: "HELP", Type: "incident", Title: "x"})
	for i := range 5 {
		if r := call(t, hs, testToken, "POST", "/api/items/HELP-1/comments", map[string]string{"body": "c" + strconv.Itoa(i)}); r.status != 201 {
			t.Fatalf("add: %d %s", r.status, r.body)
		}
	}
	var bodies []string
	path := "/api/items/HELP-1/comments?limit=2"
	for range 5 {
		var page commentPage
		call(t, hs, testToken, "GET", path, nil).decode(t, &page)
		for _, c := range page.Comments {
			if c.Author != "alice" {
				t.Fatalf("author %q", c.Author)
			}
			bodies = append(bodies, c.Body)
		}
		if page.NextCursor == "" {
			break
		}
		path = "/api/items/HELP-1/comments?limit=2&cursor=" + page.NextCursor
	}
	if strings.Join(bodies, ",") != "c0,c1,c2,c3,c4" {
		t.Fatalf("comments %v", bodies)
	}
	if r := call(t, hs, testToken, "PATCH", "/api/items/HELP-1/comments/1", map[string]string{"body": "edited"}); r.status != 200 {
		t.Fatalf("edit: %d %s", r.status, r.body)
	}
	after, _ := s.Store().GetItem("HELP-1")
	if after.Version != it.Version+6 {
		t.Fatalf("comments must bump the version: %d", after.Version)
	}
	if r := call(t, hs, testToken, "POST", "/api/items/HELP-1/comments", map[string]string{"body": ""}); r.status != 400 {
		t.Fatalf("empty comment: %d", r.status)
	}
}

func TestAttachmentsAPI(t *testing.T) {
	s, hs := newTest(t, Options{MaxAttachmentBytes: 1 << 16})
	mustItem(t, s, NewItem{Project: "HELP", Type: "incident", Title: "x"})
	content := bytes.Repeat([]byte("lockstep "), 1000)
	r := call(t, hs, testToken, "POST", "/api/items/HELP-1/attachments?name=r%C3%A9sum%C3%A9.txt", content, "Content-Type", "text/plain")
	if r.status != 201 {
		t.Fatalf("upload: %d %s", r.status, r.body)
	}
	var a Attachment
	r.decode(t, &a)
	if a.Name != "résumé.txt" || a.Size != int64(len(content)) {
		t.Fatalf("attachment %+v", a)
	}
	r = call(t, hs, testToken, "GET", "/api/attachments/"+strconv.FormatInt(a.ID, 10)+"/content", nil)
	if r.status != 200 || !bytes.Equal(r.body, content) || r.header.Get("Content-Type") != "text/plain" ||
		!strings.Contains(r.header.Get("Content-Disposition"), "filename") {
		t.Fatalf("download: %d %v", r.status, r.header)
	}

	var form bytes.Buffer
	mw := multipart.NewWriter(&form)
	fw, _ := mw.CreateFormFile("file", "shot.png")
	fw.Write([]byte("\x89PNG"))
	mw.Close()
	r = call(t, hs, testToken, "POST", "/api/items/HELP-1/attachments", form.Bytes(), "Content-Type", mw.FormDataContentType())
	if r.status != 201 {
		t.Fatalf("multipart: %d %s", r.status, r.body)
	}
	var list struct{ Attachments []Attachment }
	call(t, hs, testToken, "GET", "/api/items/HELP-1/attachments", nil).decode(t, &list)
	if len(list.Attachments) != 2 || list.Attachments[1].Name != "shot.png" {
		t.Fatalf("list %+v", list)
	}
	if r := call(t, hs, testToken, "POST", "/api/items/HELP-1/attachments?name=big", make([]byte, 1<<16+1)); r.status != 413 {
		t.Fatalf("oversized: %d %s", r.status, r.body)
	}
	if r := call(t, hs, testToken, "POST", "/api/items/HELP-1/attachments", "x"); r.status != 400 || r.errorBody(t).Field != "name" {
		t.Fatalf("nameless: %d %s", r.status, r.body)
	}
	if r := call(t, hs, testToken, "GET", "/api/attachments/999/content", nil); r.status != 404 {
		t.Fatalf("missing: %d", r.status)
	}
}

// TestUploadStreams checks the server does not wait for the whole body
// before refusing an oversized upload it was told the size of.
func TestUploadTooLargeByLength(t *testing.T) {
	s, hs := newTest(t, Options{MaxAttachmentBytes: 10})
	mustItem(t, s, NewItem{Project: "HELP", Type: "incident", Title: "x"})
	req, _ := http.NewRequest("POST", hs.URL+"/api/items/HELP-1/attachments?name=x", io.LimitReader(zeros{}, 10<<20))
	req.ContentLength = 10 << 20
	req.Header.Set("Authorization", "Bearer "+testToken)
	resp, err := hs.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 413 {
		t.Fatalf("status %d", resp.StatusCode)
	}
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

func TestLinksAPI(t *testing.T) {
	s, hs := newTest(t, Options{})
	mustItem(t, s, NewItem{Project: "HELP", Type: "incident", Title: "a"})
	b := mustItem(t, s, NewItem{Project: "ENG", Type: "bug", Title: "b"})
	if r := call(t, hs, testToken, "POST", "/api/items/HELP-1/links", `{"type":"parent","target":`+strconv.FormatInt(b.ID, 10)+`}`); r.status != 201 {
		t.Fatalf("add: %d %s", r.status, r.body)
	}
	if r := call(t, hs, testToken, "POST", "/api/items/HELP-1/links", `{"type":"parent","target":"ENG-1"}`); r.status != 200 {
		t.Fatalf("repeat add: %d %s", r.status, r.body)
	}
	var links struct{ Links []Link }
	call(t, hs, testToken, "GET", "/api/items/ENG-1/links", nil).decode(t, &links)
	if len(links.Links) != 1 || links.Links[0].Type != "child" || links.Links[0].Target.Key != "HELP-1" {
		t.Fatalf("links %+v", links)
	}
	if r := call(t, hs, testToken, "DELETE", "/api/items/ENG-1/links?type=child&target=HELP-1", nil); r.status != 204 {
		t.Fatalf("delete: %d %s", r.status, r.body)
	}
	if r := call(t, hs, testToken, "POST", "/api/items/HELP-1/remotelinks", `{"globalId":"g","url":"https://a.example","title":"A"}`); r.status != 201 {
		t.Fatalf("remote: %d %s", r.status, r.body)
	}
	if r := call(t, hs, testToken, "POST", "/api/items/HELP-1/remotelinks", `{"globalId":"g","url":"https://a.example","title":"B"}`); r.status != 200 {
		t.Fatalf("remote upsert: %d %s", r.status, r.body)
	}
	var rls struct{ RemoteLinks []RemoteLink }
	call(t, hs, testToken, "GET", "/api/items/HELP-1/remotelinks", nil).decode(t, &rls)
	if len(rls.RemoteLinks) != 1 || rls.RemoteLinks[0].Title != "B" {
		t.Fatalf("remote links %+v", rls)
	}
	if r := call(t, hs, testToken, "DELETE", "/api/items/HELP-1/remotelinks/"+strconv.FormatInt(rls.RemoteLinks[0].ID, 10), nil); r.status != 204 {
		t.Fatalf("remote delete: %d", r.status)
	}
}

func TestSchemaAPI(t *testing.T) {
	_, hs := newTest(t, Options{})
	var sc Schema
	call(t, hs, testToken, "GET", "/api/projects/ENG/schema", nil).decode(t, &sc)
	if sc.Project != "ENG" || len(sc.Types) != 3 || len(sc.LinkTypes) != len(LinkTypes) || len(sc.Users) != 4 {
		t.Fatalf("schema %+v", sc)
	}
	var custom []string
	for _, f := range sc.Fields {
		if f.Custom {
			custom = append(custom, f.Name+":"+f.Type)
		}
	}
	if strings.Join(custom, ",") != "component:enum,story_points:number,regression:bool" {
		t.Fatalf("custom fields %v", custom)
	}
	if r := call(t, hs, testToken, "GET", "/api/projects/NOPE/schema", nil); r.status != 404 {
		t.Fatalf("unknown project: %d", r.status)
	}
	r := call(t, hs, testToken, "POST", "/api/projects", `{"key":"OPS","name":"Operations","types":["task"]}`)
	if r.status != 201 {
		t.Fatalf("create project: %d %s", r.status, r.body)
	}
	if r := call(t, hs, testToken, "POST", "/api/projects", `{"key":"OPS","name":"Again"}`); r.status != 409 {
		t.Fatalf("duplicate project: %d", r.status)
	}
	var me struct {
		ID       string
		ReadOnly bool
	}
	call(t, hs, "read-only-token", "GET", "/api/myself", nil).decode(t, &me)
	if me.ID != "bob" || !me.ReadOnly {
		t.Fatalf("myself %+v", me)
	}
}
