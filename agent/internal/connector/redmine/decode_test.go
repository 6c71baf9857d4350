package redmine

import (
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lockstep-sync/lockstep/agent/internal/connector"
	"github.com/lockstep-sync/lockstep/agent/internal/connector/httpx"
	"github.com/lockstep-sync/lockstep/agent/internal/secret"
)

func jsonDecode(r io.ReadCloser, out any) error {
	defer r.Close()
	return json.NewDecoder(r).Decode(out)
}

// FuzzDecodeIssue feeds the issue decoder arbitrary answers: it must
// return an error or an issue the rest of the connector can turn into an
// entity, never panic.
func FuzzDecodeIssue(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/*.json")
	for _, s := range seeds {
		data, err := os.ReadFile(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	c := &Conn{now: time.Now, textile: true}
	c.http = mustClient(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		is, err := decodeIssue(data)
		if err != nil {
			if is.ID != 0 {
				t.Fatal("an error with an issue")
			}
		} else {
			if is.ID <= 0 {
				t.Fatalf("issue without an id from %q", data)
			}
			e := c.entity(&meta{cfByName: map[string]int64{}}, is)
			if e.ID == "" || e.Version == "" {
				t.Fatalf("entity %+v", e)
			}
			if d, _ := e.Fields["description"].(string); strings.Contains(d, "\r\n") {
				t.Fatalf("description keeps CRLF: %q", d)
			}
		}
		if list, err := decodeIssueList(data); err == nil {
			for _, is := range list.Issues {
				_ = c.entity(nil, is)
				_ = extrasHash(is)
			}
		}
		var ws struct {
			Journals []wireJournal `json:"journals"`
		}
		if json.Unmarshal(data, &ws) == nil {
			for _, j := range ws.Journals {
				if comment(j) {
					_ = c.comment(j)
				}
			}
		}
	})
}

func mustClient(tb testing.TB) *httpx.Client {
	tb.Helper()
	c, err := Open(connector.Config{Name: "fuzz", Kind: Kind, URL: "http://127.0.0.1:1", Secrets: map[string]secret.Secret{"apiKey": secret.New("fuzz-key")}}, connector.Env{})
	if err != nil {
		tb.Fatal(err)
	}
	return c.http
}

func TestDecodeSeeds(t *testing.T) {
	data, err := os.ReadFile("testdata/issue-full.json")
	if err != nil {
		t.Fatal(err)
	}
	is, err := decodeIssue(data)
	if err != nil {
		t.Fatal(err)
	}
	c := &Conn{now: time.Now, http: mustClient(t)}
	m := &meta{cfByName: map[string]int64{}, customFields: []wireCustomField{
		{ID: 1, Name: "External ID", FieldFormat: "string"}, {ID: 2, Name: "Points", FieldFormat: "float"},
		{ID: 3, Name: "Tags", FieldFormat: "list", Multiple: true}, {ID: 4, Name: "Reviewed", FieldFormat: "bool"},
		{ID: 5, Name: "Reviewer", FieldFormat: "user"},
	}}
	e := c.entity(m, is)
	want := map[string]any{
		"title": "Issue A (renamed)", "description": "first *description*\n\nsecond", "status": "In Progress", "priority": "High",
		"cf:External ID": "EXT-42", "cf:Points": 3.5, "cf:Tags": []string{"a", "b"}, "cf:Reviewed": true,
		"cf:Reviewer": connector.User{ID: "5"}, "startDate": "2026-11-27", "dueDate": nil, "targetVersion": "v1",
	}
	for k, v := range want {
		if !equal(e.Fields[k], v) {
			t.Errorf("%s = %#v, want %#v", k, e.Fields[k], v)
		}
	}
	var got []connector.Comment
	for _, j := range is.Journals {
		if comment(j) {
			got = append(got, c.comment(j))
		}
	}
	if len(got) != 1 || got[0].Body != "a comment from the sync agent" {
		t.Errorf("comments %+v (private notes and notes-less journals must be left out)", got)
	}
	for _, bad := range []string{``, `null`, `{}`, `{"issue":null}`, `{"issue":{"id":0}}`, `{"issue":{"id":"x"}}`, `<html>`} {
		if _, err := decodeIssue([]byte(bad)); err == nil {
			t.Errorf("decodeIssue(%q) accepted", bad)
		}
	}
}

func TestMarkerText(t *testing.T) {
	for _, tc := range []struct {
		m    connector.Marker
		want string
	}{
		{connector.Marker{System: "s1", Key: "K-1"}, "lockstep:s1:K-1"},
		{connector.Marker{System: "s--x", Key: "a -->\nb"}, "lockstep:s- -x:a - -  b"},
	} {
		got := markerID(tc.m)
		if got != tc.want {
			t.Errorf("markerID(%+v) = %q, want %q", tc.m, got, tc.want)
		}
		text, m := splitDescription(withMarker("body\r\n", got))
		if text != "body" || m != got {
			t.Errorf("split(with(%q)) = %q, %q", got, text, m)
		}
	}
	if text, m := splitDescription("no marker\r\nhere\n"); text != "no marker\nhere" || m != "" {
		t.Errorf("split of plain text = %q, %q", text, m)
	}
}

func TestCursor(t *testing.T) {
	var k cursor
	for _, step := range []struct{ at, id int64 }{{100, 7}, {100, 3}, {101, 9}, {101, 2}, {101, 4}} {
		k.advance(step.at, step.id)
	}
	if k.at != 101 || k.prev != 2 || k.cur != 3 || !slices.Equal(k.ids, []int64{9, 2, 4}) {
		t.Fatalf("cursor %+v", k)
	}
	got, err := parseCursor(k.String())
	if err != nil || got.at != k.at || got.prev != k.prev || got.cur != k.cur || !slices.Equal(got.ids, k.ids) {
		t.Fatalf("round trip %+v: %+v, %v", k, got, err)
	}
	if k.advance(105, 1); k.prev != 0 || k.cur != 1 || !slices.Equal(k.ids, []int64{1}) {
		t.Fatalf("after a gap: %+v", k)
	}
	for _, bad := range []string{"", "1:2", "a:b:c:", "1:2:-1:", "1:2:3:x", "1:2:3:4:5"} {
		if _, err := parseCursor(bad); err == nil {
			t.Errorf("parseCursor(%q) accepted", bad)
		}
	}
}

func equal(a, b any) bool {
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return string(ja) == string(jb)
}
