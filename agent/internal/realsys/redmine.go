package realsys

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// Call makes one REST call to Redmine as the admin (path like
// "/projects.json"), sends in as JSON when not nil, decodes the answer
// into out when not nil, and returns the status. A transport failure or a
// status of 400 or more fails the test unless the status is listed in ok.
func (r Redmine) Call(t testing.TB, method, path string, in, out any, ok ...int) int {
	t.Helper()
	var body io.Reader
	if in != nil {
		data, err := json.Marshal(in)
		if err != nil {
			t.Fatalf("redmine %s %s: encode: %v", method, path, err)
		}
		body = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, strings.TrimRight(r.URL, "/")+path, body)
	if err != nil {
		t.Fatalf("redmine %s %s: %v", method, path, err)
	}
	req.Header.Set("X-Redmine-API-Key", r.APIKey)
	req.Header.Set("Accept", "application/json")
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	client := &http.Client{Timeout: time.Minute}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("redmine %s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if resp.StatusCode >= 400 {
		for _, s := range ok {
			if s == resp.StatusCode {
				return resp.StatusCode
			}
		}
		t.Fatalf("redmine %s %s: HTTP %d: %.300s", method, path, resp.StatusCode, data)
	}
	if out != nil && len(data) > 0 {
		if err := json.Unmarshal(data, out); err != nil {
			t.Fatalf("redmine %s %s: decode: %v", method, path, err)
		}
	}
	return resp.StatusCode
}

// NewProject creates a project of its own for one test (identifier
// "lockstep-<random>") with every tracker, every issue custom field and the
// issue tracking module, and deletes it when the test ends. Tests sharing
// the server then never see each other's issues.
func (r Redmine) NewProject(t testing.TB) string {
	t.Helper()
	var trackers struct {
		Trackers []struct {
			ID int64 `json:"id"`
		} `json:"trackers"`
	}
	r.Call(t, http.MethodGet, "/trackers.json", nil, &trackers)
	var cfs struct {
		CustomFields []struct {
			ID             int64  `json:"id"`
			CustomizedType string `json:"customized_type"`
		} `json:"custom_fields"`
	}
	r.Call(t, http.MethodGet, "/custom_fields.json", nil, &cfs)
	trackerIDs, cfIDs := []int64{}, []int64{}
	for _, tr := range trackers.Trackers {
		trackerIDs = append(trackerIDs, tr.ID)
	}
	for _, cf := range cfs.CustomFields {
		if cf.CustomizedType == "issue" {
			cfIDs = append(cfIDs, cf.ID)
		}
	}
	id := "lockstep-" + strings.ToLower(rand.Text()[:10])
	r.Call(t, http.MethodPost, "/projects.json", map[string]any{"project": map[string]any{
		"name": id, "identifier": id, "tracker_ids": trackerIDs, "issue_custom_field_ids": cfIDs,
		"enabled_module_names": []string{"issue_tracking"}, "is_public": false,
	}}, nil)
	t.Cleanup(func() {
		// Deleting takes the project's issues with it; a leftover is only
		// clutter, so a failure is logged rather than failing the test.
		if code := r.Call(t, http.MethodDelete, "/projects/"+id+".json", nil, nil, 404, 422, 500); code >= 400 {
			t.Logf("delete redmine project %s: HTTP %d", id, code)
		}
	})
	return id
}

// NewMember creates an active user and makes them a member of project with
// the first role, so issues there can be assigned to them. It returns the
// user's id, login, email and display name.
func (r Redmine) NewMember(t testing.TB, project string) (id int64, login, email, name string) {
	t.Helper()
	suffix := strings.ToLower(rand.Text()[:8])
	login, email = "ls-"+suffix, "ls-"+suffix+"@example.com"
	var u struct {
		User struct {
			ID int64 `json:"id"`
		} `json:"user"`
	}
	r.Call(t, http.MethodPost, "/users.json", map[string]any{"user": map[string]any{
		"login": login, "firstname": "Member", "lastname": suffix, "mail": email, "password": rand.Text(),
	}}, &u)
	var roles struct {
		Roles []struct {
			ID int64 `json:"id"`
		} `json:"roles"`
	}
	r.Call(t, http.MethodGet, "/roles.json", nil, &roles)
	if len(roles.Roles) == 0 {
		t.Fatal("redmine has no roles to give a member")
	}
	r.Call(t, http.MethodPost, "/projects/"+project+"/memberships.json", map[string]any{"membership": map[string]any{
		"user_id": u.User.ID, "role_ids": []int64{roles.Roles[0].ID},
	}}, nil)
	t.Cleanup(func() { r.Call(t, http.MethodDelete, fmt.Sprintf("/users/%d.json", u.User.ID), nil, nil, 404, 422) })
	return u.User.ID, login, email, "Member " + suffix
}
