package sandbox

import (
	"slices"
	"time"
)

// The sandbox's vocabulary is a small issue tracker's: projects hold items of
// a few types; items carry fixed fields plus per-project custom fields, and
// have comments, attachments, typed links to other items and remote links
// (URLs, with a globalId that makes them upsertable and searchable).

// Item types every project may use unless it narrows the list.
var DefaultTypes = []string{"bug", "task", "incident", "story"}

// DefaultStatuses is the workflow of a project that names none. The first
// status is what a new item starts in.
var DefaultStatuses = []string{"open", "in_progress", "resolved", "closed"}

// Priorities, lowest first. New items are "medium".
var Priorities = []string{"low", "medium", "high", "critical"}

// DefaultPriority is what a new item gets when it names none.
const DefaultPriority = "medium"

// LinkTypes are the typed relations between items. Each has an inverse
// (relates is its own): a link stored once reads as "A blocks B" from A and
// "B blocked_by A" from B.
var LinkTypes = []string{"relates", "blocks", "blocked_by", "duplicates", "duplicated_by", "parent", "child"}

var inverseLink = map[string]string{
	"relates": "relates", "blocks": "blocked_by", "blocked_by": "blocks",
	"duplicates": "duplicated_by", "duplicated_by": "duplicates",
	// "A parent B" reads "B is A's parent"; B then has "child A".
	"parent": "child", "child": "parent",
}

// Custom field types.
const (
	FieldString = "string"
	FieldNumber = "number"
	FieldBool   = "bool"
	FieldEnum   = "enum" // a string from Values
)

// User is a person of the sandbox.
type User struct {
	ID    string `json:"id"`
	Name  string `json:"name"`
	Email string `json:"email,omitempty"`
}

// FieldDef declares a custom field of a project.
type FieldDef struct {
	Name   string   `json:"name"`
	Label  string   `json:"label,omitempty"`
	Type   string   `json:"type"`
	Values []string `json:"values,omitempty"` // allowed values of an enum
}

// Project is a container of items with its own key sequence, types,
// workflow and custom fields.
type Project struct {
	Key          string     `json:"key"`
	Name         string     `json:"name"`
	Types        []string   `json:"types"`
	Statuses     []string   `json:"statuses"`
	CustomFields []FieldDef `json:"customFields"`
}

// Item is one work item as the API returns it.
type Item struct {
	ID           int64          `json:"id"`
	Key          string         `json:"key"`
	Project      string         `json:"project"`
	Type         string         `json:"type"`
	Title        string         `json:"title"`
	Description  string         `json:"description"`
	Status       string         `json:"status"`
	Priority     string         `json:"priority"`
	Assignee     string         `json:"assignee"` // user id; "" is unassigned
	Labels       []string       `json:"labels"`
	DueDate      string         `json:"dueDate"` // YYYY-MM-DD; "" is none
	CustomFields map[string]any `json:"customFields"`
	Created      time.Time      `json:"created"`
	Updated      time.Time      `json:"updated"`
	Version      int64          `json:"version"`
	// RemoteLinks are included only when asked for (expand=remoteLinks).
	RemoteLinks []RemoteLink `json:"remoteLinks,omitempty"`
}

// Tombstone is a deleted item, as lists of changes report it.
type Tombstone struct {
	ID      int64     `json:"id"`
	Key     string    `json:"key"`
	Deleted time.Time `json:"deleted"`
}

// Comment on an item. Body is Markdown.
type Comment struct {
	ID      int64     `json:"id"`
	Item    int64     `json:"item"`
	Author  string    `json:"author"` // user id
	Body    string    `json:"body"`
	Created time.Time `json:"created"`
	Updated time.Time `json:"updated"`
	// ItemVersion is the item's version the write that answers with the
	// comment left (every change moves it by one, so the write moved it
	// from the one before): a client that knew that one knows no one else
	// changed the item in between. Only in the answer to a write that
	// changed something.
	ItemVersion int64 `json:"itemVersion,omitempty"`
}

// Attachment metadata; the content is fetched separately.
type Attachment struct {
	ID          int64     `json:"id"`
	Item        int64     `json:"item"`
	Name        string    `json:"name"`
	Size        int64     `json:"size"`
	ContentType string    `json:"contentType"`
	Author      string    `json:"author"`
	Created     time.Time `json:"created"`
}

// ItemRef names an item in link answers and webhook deliveries.
type ItemRef struct {
	ID      int64  `json:"id"`
	Key     string `json:"key"`
	Project string `json:"project,omitempty"`
}

// Link is a typed relation as seen from one of its two items.
type Link struct {
	ID     int64   `json:"id"`
	Type   string  `json:"type"`
	Target ItemRef `json:"target"`
}

// RemoteLink points from an item to anything with a URL. GlobalID is unique
// per item: posting the same globalId again updates the link (as Jira's
// remote links do), and items can be searched by it, which makes it the
// place to store a peer key.
type RemoteLink struct {
	ID           int64     `json:"id"`
	GlobalID     string    `json:"globalId,omitempty"`
	URL          string    `json:"url"`
	Title        string    `json:"title"`
	Relationship string    `json:"relationship,omitempty"`
	Created      time.Time `json:"created"`
}

// Webhook is a subscription to a project's item events. Secret is never
// returned by the API.
type Webhook struct {
	ID      int64     `json:"id"`
	URL     string    `json:"url"`
	Secret  string    `json:"secret,omitempty"`
	Project string    `json:"project"`
	Created time.Time `json:"created"`
}

// NewItem is what creating an item takes. Zero values take defaults: the
// project's first status, medium priority. RemoteLinks are created in the
// same step, so an item and its peer marker appear atomically.
type NewItem struct {
	Project      string         `json:"project"`
	Type         string         `json:"type"`
	Title        string         `json:"title"`
	Description  string         `json:"description"`
	Status       string         `json:"status"`
	Priority     string         `json:"priority"`
	Assignee     string         `json:"assignee"`
	Labels       []string       `json:"labels"`
	DueDate      string         `json:"dueDate"`
	CustomFields map[string]any `json:"customFields"`
	RemoteLinks  []RemoteLink   `json:"remoteLinks"`
}

// Patch changes some fields of an item; nil pointers leave a field alone.
// CustomFields merges: a nil value removes that field.
type Patch struct {
	Type         *string
	Title        *string
	Description  *string
	Status       *string
	Priority     *string
	Assignee     *string
	Labels       *[]string
	DueDate      *string
	CustomFields map[string]any
}

// Token is an API credential. ReadOnly tokens get 403 on every write.
type Token struct {
	Value    string `json:"value"`
	User     string `json:"user"`
	ReadOnly bool   `json:"readOnly,omitempty"`
}

func (p Project) clone() Project {
	p.Types = slices.Clone(p.Types)
	p.Statuses = slices.Clone(p.Statuses)
	p.CustomFields = slices.Clone(p.CustomFields)
	for i := range p.CustomFields {
		p.CustomFields[i].Values = slices.Clone(p.CustomFields[i].Values)
	}
	return p
}

func (it Item) clone() Item {
	it.Labels = slices.Clone(it.Labels)
	if it.Labels == nil {
		it.Labels = []string{}
	}
	cf := make(map[string]any, len(it.CustomFields))
	for k, v := range it.CustomFields {
		cf[k] = v
	}
	it.CustomFields = cf
	return it
}

// DemoUsers and DemoProjects are what the demo seeds: a helpdesk that files
// incidents and an engineering team that fixes bugs.
func DemoUsers() []User {
	return []User{
		{ID: "alice", Name: "Alice Admin", Email: "alice@example.test"},
		{ID: "bob", Name: "Bob Builder", Email: "bob@example.test"},
		{ID: "carol", Name: "Carol Support", Email: "carol@example.test"},
		{ID: "dave", Name: "Dave Developer", Email: "dave@example.test"},
	}
}

// DemoProjects returns HELP (Helpdesk, incidents) and ENG (Engineering, bugs).
func DemoProjects() []Project {
	return []Project{
		{Key: "HELP", Name: "Helpdesk", Types: []string{"incident", "task"},
			CustomFields: []FieldDef{
				{Name: "customer", Label: "Customer", Type: FieldString},
				{Name: "impact", Label: "Impact", Type: FieldEnum, Values: []string{"single_user", "team", "company"}},
				{Name: "sla_breached", Label: "SLA breached", Type: FieldBool},
			}},
		{Key: "ENG", Name: "Engineering", Types: []string{"bug", "story", "task"},
			CustomFields: []FieldDef{
				{Name: "component", Label: "Component", Type: FieldEnum, Values: []string{"api", "ui", "database", "infra"}},
				{Name: "story_points", Label: "Story points", Type: FieldNumber},
				{Name: "regression", Label: "Regression", Type: FieldBool},
			}},
	}
}
