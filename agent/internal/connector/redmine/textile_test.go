package redmine

import (
	"net/http"
	"strings"
	"testing"

	"github.com/lockstep-sync/lockstep/agent/internal/connector"
	"github.com/lockstep-sync/lockstep/agent/internal/secret"
)

// TestTextile writes Markdown through the connector to the real Redmine
// set to Textile: what Redmine stores is the Textile a Redmine user would
// write, and it reads back as the same Markdown, with the markers where
// FindByMarker and the engine look for them.
func TestTextile(t *testing.T) {
	t.Parallel()
	rm, project := server(t)
	c := open(t, rm, project, "textFormatting", Textile)
	md := "## Steps\n\n1. Open **Settings**\n2. Click *Save* in `config.yml`\n   - twice\n\n" +
		"> It fails\n\n```sh\nrm -rf *tmp*\n```\n\nSee [the wiki](https://example.com/wiki) and ![shot](https://example.com/s.png).\n\n" +
		"| a | b |\n| --- | --- |\n| 1 | 2 |\n\n\\*literal\\* and snake_case"
	textile := "h2. Steps\n\n# Open *Settings*\n# Click _Save_ in @config.yml@\n#* twice\n\nbq. It fails\n\n" +
		"<pre><code class=\"sh\">rm -rf *tmp*</code></pre>\n\nSee \"the wiki\":https://example.com/wiki and !https://example.com/s.png(shot)!.\n\n" +
		"|_. a |_. b |\n| 1 | 2 |\n\n<notextile>*literal* and snake_case</notextile>"
	marker := connector.Marker{System: "jira-1", Key: "HELP-7"}
	e, err := c.Create(ctx(t), project, "Bug", connector.Fields{"title": "Textile", "description": md}, marker)
	if err != nil {
		t.Fatal(err)
	}
	var raw struct {
		Issue struct{ Description string } `json:"issue"`
	}
	rm.Call(t, http.MethodGet, "/issues/"+e.ID+".json", nil, &raw)
	stored := strings.ReplaceAll(raw.Issue.Description, "\r\n", "\n")
	if want := textile + "\n\n<!-- lockstep:jira-1:HELP-7 -->"; stored != want {
		t.Errorf("stored description\n got %q\nwant %q", stored, want)
	}
	got, err := c.Get(ctx(t), e.Ref)
	if err != nil {
		t.Fatal(err)
	}
	if got.Fields["description"] != md {
		t.Errorf("description read back\n got %q\nwant %q", got.Fields["description"], md)
	}
	found, err := c.FindByMarker(ctx(t), project, marker)
	if err != nil || len(found) != 1 || found[0].ID != e.ID {
		t.Fatalf("FindByMarker: %+v, %v", found, err)
	}

	// Updating the description keeps the marker.
	if _, err := c.Update(ctx(t), e.Ref, connector.Fields{"description": "Now **shorter**."}, ""); err != nil {
		t.Fatal(err)
	}
	rm.Call(t, http.MethodGet, "/issues/"+e.ID+".json", nil, &raw)
	if got := strings.ReplaceAll(raw.Issue.Description, "\r\n", "\n"); got != "Now *shorter*.\n\n<!-- lockstep:jira-1:HELP-7 -->" {
		t.Errorf("stored description after update %q", got)
	}

	// A note the engine copies is stored with its marker once, as a
	// comment line, and read back with the marker apart; a note written
	// in Redmine reads as Markdown.
	rm.Call(t, http.MethodPut, "/issues/"+e.ID+".json", map[string]any{"issue": map[string]any{"notes": "From *Redmine*, see @log.txt@\r\n* one\r\n* two"}}, nil)
	body := "**Ann** wrote in HELP-7:\n\nIt *works*."
	added, err := c.AddComment(ctx(t), e.Ref, connector.NewComment{Body: body, Marker: "lockstep:a:10042"})
	if err != nil {
		t.Fatal(err)
	}
	if added.Body != body || added.Marker != "lockstep:a:10042" {
		t.Errorf("added note reads %q with marker %q", added.Body, added.Marker)
	}
	var withJournals struct {
		Issue struct {
			Journals []struct {
				Notes string `json:"notes"`
			} `json:"journals"`
		} `json:"issue"`
	}
	rm.Call(t, http.MethodGet, "/issues/"+e.ID+".json?include=journals", nil, &withJournals)
	js := withJournals.Issue.Journals
	if len(js) == 0 || !strings.HasPrefix(strings.ReplaceAll(js[len(js)-1].Notes, "\r\n", "\n"), "*Ann* wrote in HELP-7:\n\nIt _works_.\n\n<!-- lockstep:a:10042 -->") {
		t.Errorf("stored note %+v", js)
	}
	list, err := c.Comments(ctx(t), e.Ref)
	if err != nil {
		t.Fatal(err)
	}
	var bodies []string
	for _, cm := range list {
		bodies = append(bodies, cm.Body)
	}
	if len(bodies) != 2 || bodies[0] != "From **Redmine**, see `log.txt`\n\n- one\n- two" || bodies[1] != added.Body {
		t.Errorf("comments %q", bodies)
	}
}

func TestTextFormattingSetting(t *testing.T) {
	cfg := connector.Config{Name: "r", Kind: Kind, URL: "http://127.0.0.1:1", Secrets: map[string]secret.Secret{"apiKey": secret.New("k")}}
	for _, tc := range []struct {
		value   any
		textile bool
		ok      bool
	}{{nil, true, true}, {"textile", true, true}, {"markdown", false, true}, {"common_mark", false, true}, {" Textile ", true, true}, {"rdoc", false, false}} {
		cfg.Settings = map[string]any{"textFormatting": tc.value}
		c, err := Open(cfg, connector.Env{})
		if (err == nil) != tc.ok {
			t.Errorf("textFormatting %v: error %v", tc.value, err)
			continue
		}
		if err == nil && c.textile != tc.textile {
			t.Errorf("textFormatting %v: textile %v", tc.value, c.textile)
		}
	}
	spec, _ := connector.Lookup(Kind)
	f, ok := spec.Field("textFormatting")
	if !ok || f.Default != Textile || strings.Join(f.Options, ",") != "textile,markdown,common_mark" {
		t.Errorf("spec field %+v", f)
	}
}
