package redmine

import (
	"strings"
	"testing"
	"time"
)

// typedMarkdown is Markdown as a person types it into a Redmine that reads
// Textile (with the CRLF line ends browsers send): Redmine shows it as two
// plain paragraphs with line breaks and the URL linked.
const typedMarkdown = "Please follow [the runbook](https://wiki.example.com/runbook).\r\nCall me if it fails:\r\n- on staging\r\n- on production\r\n\r\nThanks, **Ann**"

// typedRead is what that text must read as: the text as typed, its line
// breaks as Markdown hard breaks that show nothing (two spaces), no
// backslashes and no link written twice. ("**Ann**" is Textile's bold too:
// that paragraph has markup and is converted.)
const typedRead = "Please follow [the runbook](https://wiki.example.com/runbook).  \nCall me if it fails:  \n- on staging  \n- on production\n\nThanks, **Ann**"

// TestTypedMarkdownReadsAsTyped reads an issue and a note holding typed
// Markdown through the connector's read path, as Textile.
func TestTypedMarkdownReadsAsTyped(t *testing.T) {
	data := []byte(`{"issue":{"id":7,"project":{"id":1,"name":"p"},"tracker":{"id":1,"name":"Bug"},"status":{"id":1,"name":"New"},
"priority":{"id":2,"name":"Normal"},"subject":"Runbook","description":` + quoteJSON(typedMarkdown) + `,
"created_on":"2026-11-27T00:11:51Z","updated_on":"2026-11-27T00:11:53Z",
"journals":[{"id":9,"user":{"id":1,"name":"Ann"},"notes":` + quoteJSON(typedMarkdown) + `,"private_notes":false,"created_on":"2026-11-27T00:11:52Z","details":[]}]}}`)
	is, err := decodeIssue(data)
	if err != nil {
		t.Fatal(err)
	}
	c := &Conn{now: time.Now, http: mustClient(t), textile: true}
	e := c.entity(&meta{cfByName: map[string]int64{}}, is)
	if got := e.Fields["description"]; got != typedRead {
		t.Errorf("description\n got %q\nwant %q", got, typedRead)
	}
	if len(is.Journals) != 1 || !comment(is.Journals[0]) {
		t.Fatalf("journals %+v", is.Journals)
	}
	if got := c.comment(is.Journals[0]).Body; got != typedRead {
		t.Errorf("note\n got %q\nwant %q", got, typedRead)
	}
	if strings.Contains(typedRead, "\\") {
		t.Fatal("the expectation itself holds a backslash")
	}
}

func quoteJSON(s string) string {
	r := strings.NewReplacer("\\", "\\\\", "\"", "\\\"", "\r", "\\r", "\n", "\\n")
	return "\"" + r.Replace(s) + "\""
}
