package adf

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// Markdown that must survive Markdown -> ADF -> Markdown and Markdown ->
// wiki -> Markdown unchanged: the form the converters write.
var roundTrips = []string{
	"Plain text.",
	"Two\n\nparagraphs",
	"# Title\n\n## Sub\n\n###### Six",
	"Some **bold**, *italic*, `code` and ~~gone~~ text.",
	"A [link](https://example.com/a?b=1) here.",
	"[**bold link**](https://example.com)",
	"Line one\\\nline two",
	"- one\n- two\n- three",
	"1. first\n2. second",
	"3. starts at three\n4. four",
	"- outer\n  - inner\n  - inner two\n- outer two",
	"1. step\n   - detail\n2. step two",
	"```go\nfunc main() {\n\tfmt.Println(\"*not bold*\")\n}\n```",
	"```\nplain code\n```",
	"> quoted text",
	"before\n\n---\n\nafter",
	"Escapes: 1. \\* \\_ \\[x\\] \\<tag\\> a \\& b \\\\ back",
	"12\\. not a list",
	"\\# not a heading",
	"\\- not a list",
	"Code with a backtick: ``a`b``",
	"Ünïcödé and emoji 🎉 stay.",
}

func TestMarkdownADFRoundTrip(t *testing.T) {
	for _, md := range roundTrips {
		doc, err := FromMarkdown(md)
		if err != nil {
			t.Fatalf("%q: %v", md, err)
		}
		// What Jira stores is JSON: go through it.
		raw, err := json.Marshal(doc)
		if err != nil {
			t.Fatal(err)
		}
		var back Node
		if err := json.Unmarshal(raw, &back); err != nil {
			t.Fatal(err)
		}
		if got := ToMarkdown(&back); got != md {
			t.Errorf("ADF round trip of %q:\n got %q\nADF %s", md, got, raw)
		}
	}
}

func TestMarkdownWikiRoundTrip(t *testing.T) {
	for _, md := range roundTrips {
		if strings.HasPrefix(md, "3. ") {
			continue // wiki lists always count from one
		}
		wiki, err := MarkdownToWiki(md)
		if err != nil {
			t.Fatal(err)
		}
		if got := WikiToMarkdown(wiki); got != md {
			t.Errorf("wiki round trip of %q:\n got %q\nwiki %q", md, got, wiki)
		}
	}
}

func TestFromMarkdownShapes(t *testing.T) {
	doc, err := FromMarkdown("Hi **there** [x](https://x.example)\n\n- a\n\n```sh\nls\n```\n\n<!-- lockstep:a:1 -->")
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := json.Marshal(doc)
	want := `{"type":"doc","content":[{"type":"paragraph","content":[{"type":"text","text":"Hi "},{"type":"text","text":"there","marks":[{"type":"strong"}]},{"type":"text","text":" "},{"type":"text","text":"x","marks":[{"type":"link","attrs":{"href":"https://x.example"}}]}]},{"type":"bulletList","content":[{"type":"listItem","content":[{"type":"paragraph","content":[{"type":"text","text":"a"}]}]}]},{"type":"codeBlock","attrs":{"language":"sh"},"content":[{"type":"text","text":"ls"}]}],"version":1}`
	if string(raw) != want {
		t.Fatalf("ADF\n got %s\nwant %s", raw, want)
	}
}

func TestWikiToMarkdown(t *testing.T) {
	for _, tc := range []struct{ wiki, md string }{
		{"h1. Title\n\nSome *bold* and _it_ and {{mono}} and -del-.", "# Title\n\nSome **bold** and *it* and `mono` and ~~del~~."},
		{"[Atlassian|https://atlassian.com] and [https://x.example]", "[Atlassian](https://atlassian.com) and [https://x.example](https://x.example)"},
		{"* a\n** b\n* c", "- a\n  - b\n- c"},
		{"# one\n# two\n#* sub", "1. one\n2. two\n   - sub"},
		{"{code:java}\nint x = 1;\n{code}", "```java\nint x = 1;\n```"},
		{"{noformat}\nraw *text*\n{noformat}", "```\nraw *text*\n```"},
		{"{quote}\nwise words\n{quote}", "> wise words"},
		{"bq. short quote", "> short quote"},
		{"line one\nline two", "line one\\\nline two"},
		{"snake_case_name and 2*3*4", "snake\\_case\\_name and 2\\*3\\*4"},
		{"a\n\n----\n\nb", "a\n\n---\n\nb"},
		{"[~admin] mentioned", "\\[\\~admin\\] mentioned"},
	} {
		if got := WikiToMarkdown(tc.wiki); got != tc.md {
			t.Errorf("WikiToMarkdown(%q)\n got %q\nwant %q", tc.wiki, got, tc.md)
		}
	}
}

func TestToMarkdownForeignNodes(t *testing.T) {
	var doc Node
	raw := `{"type":"doc","version":1,"content":[
	 {"type":"panel","attrs":{"panelType":"info"},"content":[{"type":"paragraph","content":[{"type":"text","text":"in a panel"}]}]},
	 {"type":"paragraph","content":[{"type":"mention","attrs":{"id":"abc","text":"@Ann"}},{"type":"text","text":" see "},{"type":"inlineCard","attrs":{"url":"https://x.example/1"}}]},
	 {"type":"table","content":[{"type":"tableRow","content":[{"type":"tableCell","content":[{"type":"paragraph","content":[{"type":"text","text":"cell"}]}]}]}]},
	 {"type":"mediaSingle","content":[{"type":"media","attrs":{"type":"file","id":"1","alt":"shot.png"}}]}
	]}`
	if err := json.Unmarshal([]byte(raw), &doc); err != nil {
		t.Fatal(err)
	}
	want := "in a panel\n\n@Ann see [https://x.example/1](https://x.example/1)\n\ncell\n\n\\[shot.png\\]"
	if got := ToMarkdown(&doc); got != want {
		t.Fatalf("got %q\nwant %q", got, want)
	}
}

// FuzzADF: the converters never panic on any input, and a plain paragraph
// (any printable text) survives ADF -> Markdown -> ADF and wiki.
func FuzzADF(f *testing.F) {
	for _, s := range roundTrips {
		f.Add(s)
	}
	f.Add(`{"type":"doc","content":[{"type":"paragraph","content":[{"type":"text","text":"x"}]}]}`)
	f.Add("1986. A great year & *stars* <b> [x](y) ~~ \\ `")
	f.Fuzz(func(t *testing.T, s string) {
		// Arbitrary Markdown, wiki and ADF JSON must not panic.
		if doc, err := FromMarkdown(s); err == nil {
			_ = ToMarkdown(doc)
			_ = ToWiki(doc)
		}
		_ = WikiToMarkdown(s)
		var doc Node
		if json.Unmarshal([]byte(s), &doc) == nil {
			_ = ToMarkdown(&doc)
			_ = ToWiki(&doc)
		}

		plain := plainParagraph(s)
		if plain == "" {
			return
		}
		in := newDoc([]*Node{{Type: "paragraph", Content: []*Node{textNode(plain)}}})
		md := ToMarkdown(in)
		back, err := FromMarkdown(md)
		if err != nil {
			t.Fatal(err)
		}
		if got := plainText(back); got != plain || len(back.Content) != 1 || back.Content[0].Type != "paragraph" {
			t.Fatalf("ADF text %q -> Markdown %q -> ADF text %q (%d blocks)", plain, md, got, len(back.Content))
		}
		wiki := ToWiki(in)
		if got := plainText(FromWiki(wiki)); got != plain {
			t.Fatalf("ADF text %q -> wiki %q -> ADF text %q", plain, wiki, got)
		}
	})
}

// plainParagraph makes s one paragraph of printable text with single
// spaces, the form a paragraph's text takes in any of the formats.
func plainParagraph(s string) string {
	if !utf8.ValidString(s) {
		return ""
	}
	s = strings.Map(func(r rune) rune {
		if !unicode.IsPrint(r) || r == utf8.RuneError {
			return ' '
		}
		return r
	}, s)
	return strings.Join(strings.Fields(s), " ")
}
