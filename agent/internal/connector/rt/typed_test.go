package rt

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lockstep-sync/lockstep/agent/internal/connector"
	"github.com/lockstep-sync/lockstep/agent/internal/connector/contracttest"
	"github.com/lockstep-sync/lockstep/agent/internal/connector/redmine"
	"github.com/lockstep-sync/lockstep/agent/internal/realsys"
	"github.com/lockstep-sync/lockstep/agent/internal/secret"
)

// TestTypedMarkdownFromRedmine: Markdown a person types into the real
// Redmine (which reads it as Textile: plain paragraphs with line breaks
// and a linked URL) is read by the Redmine connector and written by this
// one into the real RT, as a description and as a comment: RT keeps it as
// the readable text that was typed, without a backslash ending each line
// or a link written twice.
func TestTypedMarkdownFromRedmine(t *testing.T) {
	rm := realsys.StartRedmine(t)
	project := rm.NewProject(t)
	e := setup(t)
	typed := "Please follow [the runbook](https://wiki.example.com/runbook).\r\nCall me if it fails:\r\n- on staging\r\n- on production"
	want := "Please follow [the runbook](https://wiki.example.com/runbook).  \nCall me if it fails:  \n- on staging  \n- on production"
	var issue struct {
		Issue struct {
			ID int64 `json:"id"`
		} `json:"issue"`
	}
	rm.Call(t, http.MethodPost, "/issues.json", map[string]any{"issue": map[string]any{"project_id": project, "subject": "Runbook", "description": typed}}, &issue)
	id := strconv.FormatInt(issue.Issue.ID, 10)
	rm.Call(t, http.MethodPut, "/issues/"+id+".json", map[string]any{"issue": map[string]any{"notes": typed}}, nil)
	rc := contracttest.Open(t, redmine.Open, connector.Config{ID: contracttest.SystemID(t) + "-redmine", Name: "Redmine", Kind: redmine.Kind, URL: rm.URL,
		Settings: map[string]any{"project": project, "textFormatting": redmine.Textile},
		Secrets:  map[string]secret.Secret{"apiKey": secret.New(rm.APIKey)}}, connector.Env{})
	src, err := rc.Get(ctx(t), connector.Ref{ID: id})
	if err != nil {
		t.Fatal(err)
	}
	notes, err := rc.Comments(ctx(t), src.Ref)
	if err != nil || len(notes) != 1 {
		t.Fatalf("notes %+v, %v", notes, err)
	}

	c := e.open(t)
	tk := create(t, c, connector.Fields{"description": src.Fields["description"]})
	added, err := c.AddComment(ctx(t), tk.Ref, connector.NewComment{Body: notes[0].Body})
	if err != nil {
		t.Fatal(err)
	}
	txns := map[string]string{"description": createTxn(t, e, tk.ID), "comment": added.ID}
	for what, txn := range txns {
		if got := strings.ReplaceAll(plainOf(t, e, txn), "\r\n", "\n"); got != want {
			t.Errorf("RT keeps the %s as\n%q\nwant\n%q", what, got, want)
		}
	}
	if got := tk.Fields["description"]; got != want {
		t.Errorf("the description reads back as %q", got)
	}
}

// createTxn is the id of a ticket's Create transaction. A busy RT may
// list it a moment after the ticket is answered for: the search is
// repeated for a while.
func createTxn(t *testing.T, e env, id string) string {
	t.Helper()
	var page struct {
		Items []struct {
			ID json.Number `json:"id"`
		} `json:"items"`
	}
	q := url.Values{"query": {"ObjectType = 'RT::Ticket' AND ObjectId = " + id + " AND Type = 'Create'"}}
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		if err := e.rt.Do(t, "GET", "/transactions?"+q.Encode(), nil, &page); err != nil {
			t.Fatal(err)
		}
		if len(page.Items) > 0 {
			return page.Items[0].ID.String()
		}
		if time.Now().After(deadline) {
			t.Fatalf("ticket %s has no Create transaction", id)
		}
	}
}

// plainOf is the text/plain content RT keeps for a transaction, the
// marker line Lockstep adds to comments left out.
func plainOf(t *testing.T, e env, txn string) string {
	t.Helper()
	var page struct {
		Items []struct {
			ContentType string `json:"ContentType"`
			Content     string `json:"Content"`
		} `json:"items"`
	}
	if err := e.rt.Do(t, "GET", "/transaction/"+txn+"/attachments?fields=ContentType,Content&per_page=100", nil, &page); err != nil {
		t.Fatal(err)
	}
	for _, a := range page.Items {
		if a.ContentType == "text/plain" {
			b, err := base64.StdEncoding.DecodeString(a.Content)
			if err != nil {
				b = []byte(a.Content)
			}
			s := string(b)
			if i := strings.Index(s, "\n\n<!-- lockstep"); i >= 0 {
				s = s[:i]
			}
			return strings.TrimRight(s, "\n")
		}
	}
	t.Fatalf("transaction %s has no text/plain part: %+v", txn, page.Items)
	return ""
}
