package jira

import (
	"encoding/json"
	"time"
)

// Jira's JSON, as this connector reads it.

// jiraTime is Jira's timestamp format.
const jiraTime = "2006-01-02T15:04:05.000-0700"

func parseTime(s string) time.Time {
	for _, layout := range []string{jiraTime, time.RFC3339Nano, "2006-01-02T15:04:05-0700"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t
		}
	}
	return time.Time{}
}

type wireUser struct {
	AccountID    string `json:"accountId"`
	Name         string `json:"name"`
	Key          string `json:"key"`
	DisplayName  string `json:"displayName"`
	EmailAddress string `json:"emailAddress"`
	TimeZone     string `json:"timeZone"`
	Active       bool   `json:"active"`
}

type wireIssue struct {
	ID     string                     `json:"id"`
	Key    string                     `json:"key"`
	Fields map[string]json.RawMessage `json:"fields"`
}

type wireNamed struct {
	ID    string `json:"id"`
	Name  string `json:"name"`
	Value string `json:"value"`
	Key   string `json:"key"`
}

type wireSchemaType struct {
	Type     string `json:"type"`
	Items    string `json:"items"`
	Custom   string `json:"custom"`
	CustomID int64  `json:"customId"`
	System   string `json:"system"`
}

type wireField struct {
	ID     string         `json:"id"`
	Name   string         `json:"name"`
	Custom bool           `json:"custom"`
	Schema wireSchemaType `json:"schema"`
}

type wireCreateMetaField struct {
	FieldID       string         `json:"fieldId"`
	Key           string         `json:"key"`
	Name          string         `json:"name"`
	Required      bool           `json:"required"`
	Schema        wireSchemaType `json:"schema"`
	AllowedValues []wireNamed    `json:"allowedValues"`
}

// wireMetaPage is a createmeta page: Cloud names its list issueTypes or
// fields, Server calls it values.
type wireMetaPage[T any] struct {
	IssueTypes []T   `json:"issueTypes"`
	Fields     []T   `json:"fields"`
	Results    []T   `json:"results"`
	Values     []T   `json:"values"`
	StartAt    int   `json:"startAt"`
	MaxResults int   `json:"maxResults"`
	Total      int   `json:"total"`
	IsLast     *bool `json:"isLast"`
}

func (p wireMetaPage[T]) items() []T {
	switch {
	case len(p.IssueTypes) > 0:
		return p.IssueTypes
	case len(p.Fields) > 0:
		return p.Fields
	case len(p.Results) > 0:
		return p.Results
	}
	return p.Values
}

// last reports whether the page is the last one.
func (p wireMetaPage[T]) last() bool {
	if p.IsLast != nil {
		return *p.IsLast
	}
	return p.StartAt+len(p.items()) >= p.Total || len(p.items()) == 0
}

type wireProject struct {
	ID         string      `json:"id"`
	Key        string      `json:"key"`
	Name       string      `json:"name"`
	IssueTypes []wireNamed `json:"issueTypes"`
}

type wireLinkType struct {
	ID      string `json:"id"`
	Name    string `json:"name"`
	Inward  string `json:"inward"`
	Outward string `json:"outward"`
}

type wireIssueLink struct {
	ID           string       `json:"id"`
	Type         wireLinkType `json:"type"`
	InwardIssue  *wireIssue   `json:"inwardIssue"`
	OutwardIssue *wireIssue   `json:"outwardIssue"`
}

type wireRemoteLink struct {
	ID           int64  `json:"id"`
	GlobalID     string `json:"globalId"`
	Relationship string `json:"relationship"`
	Object       struct {
		URL   string `json:"url"`
		Title string `json:"title"`
	} `json:"object"`
}

type wireComment struct {
	ID         string          `json:"id"`
	Author     *wireUser       `json:"author"`
	Body       json.RawMessage `json:"body"`
	Created    string          `json:"created"`
	Properties []struct {
		Key   string          `json:"key"`
		Value json.RawMessage `json:"value"`
	} `json:"properties"`
}

type wireCommentPage struct {
	StartAt    int           `json:"startAt"`
	MaxResults int           `json:"maxResults"`
	Total      int           `json:"total"`
	Comments   []wireComment `json:"comments"`
}

type wireAttachment struct {
	ID       string `json:"id"`
	Filename string `json:"filename"`
	Size     int64  `json:"size"`
	MimeType string `json:"mimeType"`
	Created  string `json:"created"`
	Content  string `json:"content"`
}

type wireTransition struct {
	ID   string    `json:"id"`
	Name string    `json:"name"`
	To   wireNamed `json:"to"`
}
