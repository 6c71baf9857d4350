package gitlab

import (
	"encoding/json"
	"time"
)

// GitLab's JSON, as this connector reads it.

// parseTime reads a REST API timestamp: ISO 8601 with milliseconds, in
// UTC ("Z") or, on a self-managed instance with its own time zone, with
// an offset.
func parseTime(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}
	}
	return t
}

type wireUser struct {
	ID       int64  `json:"id"`
	Username string `json:"username"`
	Name     string `json:"name"`
	Email    string `json:"email"`
	State    string `json:"state"`
	// AccessLevel is set in member lists.
	AccessLevel int `json:"access_level"`
}

type wireProject struct {
	ID                int64  `json:"id"`
	PathWithNamespace string `json:"path_with_namespace"`
	WebURL            string `json:"web_url"`
}

type wireMilestone struct {
	ID    int64  `json:"id"`
	Title string `json:"title"`
	State string `json:"state"`
}

type wireIssue struct {
	ID           int64          `json:"id"`
	IID          int64          `json:"iid"`
	ProjectID    int64          `json:"project_id"`
	Title        string         `json:"title"`
	Description  *string        `json:"description"`
	State        string         `json:"state"`
	IssueType    string         `json:"issue_type"`
	Labels       []string       `json:"labels"`
	Assignees    []wireUser     `json:"assignees"`
	Milestone    *wireMilestone `json:"milestone"`
	DueDate      *string        `json:"due_date"`
	Confidential bool           `json:"confidential"`
	UserNotes    int            `json:"user_notes_count"`
	CreatedAt    string         `json:"created_at"`
	UpdatedAt    string         `json:"updated_at"`
	WebURL       string         `json:"web_url"`
	References   struct {
		Full string `json:"full"`
	} `json:"references"`
	// Weight is absent on GitLab Free, null when unset on Premium: it is
	// read raw to tell the two apart.
	Weight json.RawMessage `json:"weight"`
	// Set in issue link lists.
	IssueLinkID int64  `json:"issue_link_id"`
	LinkType    string `json:"link_type"`
}

type wireNote struct {
	ID        int64    `json:"id"`
	Body      string   `json:"body"`
	Author    wireUser `json:"author"`
	System    bool     `json:"system"`
	CreatedAt string   `json:"created_at"`
	UpdatedAt string   `json:"updated_at"`
}

type wireUpload struct {
	ID       int64  `json:"id"`
	Alt      string `json:"alt"`
	URL      string `json:"url"`
	FullPath string `json:"full_path"`
	Markdown string `json:"markdown"`
}

type wireHook struct {
	ID int64 `json:"id"`
}
