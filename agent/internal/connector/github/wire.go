package github

import (
	"encoding/json"
	"time"
)

// GitHub's JSON, as this connector reads it.

// timeLayout is how GitHub writes times: UTC, whole seconds
// ("2011-04-22T13:33:48Z").
const timeLayout = "2006-01-02T15:04:05Z"

func parseTime(s string) time.Time {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t
	}
	return time.Time{}
}

type wireUser struct {
	Login string `json:"login"`
	ID    int64  `json:"id"`
	Name  string `json:"name"`
	Email string `json:"email"`
	Type  string `json:"type"`
}

type wireLabel struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
}

type wireMilestone struct {
	Number int    `json:"number"`
	Title  string `json:"title"`
	State  string `json:"state"`
}

type wireIssue struct {
	ID            int64            `json:"id"`
	NodeID        string           `json:"node_id"`
	Number        int              `json:"number"`
	Title         string           `json:"title"`
	Body          *string          `json:"body"`
	State         string           `json:"state"`
	StateReason   *string          `json:"state_reason"`
	Locked        bool             `json:"locked"`
	User          *wireUser        `json:"user"`
	Labels        []wireLabel      `json:"labels"`
	Assignees     []wireUser       `json:"assignees"`
	Milestone     *wireMilestone   `json:"milestone"`
	Comments      int              `json:"comments"`
	CreatedAt     string           `json:"created_at"`
	UpdatedAt     string           `json:"updated_at"`
	ClosedAt      *string          `json:"closed_at"`
	HTMLURL       string           `json:"html_url"`
	RepositoryURL string           `json:"repository_url"`
	PullRequest   *json.RawMessage `json:"pull_request"`
	// Relations, where the API has them: the parent's API URL, and how
	// many sub-issues and dependencies there are (absent on servers
	// without the features).
	ParentIssueURL   *string `json:"parent_issue_url"`
	SubIssuesSummary *struct {
		Total int `json:"total"`
	} `json:"sub_issues_summary"`
	DependenciesSummary *struct {
		BlockedBy int `json:"blocked_by"`
		Blocking  int `json:"blocking"`
	} `json:"issue_dependencies_summary"`
}

type wireComment struct {
	ID        int64     `json:"id"`
	Body      string    `json:"body"`
	User      *wireUser `json:"user"`
	CreatedAt string    `json:"created_at"`
	UpdatedAt string    `json:"updated_at"`
	HTMLURL   string    `json:"html_url"`
	IssueURL  string    `json:"issue_url"`
}

type wireRepo struct {
	ID          int64  `json:"id"`
	Name        string `json:"name"`
	FullName    string `json:"full_name"`
	Private     bool   `json:"private"`
	HasIssues   bool   `json:"has_issues"`
	Archived    bool   `json:"archived"`
	Permissions *struct {
		Admin    bool `json:"admin"`
		Maintain bool `json:"maintain"`
		Push     bool `json:"push"`
		Triage   bool `json:"triage"`
		Pull     bool `json:"pull"`
	} `json:"permissions"`
}

type wireSearch struct {
	TotalCount        int         `json:"total_count"`
	IncompleteResults bool        `json:"incomplete_results"`
	Items             []wireIssue `json:"items"`
}
