package markup

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// golden compares got with testdata/golden/name, or rewrites it with
// -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatalf("write golden: %v", err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden (run go test -update to create it): %v", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from the golden file\n--- got ---\n%s\n--- want ---\n%s", name, got, want)
	}
}

func readGolden(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "golden", name))
	if err != nil {
		t.Fatalf("read input: %v", err)
	}
	return string(b)
}

// The golden conversions of a realistic ticket, each way. The round-trip
// files document what survives: ticket.md.html.md is the Markdown a ticket
// comes back as after a trip through an HTML system.
func TestGoldenConversions(t *testing.T) {
	must := func(s string, err error) string {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	md := readGolden(t, "ticket.md")
	h := must(MarkdownToHTML(md))
	golden(t, "ticket.md.html", h)
	golden(t, "ticket.md.txt", must(MarkdownToText(md)))
	back := must(HTMLToMarkdown(h))
	golden(t, "ticket.md.html.md", back)
	// The round trip is stable after one trip.
	if again := must(HTMLToMarkdown(must(MarkdownToHTML(back)))); again != back {
		t.Errorf("Markdown round trip is not stable:\n%s\n---\n%s", back, again)
	}

	in := readGolden(t, "ticket.html")
	m := must(HTMLToMarkdown(in))
	golden(t, "ticket.html.md", m)
	golden(t, "ticket.html.txt", must(HTMLToText(in)))
	golden(t, "ticket.html.md.html", must(MarkdownToHTML(m)))
	if strings.Contains(m, "alert") || strings.Contains(m, "javascript") {
		t.Errorf("script or javascript: link survived:\n%s", m)
	}
}

// Each case is converted to Markdown, and the Markdown must survive a trip
// through MarkdownToHTML unchanged (the fixed point the fuzzers check).
func TestHTMLToMarkdown(t *testing.T) {
	tests := []struct{ name, html, want string }{
		{"emphasis", `<p>a <b>bold</b>, <i>em</i>, <del>gone</del></p>`, "a **bold**, *em*, ~~gone~~"},
		{"space moves out of emphasis", `x<b> x </b>y`, "x **x** y"},
		{"touching runs merge", `<b>a</b><b>b</b>`, "**ab**"},
		{"bold then italic", `<b>a</b><i>b</i>`, "**a***b*"},
		{"nested formatting", `<b><i>both</i></b>`, "***both***"},
		{"emphasis that cannot parse is dropped", `foo<b>"bar"</b>baz`, `foo"bar"baz`},
		{"nested same tag", `<b>a <strong>b</strong></b>`, "**a b**"},
		{"line starts escaped", `<p>1. not list</p><p>- no</p><p># no</p><p>===</p>`, "1\\. not list\n\n\\- no\n\n\\# no\n\n\\==="},
		{"hard breaks", `<p>a<br>- b<br>2) c</p>`, "a\\\n\\- b\\\n2\\) c"},
		{"trailing break dropped", `<p>a<br></p>`, "a"},
		{"literal characters", `<p>snake_case _lead trail_ a*b 2 * 3 [x] &amp;copy; 5 &lt; 6 &lt;div&gt;</p>`,
			`snake_case \_lead trail\_ a\*b 2 * 3 \[x\] \&copy; 5 < 6 \<div>`},
		{"backslashes", `C:\dir\<b>*</b> end\`, `C:\dir\\**\*** end\`},
		{"code spans", "<code>a`b</code> <code>`x`</code> <code> pad </code>", "``a`b`` `` `x` `` `pad`"},
		{"code block with fence inside", "<pre>```\ncode\n```</pre>", "````\n```\ncode\n```\n````"},
		{"code block language", `<pre><code class="language-go">x := 1
</code></pre>`, "```go\nx := 1\n```"},
		{"links", `<a href="https://e.com/a b(c)" title="T &quot;q&quot;">t</a>`, `[t](https://e.com/a%20b\(c\) "T \"q\"")`},
		{"autolink", `<a href="https://e.com">https://e.com</a> <a href="mailto:a@b.co">a@b.co</a>`, "<https://e.com> <a@b.co>"},
		{"link text escaped", `<a href="x">[y]</a>`, `[\[y\]](x)`},
		{"anchor without href", `<a name="top">Top</a>`, "Top"},
		{"javascript link dropped", `<a href=" JavaScript:alert(1)">click</a>`, "click"},
		{"image", `<img src="i.png" alt="a]b" title="t">`, `![a\]b](i.png "t")`},
		{"data image kept, data html dropped", `<img src="data:text/html,x" alt="x">`, "x"},
		{"scripts and styles dropped", `<p>a</p><script>alert(1)</script><style>p{}</style><p>b</p>`, "a\n\nb"},
		{"headings", `<h1>One</h1><h3>Three <em>x</em></h3><h2>Title #</h2>`, "# One\n\n### Three *x*\n\n## Title \\#"},
		{"heading with blocks inside", `<h2>a<div>b</div>c</h2>`, "## a b c"},
		{"nested lists", `<ul><li>a<ul><li>b</li></ul></li><li>c</li></ul>`, "- a\n  - b\n- c"},
		{"ordered list start", `<ol start="3"><li>c</li><li>d</li></ol>`, "3. c\n4. d"},
		{"adjacent lists stay apart", `<ul><li>a</li></ul><ul><li>b</li></ul>`, "- a\n\n* b"},
		{"loose list", `<ul><li><p>a</p><p>b</p></li><li><p>c</p></li></ul>`, "- a\n\n  b\n\n- c"},
		{"task list", `<ul><li><input type="checkbox" checked> done</li><li><input type="checkbox"> todo</li></ul>`, "- [x] done\n- [ ] todo"},
		{"quote", `<blockquote><p>a</p><p>b</p></blockquote>`, "> a\n>\n> b"},
		{"quote with list and code", `<blockquote><ul><li>a<pre>x</pre></li></ul></blockquote>`, "> - a\n>   ```\n>   x\n>   ```"},
		{"table", `<table><tr><th align="center">h|1</th><th>h2</th></tr><tr><td><code>x|y</code></td></tr></table>`,
			"| h\\|1 | h2 |\n| :-: | --- |\n| `x\\|y` |  |"},
		{"table cell breaks", `<table><tr><td><p>a</p><p>b</p></td></tr></table>`, "| a<br>b |\n| --- |"},
		{"rule", `<p>a</p><hr><p>b</p>`, "a\n\n---\n\nb"},
		{"spans and underline keep text", `<p><span style="color:red">red</span> <u>under</u>&nbsp;x</p>`, "red under\u00a0x"},
		{"strikethrough with tildes", `<s>~x~</s>`, `\~x\~`},
		{"empty", ``, ""},
		{"text only", `plain`, "plain"},
		{"too deep for the parser keeps the text", strings.Repeat("<div>", 600) + "deep" + strings.Repeat("</div>", 600), "deep"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := HTMLToMarkdown(tt.html)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("HTMLToMarkdown(%q)\n got %q\nwant %q", tt.html, got, tt.want)
			}
			checkFixedPoint(t, tt.html)
		})
	}
}

func TestHTMLToText(t *testing.T) {
	tests := []struct{ name, html, want string }{
		{"paragraphs", `<p>a <b>b</b></p><p>c</p>`, "a b\n\nc"},
		{"breaks", `a<br>b`, "a\nb"},
		{"link", `<a href="https://e.com">site</a> <a href="https://e.com">https://e.com</a> <a href="mailto:x@y.z">mail</a>`, "site (https://e.com) https://e.com mail (x@y.z)"},
		{"fragment link", `<a href="#top">top</a>`, "top"},
		{"lists", `<ol><li>a<ul><li>b</li></ul></li></ol>`, "1. a\n   - b"},
		{"table", `<table><tr><th>h1</th><th>h2</th></tr><tr><td>1</td><td></td></tr></table>`, "h1 | h2\n1"},
		{"code kept verbatim", "<pre>  x = 1\n  y = 2</pre>", "  x = 1\n  y = 2"},
		{"image alt", `<img src="a.png" alt="diagram">`, "diagram"},
		{"no escaping", `<p>a_b *c* [d] &lt;e&gt;</p>`, "a_b *c* [d] <e>"},
		{"scripts dropped", `<script>x()</script>ok`, "ok"},
		{"entities decoded", `caf&eacute; &amp; &#x263A;`, "café & ☺"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := HTMLToText(tt.html)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("HTMLToText(%q)\n got %q\nwant %q", tt.html, got, tt.want)
			}
		})
	}
}

func TestMarkdownToHTML(t *testing.T) {
	tests := []struct{ name, md, want string }{
		{"basics", "# T\n\n*a* **b** `c`", "<h1>T</h1>\n<p><em>a</em> <strong>b</strong> <code>c</code></p>\n"},
		{"raw HTML shown as text", "a <b onclick=\"x()\">b</b>", "<p>a &lt;b onclick=&quot;x()&quot;&gt;b&lt;/b&gt;</p>\n"},
		{"HTML block shown as text", "<div>\nx\n</div>", "<p>&lt;div&gt;\nx\n&lt;/div&gt;</p>\n"},
		{"script block shown as text", "<script>alert(1)</script>", "<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>\n"},
		{"br kept", "a<br/>b", "<p>a<br>b</p>\n"},
		{"comments dropped", "<!-- template hint -->\n\ntext <!-- inline -->", "<p>text </p>\n"},
		{"javascript link emptied", "[x](javascript:alert(1))", "<p><a href=\"\">x</a></p>\n"},
		{"bare URL linked", "see https://e.com", "<p>see <a href=\"https://e.com\">https://e.com</a></p>\n"},
		{"table", "| a |\n|---|\n| 1 |", "<table>\n<thead>\n<tr>\n<th>a</th>\n</tr>\n</thead>\n<tbody>\n<tr>\n<td>1</td>\n</tr>\n</tbody>\n</table>\n"},
		{"invalid UTF-8 replaced", "a\xffb", "<p>a\uFFFDb</p>\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := MarkdownToHTML(tt.md)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("MarkdownToHTML(%q)\n got %q\nwant %q", tt.md, got, tt.want)
			}
		})
	}
}

func TestMarkdownToText(t *testing.T) {
	got, err := MarkdownToText("# Title\n\nSome **bold** and a [link](https://e.com).\n\n- one\n- two\n")
	if err != nil {
		t.Fatal(err)
	}
	want := "Title\n\nSome bold and a link (https://e.com).\n\n- one\n- two"
	if got != want {
		t.Errorf("got %q\nwant %q", got, want)
	}
}

func TestConversionsRefuseHugeInput(t *testing.T) {
	huge := strings.Repeat("a", MaxRichTextBytes+1)
	for name, f := range map[string]func(string) (string, error){
		"MarkdownToHTML": MarkdownToHTML, "MarkdownToText": MarkdownToText,
		"HTMLToMarkdown": HTMLToMarkdown, "HTMLToText": HTMLToText,
	} {
		if _, err := f(huge); err == nil || !strings.Contains(err.Error(), "longer than") {
			t.Errorf("%s: err = %v, want a size error", name, err)
		}
	}
}

// The converters share a goldmark instance; the race detector checks they
// are safe to call from the engine's workers at once.
func TestConversionsConcurrent(t *testing.T) {
	md := readGolden(t, "ticket.md")
	want, err := MarkdownToHTML(md)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan string, 8)
	for range 8 {
		go func() {
			h, _ := MarkdownToHTML(md)
			_, _ = HTMLToMarkdown(h)
			done <- h
		}()
	}
	for range 8 {
		if got := <-done; got != want {
			t.Error("concurrent conversion differs")
		}
	}
}
