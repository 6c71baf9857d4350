package textile

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	gtext "github.com/yuin/goldmark/text"
)

// Markdown that survives Markdown -> Textile -> Markdown unchanged, each
// with the Textile it is written as (what Redmine stores).
var roundTrips = []struct{ md, textile string }{
	{"Plain text.", "Plain text."},
	{"Two\n\nparagraphs", "Two\n\nparagraphs"},
	{"Line one  \nline two", "Line one\nline two"},
	{"# Title\n\n## Sub\n\n###### Six", "h1. Title\n\nh2. Sub\n\nh6. Six"},
	{"Some **bold**, *italic*, `code` and ~~gone~~ text.", "Some *bold*, _italic_, @code@ and -gone- text."},
	{"**bold *and italic* inside**", "*bold _and italic_ inside*"},
	{"A [link](https://example.com/a?b=1&c=2) here.", `A "link":https://example.com/a?b=1&c=2 here.`},
	{"See [the docs](https://example.com/docs).", `See "the docs":https://example.com/docs.`},
	{"**[bold link](https://example.com)**", `*"bold link":https://example.com*`},
	{"Visit https://example.com/x now", "Visit https://example.com/x now"},
	{"- one\n- two\n- three", "* one\n* two\n* three"},
	{"1. first\n2. second", "# first\n# second"},
	{"- outer\n  - inner\n  - inner two\n- outer two", "* outer\n** inner\n** inner two\n* outer two"},
	{"1. step\n   - detail\n2. step two", "# step\n#* detail\n# step two"},
	{"```go\nfunc main() {\n\tfmt.Println(\"*not bold*\")\n}\n```", "<pre><code class=\"go\">func main() {\n\tfmt.Println(\"*not bold*\")\n}</code></pre>"},
	{"```\nplain code\n\nwith a blank line\n```", "<pre>plain code\n\nwith a blank line</pre>"},
	{"> quoted text", "bq. quoted text"},
	{"> first\n>\n> - a\n> - b", "> first\n>\n> * a\n> * b"},
	{"before\n\n---\n\nafter", "before\n\n---\n\nafter"},
	{"![diagram](https://example.com/d.png) and ![](https://example.com/e.png)", "!https://example.com/d.png(diagram)! and !https://example.com/e.png!"},
	{"| a | b |\n| --- | --- |\n| 1 | **2** |", "|_. a |_. b |\n| 1 | *2* |"},
	{"\\*not bold\\* and \\_not italic\\_", "<notextile>*not bold* and _not italic_</notextile>"},
	{"snake_case_name and 2\\*3\\*4 stay", "<notextile>snake_case_name and 2*3*4 stay</notextile>"},
	{"[WIP] or [x] are text", "[WIP] or [x] are text"},
	{"Typed: \\[the runbook\\](https://example.com/r) here  \nnext", "<notextile>Typed: [the runbook](https://example.com/r) here</notextile>\n<notextile>next</notextile>"},
	{"\\# not a list", "<notextile># </notextile>not a list"},
	{"\\- not a list either", "<notextile>- not a list either</notextile>"},
	{"h1. is not a heading here", "<notextile>h1. </notextile>is not a heading here"},
	{"@not code@ and ==not escaped== and \"q\":not-a-link", "<notextile>@not code@ and ==not escaped== and \"q\":not-a-link</notextile>"},
	{"a \\&amp; b and \\<b> tag", "<notextile>a &amp; b and <b> tag</notextile>"},
	{"Code with an at: `a@b`", "Code with an at: <code>a@b</code>"},
	{"Ünïcödé and emoji 🎉 stay.", "Ünïcödé and emoji 🎉 stay."},
}

func TestRoundTrip(t *testing.T) {
	for _, tc := range roundTrips {
		got, err := FromMarkdown(tc.md)
		if err != nil {
			t.Fatalf("FromMarkdown(%q): %v", tc.md, err)
		}
		if got != tc.textile {
			t.Errorf("FromMarkdown(%q)\n got %q\nwant %q", tc.md, got, tc.textile)
		}
		back, err := ToMarkdown(got)
		if err != nil {
			t.Fatalf("ToMarkdown(%q): %v", got, err)
		}
		if back != tc.md {
			t.Errorf("round trip of %q through %q:\n got %q", tc.md, got, back)
		}
	}
}

// Textile as Redmine users write it (and as Redmine renders it), read as
// Markdown.
func TestToMarkdown(t *testing.T) {
	for _, tc := range []struct{ textile, md string }{
		{"h2. Steps to reproduce\n\n# Open the *settings* page\n# Click _Save_\n\nh2. Expected\n\nNo error.",
			"## Steps to reproduce\n\n1. Open the **settings** page\n2. Click *Save*\n\n## Expected\n\nNo error."},
		{"The @config.yml@ file:\n\n<pre>\nkey: value\n</pre>", "The `config.yml` file:\n\n```\nkey: value\n```"},
		{"<pre><code class=\"ruby\">\nputs 1\n</code></pre>", "```ruby\nputs 1\n```"},
		{"bc. raw *code*", "```\nraw *code*\n```"},
		{"Redmine Admin wrote:\n> It fails\n> every time", "Redmine Admin wrote:\n\n> It fails  \n> every time"},
		{"See \"the wiki\":http://example.com/wiki. Or http://example.com/x, maybe.",
			"See [the wiki](http://example.com/wiki). Or <http://example.com/x>, maybe."},
		{"\"link(with a title)\":http://example.com", "[link](http://example.com)"},
		{"!screenshot.png! and !http://example.com/a.png(alt)!:http://example.com", "![](screenshot.png) and [![alt](http://example.com/a.png)](http://example.com)"},
		{"|_. Name |_. Value |\n| a | 1 |\n|<. left |>. right |", "| Name | Value |\n| --- | --- |\n| a | 1 |\n| left | right |"},
		{"|a|b|\n|c|d|", "| a | b |\n| --- | --- |\n| c | d |"},
		{"* one\n** two\n*** three\n* four", "- one\n  - two\n    - three\n- four"},
		{"# a\n#* b\n# c", "1. a\n   - b\n2. c"},
		{"p(note). A paragraph with a class.", "A paragraph with a class."},
		{"h3(#anchor). Heading", "### Heading"},
		{"Some -deleted- and +inserted+ and ^sup^ and ~sub~ and %{color:red}red% text",
			"Some ~~deleted~~ and inserted and sup and sub and red text"},
		{"<notextile>*literal*</notextile> and ==_also_==", "\\*literal\\* and \\_also\\_"},
		{"A <b>tag</b> is text, &amp; &lt;em&gt; too, \\* backslash", "A \\<b>tag\\</b> is text, & \\<em> too, \\\\\\* backslash"},
		{"snake_case and 2*3*4 and foo-bar-baz", "snake_case and 2*3*4 and foo-bar-baz"},
		{"text\n\n<!-- lockstep:sys:KEY-1 -->", "text\n\n<!-- lockstep:sys:KEY-1 -->"},
		{"a <!-- hidden --> b", "a b"},
		{"---", "---"},
	} {
		got, err := ToMarkdown(tc.textile)
		if err != nil {
			t.Fatalf("ToMarkdown(%q): %v", tc.textile, err)
		}
		if got != tc.md {
			t.Errorf("ToMarkdown(%q)\n got %q\nwant %q", tc.textile, got, tc.md)
		}
	}
}

// Markers and comment lines survive both ways, where the engine and
// FindByMarker look for them.
func TestMarkersSurvive(t *testing.T) {
	md := "**Ann** wrote in HELP-1:\n\nIt *works*.\n\n<!-- lockstep:a:10042 -->"
	tx, err := FromMarkdown(md)
	if err != nil {
		t.Fatal(err)
	}
	if want := "*Ann* wrote in HELP-1:\n\nIt _works_.\n\n<!-- lockstep:a:10042 -->"; tx != want {
		t.Fatalf("Textile %q, want %q", tx, want)
	}
	back, err := ToMarkdown(tx)
	if err != nil {
		t.Fatal(err)
	}
	if back != md {
		t.Fatalf("Markdown %q, want %q", back, md)
	}
	// A marker inside a quote stays a comment line there.
	back, err = ToMarkdown("> quoted\n>\n> <!-- lockstep:b:7 -->")
	if err != nil || !strings.Contains(back, "<!-- lockstep:b:7 -->") {
		t.Fatalf("quoted marker: %q, %v", back, err)
	}
}

func TestTooLong(t *testing.T) {
	huge := strings.Repeat("a", MaxBytes+1)
	if _, err := FromMarkdown(huge); err == nil {
		t.Error("FromMarkdown took more than MaxBytes")
	}
	if _, err := ToMarkdown(huge); err == nil {
		t.Error("ToMarkdown took more than MaxBytes")
	}
}

// FuzzTextile: the converters never panic on any input, and a plain
// paragraph (any printable text) survives Markdown -> Textile ->
// Markdown as the same text.
func FuzzTextile(f *testing.F) {
	for _, tc := range roundTrips {
		f.Add(tc.md)
		f.Add(tc.textile)
	}
	f.Add("1986. A great year & *stars* <b> [x](y) ~~ \\ ` @a@ \"q\":http://x !i! |c| ==e== <notextile>")
	f.Add("*a _b* c_ -d +e- f+ \"g\":h \"i\":j")
	f.Fuzz(func(t *testing.T, s string) {
		if tx, err := FromMarkdown(s); err == nil {
			_, _ = ToMarkdown(tx)
		}
		_, _ = ToMarkdown(s)

		plain := plainParagraph(s)
		if plain == "" {
			return
		}
		md := escapeMarkdown(plain)
		tx, err := FromMarkdown(md)
		if err != nil {
			t.Fatal(err)
		}
		back, err := ToMarkdown(tx)
		if err != nil {
			t.Fatal(err)
		}
		if got := markdownText(t, back); got != plain {
			t.Fatalf("text %q -> Markdown %q -> Textile %q -> Markdown %q (text %q)", plain, md, tx, back, got)
		}
	})
}

// plainParagraph makes s one paragraph of printable text with single
// spaces.
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

// escapeMarkdown writes text as a Markdown paragraph that reads as
// exactly that text: every ASCII punctuation character escaped.
func escapeMarkdown(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r < 0x80 && unicode.IsPunct(r) || r == '`' || r == '^' || r == '<' || r == '>' || r == '|' || r == '~' || r == '=' || r == '+' || r == '$' {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// markdownText is the text a Markdown paragraph shows.
func markdownText(t *testing.T, md string) string {
	t.Helper()
	src := []byte(md)
	doc := mdParser.Parse(gtext.NewReader(src))
	if doc.ChildCount() != 1 {
		t.Fatalf("Markdown %q is %d blocks, not one paragraph", md, doc.ChildCount())
	}
	return plainText(doc.FirstChild(), src, 0)
}
