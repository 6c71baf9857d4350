package httpx

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/lockstep-sync/lockstep/agent/internal/connector"
	"github.com/lockstep-sync/lockstep/agent/internal/secret"
)

// Bounds on what an error quotes from a response body.
const (
	snippetLen = 512
	messageLen = 300
	errorRead  = 8 << 10
	drainLimit = 64 << 10
)

// StatusError is a response the system refused. It unwraps to the
// connector error its status means, so callers test errors.Is(err,
// connector.ErrConflict) and still find the detail with errors.As.
type StatusError struct {
	Method     string
	Path       string // without query values
	Status     int
	Message    string        // the server's own message, if its body had one
	Body       string        // the start of the body, scrubbed of secrets and of the values sent
	RequestID  string        // our X-Request-Id
	RetryAfter time.Duration // what the server asked for, if it did
	Attempts   int
	Kind       error // a connector.Err* sentinel
}

func (e *StatusError) Error() string {
	msg := fmt.Sprintf("%s %s: HTTP %d %s", e.Method, e.Path, e.Status, http.StatusText(e.Status))
	if e.Message != "" {
		msg += ": " + e.Message
	}
	if e.Attempts > 1 {
		msg += fmt.Sprintf(" (after %d attempts)", e.Attempts)
	}
	return msg
}

// Unwrap returns the connector sentinel.
func (e *StatusError) Unwrap() error { return e.Kind }

// kindOf maps a status to a connector error.
func kindOf(status int, h http.Header) error {
	switch {
	case status == http.StatusTooManyRequests:
		return connector.ErrRateLimited
	case status == http.StatusUnauthorized:
		return connector.ErrUnauthorized
	case status == http.StatusForbidden:
		// GitHub answers a spent quota with 403 and rate-limit headers.
		if h.Get("Retry-After") != "" || h.Get("X-RateLimit-Remaining") == "0" {
			return connector.ErrRateLimited
		}
		return connector.ErrForbidden
	case status == http.StatusNotFound || status == http.StatusGone:
		return connector.ErrNotFound
	case status == http.StatusConflict || status == http.StatusPreconditionFailed:
		return connector.ErrConflict
	case status >= 500:
		return connector.ErrUnavailable
	default:
		return connector.ErrInvalid // 400, 422, 413 and the other 4xx
	}
}

// newStatusError reads a bounded part of the body for the error, drains a
// little more so the connection can be reused, and closes it.
func newStatusError(method, path, id string, resp *http.Response, scrub func(string) string) *StatusError {
	head, _ := io.ReadAll(io.LimitReader(resp.Body, errorRead))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, drainLimit))
	resp.Body.Close()
	return &StatusError{
		Method: method, Path: path, Status: resp.StatusCode, RequestID: id,
		// Scrubbed before it is cut: a secret or value cut in two would
		// no longer be found.
		Message: truncate(scrub(serverMessage(head)), messageLen),
		Body:    truncate(scrub(printable(head)), snippetLen),
		Kind:    kindOf(resp.StatusCode, resp.Header),
	}
}

// serverMessage finds the human message in the common error shapes:
// {"error":{"message","field"}} (the sandbox, ServiceNow), {"error":"..."}
// with an OAuth "error_description", {"message":"..."} (GitHub, GitLab,
// Azure DevOps) with GitHub's "errors":[{"field","code","message"}] details
// of a 422, or GitLab's {"message":{"<field>":["..."]}}, and
// {"errorMessages":[...], "errors":{...}} (Jira).
func serverMessage(body []byte) string {
	var v struct {
		Error         json.RawMessage `json:"error"`
		Description   string          `json:"error_description"`
		Message       any             `json:"message"`
		ErrorMessages []string        `json:"errorMessages"`
		Errors        json.RawMessage `json:"errors"`
	}
	if json.Unmarshal(body, &v) != nil {
		return ""
	}
	var byField map[string]string
	_ = json.Unmarshal(v.Errors, &byField)
	var nested struct {
		Message string `json:"message"`
		Detail  string `json:"detail"`
		Field   string `json:"field"`
	}
	var flat string
	switch {
	case json.Unmarshal(v.Error, &nested) == nil && nested.Message != "":
		msg := nested.Message
		if nested.Field != "" {
			msg = nested.Field + ": " + msg
		}
		if nested.Detail != "" {
			msg += " (" + nested.Detail + ")"
		}
		return msg
	case json.Unmarshal(v.Error, &flat) == nil && flat != "":
		if v.Description != "" {
			return flat + ": " + v.Description
		}
		return flat
	case v.Message != nil:
		msg := messageText(v.Message)
		if d := details(v.Errors); d != "" {
			msg += " (" + d + ")"
		}
		return msg
	case len(v.ErrorMessages) > 0 || len(byField) > 0:
		parts := append([]string(nil), v.ErrorMessages...)
		for k, m := range byField {
			parts = append(parts, k+": "+m)
		}
		return strings.Join(parts, "; ")
	}
	return ""
}

// details reads GitHub's list of what a 422 refused: each entry's message,
// or its field and code ("title: missing_field").
func details(raw json.RawMessage) string {
	var list []struct {
		Field   string `json:"field"`
		Code    string `json:"code"`
		Message string `json:"message"`
	}
	if json.Unmarshal(raw, &list) != nil {
		return ""
	}
	var parts []string
	for _, d := range list {
		switch {
		case d.Message != "" && d.Field != "" && !strings.Contains(d.Message, d.Field):
			parts = append(parts, d.Field+": "+d.Message)
		case d.Message != "":
			parts = append(parts, d.Message)
		case d.Field != "" || d.Code != "":
			parts = append(parts, strings.TrimPrefix(d.Field+": "+d.Code, ": "))
		}
	}
	return strings.Join(parts, "; ")
}

// messageText spells a decoded "message" value: text as is, a list joined,
// an object as "key: value" pairs in key order (GitLab's validation errors,
// {"title":["is too long"]}).
func messageText(m any) string {
	switch x := m.(type) {
	case string:
		return x
	case []any:
		parts := make([]string, 0, len(x))
		for _, e := range x {
			parts = append(parts, messageText(e))
		}
		return strings.Join(parts, ", ")
	case map[string]any:
		keys := slices.Sorted(maps.Keys(x))
		parts := make([]string, 0, len(keys))
		for _, k := range keys {
			parts = append(parts, k+": "+messageText(x[k]))
		}
		return strings.Join(parts, "; ")
	}
	return fmt.Sprint(m)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

// printable keeps a body snippet to one readable line.
func printable(b []byte) string {
	if !utf8.Valid(b) {
		return fmt.Sprintf("[%d bytes of binary]", len(b))
	}
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, string(b))
}

// scrubber removes credentials from text a server sent back: the values
// of the headers Auth set (whole, after a scheme word, and a basic
// password), and the extra Secrets.
func (c *Client) scrubber(authValues []string) func(string) string {
	var words []string
	add := func(w string) {
		if w != "" {
			words = append(words, w)
		}
	}
	for _, v := range authValues {
		add(v)
		if scheme, rest, ok := strings.Cut(v, " "); ok {
			add(rest)
			if strings.EqualFold(scheme, "Basic") {
				if raw, err := base64.StdEncoding.DecodeString(rest); err == nil {
					if _, pw, ok := strings.Cut(string(raw), ":"); ok {
						add(pw)
					}
				}
			}
		}
	}
	for _, s := range c.o.Secrets {
		add(s.Reveal())
	}
	// Whole occurrences only: a short credential must not garble the
	// server's message or show which letters it holds.
	return func(text string) string { return secret.Scrub(text, words...) }
}
