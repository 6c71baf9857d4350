package redmine

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/lockstep-sync/lockstep/agent/internal/connector"
	"github.com/lockstep-sync/lockstep/agent/internal/connector/httpx"
)

// Redmine's JSON, as this connector reads it.

type wireRef struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
}

// wireCustomValue is one custom field value on an issue: Value is a
// string, a list of strings (multiple), or null.
type wireCustomValue struct {
	ID       int64  `json:"id"`
	Name     string `json:"name"`
	Multiple bool   `json:"multiple,omitempty"`
	Value    any    `json:"value"`
}

type wireAttachment struct {
	ID          int64     `json:"id"`
	Filename    string    `json:"filename"`
	Filesize    int64     `json:"filesize"`
	ContentType string    `json:"content_type"`
	Description string    `json:"description"`
	ContentURL  string    `json:"content_url"`
	Author      *wireRef  `json:"author"`
	CreatedOn   time.Time `json:"created_on"`
}

type wireRelation struct {
	ID           int64  `json:"id"`
	IssueID      int64  `json:"issue_id"`
	IssueToID    int64  `json:"issue_to_id"`
	RelationType string `json:"relation_type"`
	Delay        *int64 `json:"delay"`
}

type wireJournal struct {
	ID           int64     `json:"id"`
	User         *wireRef  `json:"user"`
	Notes        string    `json:"notes"`
	PrivateNotes bool      `json:"private_notes"`
	CreatedOn    time.Time `json:"created_on"`
}

// wireIssue is an issue as GET /issues/:id.json and /issues.json return it.
// Journals are kept apart (see issueCore) because the list never has them.
type wireIssue struct {
	ID             int64               `json:"id"`
	Project        *wireRef            `json:"project"`
	Tracker        *wireRef            `json:"tracker"`
	Status         *wireRef            `json:"status"`
	Priority       *wireRef            `json:"priority"`
	Author         *wireRef            `json:"author"`
	AssignedTo     *wireRef            `json:"assigned_to"`
	Category       *wireRef            `json:"category"`
	FixedVersion   *wireRef            `json:"fixed_version"`
	Parent         *struct{ ID int64 } `json:"parent"`
	Subject        string              `json:"subject"`
	Description    *string             `json:"description"`
	StartDate      *string             `json:"start_date"`
	DueDate        *string             `json:"due_date"`
	DoneRatio      *float64            `json:"done_ratio"`
	IsPrivate      bool                `json:"is_private"`
	EstimatedHours *float64            `json:"estimated_hours"`
	CustomFields   []wireCustomValue   `json:"custom_fields"`
	CreatedOn      time.Time           `json:"created_on"`
	UpdatedOn      time.Time           `json:"updated_on"`
	ClosedOn       *time.Time          `json:"closed_on"`
	Attachments    []wireAttachment    `json:"attachments"`
	Relations      []wireRelation      `json:"relations"`
	Journals       []wireJournal       `json:"journals,omitempty"`
}

type wireIssueList struct {
	Issues     []wireIssue `json:"issues"`
	TotalCount int         `json:"total_count"`
	Offset     int         `json:"offset"`
	Limit      int         `json:"limit"`
}

// decodeIssue reads the body of GET /issues/:id.json or POST /issues.json.
// It checks what the rest of the connector relies on, so a proxy's error
// page or a truncated answer is an error, not an empty issue.
func decodeIssue(data []byte) (wireIssue, error) {
	var out struct {
		Issue *wireIssue `json:"issue"`
	}
	if err := json.Unmarshal(data, &out); err != nil {
		return wireIssue{}, fmt.Errorf("decode redmine issue: %w", err)
	}
	if out.Issue == nil || out.Issue.ID <= 0 {
		return wireIssue{}, errors.New("decode redmine issue: no issue with an id in the answer")
	}
	return *out.Issue, nil
}

// decodeIssueList reads a page of GET /issues.json.
func decodeIssueList(data []byte) (wireIssueList, error) {
	var out wireIssueList
	if err := json.Unmarshal(data, &out); err != nil {
		return wireIssueList{}, fmt.Errorf("decode redmine issue list: %w", err)
	}
	for _, is := range out.Issues {
		if is.ID <= 0 {
			return wireIssueList{}, errors.New("decode redmine issue list: an issue without an id")
		}
	}
	if out.TotalCount < 0 || out.Offset < 0 {
		return wireIssueList{}, errors.New("decode redmine issue list: negative total_count or offset")
	}
	return out, nil
}

type wireUpload struct {
	Upload struct {
		ID    int64  `json:"id"`
		Token string `json:"token"`
	} `json:"upload"`
}

type wireUser struct {
	ID        int64  `json:"id"`
	Login     string `json:"login"`
	Firstname string `json:"firstname"`
	Lastname  string `json:"lastname"`
	Mail      string `json:"mail"`
	Admin     bool   `json:"admin"`
}

type wireMembership struct {
	User  *wireRef `json:"user"`
	Group *wireRef `json:"group"`
}

type wireCustomField struct {
	ID             int64  `json:"id"`
	Name           string `json:"name"`
	CustomizedType string `json:"customized_type"`
	FieldFormat    string `json:"field_format"`
	IsRequired     bool   `json:"is_required"`
	Multiple       bool   `json:"multiple"`
	PossibleValues []struct {
		Value string `json:"value"`
		Label string `json:"label"`
	} `json:"possible_values"`
	Trackers []wireRef `json:"trackers"`
}

type wireProject struct {
	ID              int64     `json:"id"`
	Name            string    `json:"name"`
	Identifier      string    `json:"identifier"`
	Trackers        []wireRef `json:"trackers"`
	IssueCategories []wireRef `json:"issue_categories"`
}

type wireVersion struct {
	ID     int64  `json:"id"`
	Name   string `json:"name"`
	Status string `json:"status"`
}

type wireStatus struct {
	ID       int64  `json:"id"`
	Name     string `json:"name"`
	IsClosed bool   `json:"is_closed"`
}

type wirePriority struct {
	ID        int64  `json:"id"`
	Name      string `json:"name"`
	IsDefault bool   `json:"is_default"`
	Active    *bool  `json:"active"`
}

// redmineErr turns a refusal into an error that says what Redmine said.
// Redmine answers a rejected write with 422 {"errors":["Subject cannot be
// blank", ...]}, a shape the shared layer does not read, so the messages
// are taken from the (already scrubbed) body snippet.
func redmineErr(err error) error {
	var se *httpx.StatusError
	if !errors.As(err, &se) || se.Message != "" {
		return err
	}
	var body struct {
		Errors []string `json:"errors"`
	}
	if json.Unmarshal([]byte(se.Body), &body) != nil || len(body.Errors) == 0 {
		if se.Status == 422 {
			// A stale lock_version is 422 with an empty list; say so.
			return fmt.Errorf("%w (Redmine gave no reason)", err)
		}
		return err
	}
	return fmt.Errorf("%w: %s", err, strings.Join(body.Errors, "; "))
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// issueID reads an issue id from a Ref: its ID, else its key ("#12" or "12").
func issueID(ref connector.Ref) (int64, error) {
	s := ref.ID
	if s == "" {
		s = strings.TrimPrefix(strings.TrimSpace(ref.Key), "#")
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("%q is not a Redmine issue id: %w", s, connector.ErrNotFound)
	}
	return n, nil
}

func refName(ref connector.Ref) string {
	if ref.Key != "" {
		return ref.Key
	}
	return "#" + ref.ID
}
