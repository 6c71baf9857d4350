package sandboxconn

import "time"

// The sandbox's JSON, as this connector reads it. Declared here rather than
// borrowed from the server package, so the connector depends on the API
// alone, as connectors for other systems must.

type wireItem struct {
	ID           int64            `json:"id"`
	Key          string           `json:"key"`
	Project      string           `json:"project"`
	Type         string           `json:"type"`
	Title        string           `json:"title"`
	Description  string           `json:"description"`
	Status       string           `json:"status"`
	Priority     string           `json:"priority"`
	Assignee     string           `json:"assignee"`
	Labels       []string         `json:"labels"`
	DueDate      string           `json:"dueDate"`
	CustomFields map[string]any   `json:"customFields"`
	Created      time.Time        `json:"created"`
	Updated      time.Time        `json:"updated"`
	Version      int64            `json:"version"`
	RemoteLinks  []wireRemoteLink `json:"remoteLinks"`
}

type wireItemPage struct {
	Items      []wireItem      `json:"items"`
	Deleted    []wireTombstone `json:"deleted"`
	NextCursor string          `json:"nextCursor"`
}

type wireTombstone struct {
	ID  int64  `json:"id"`
	Key string `json:"key"`
}

type wireUser struct {
	ID    string `json:"id"`
	Name  string `json:"name"`
	Email string `json:"email"`
}

type wireField struct {
	Name     string   `json:"name"`
	Label    string   `json:"label"`
	Type     string   `json:"type"`
	Values   []string `json:"values"`
	Required bool     `json:"required"`
	ReadOnly bool     `json:"readOnly"`
	Custom   bool     `json:"custom"`
}

type wireSchema struct {
	Project   string      `json:"project"`
	Types     []string    `json:"types"`
	Fields    []wireField `json:"fields"`
	LinkTypes []string    `json:"linkTypes"`
	Users     []wireUser  `json:"users"`
}

type wireComment struct {
	ID          int64     `json:"id"`
	Author      string    `json:"author"`
	Body        string    `json:"body"`
	Created     time.Time `json:"created"`
	Updated     time.Time `json:"updated"`
	ItemVersion int64     `json:"itemVersion"` // in a write's answer: the version it left
}

type wireCommentPage struct {
	Comments   []wireComment `json:"comments"`
	NextCursor string        `json:"nextCursor"`
}

type wireAttachment struct {
	ID          int64     `json:"id"`
	Name        string    `json:"name"`
	Size        int64     `json:"size"`
	ContentType string    `json:"contentType"`
	Created     time.Time `json:"created"`
}

type wireLink struct {
	ID     int64  `json:"id"`
	Type   string `json:"type"`
	Target struct {
		ID  int64  `json:"id"`
		Key string `json:"key"`
	} `json:"target"`
}

type wireRemoteLink struct {
	ID           int64  `json:"id,omitempty"`
	GlobalID     string `json:"globalId,omitempty"`
	URL          string `json:"url,omitempty"`
	Title        string `json:"title,omitempty"`
	Relationship string `json:"relationship,omitempty"`
}

type wireMyself struct {
	wireUser
	ReadOnly bool `json:"readOnly"`
}

type wireProject struct {
	Key  string `json:"key"`
	Name string `json:"name"`
}

type wireWebhook struct {
	ID int64 `json:"id"`
}

type wireDelivery struct {
	Event string `json:"event"`
	Item  struct {
		ID      int64  `json:"id"`
		Key     string `json:"key"`
		Project string `json:"project"`
	} `json:"item"`
}
