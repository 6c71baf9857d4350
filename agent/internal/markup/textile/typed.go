package textile

import (
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/text"

	"github.com/lockstep-sync/lockstep/agent/internal/markup"
)

// A paragraph in which Textile finds no markup at all (only text, line
// breaks and bare URLs, which Redmine links) is read as the text it is,
// the way a text/plain system's text is: people paste and type Markdown
// into a Redmine that reads Textile, and that Markdown must arrive as the
// readable text they typed, not as escaped brackets, links doubled by
// Redmine's URL linking and a backslash at the end of every line.
//
// The writer keeps its promise (Markdown -> Textile -> the same Markdown)
// by never leaving such a paragraph plain when its text, read as typed,
// would mean something else in Markdown (literal brackets that would
// form a link, a literal *x*): it wraps the paragraph's lines in
// <notextile> (or writes a line's first character as a character
// reference), which Redmine shows the same and the reader then converts
// literally.

// asTyped returns the Markdown of a paragraph read as typed, and whether
// the paragraph qualifies: Textile shows it exactly as written (no
// phrase, code, link, image, entity, tag or comment changed a character).
// Line breaks, hard in Textile, become Markdown hard breaks of the
// readable kind (two spaces). Nothing is escaped: HTML typed as text is
// text in the engine's Markdown too (every connector writes raw HTML as
// text), and a bare URL is a link in it, as in Redmine.
func asTyped(s string, budget *int) (string, bool) {
	if *budget <= 0 {
		return "", false
	}
	o := inlineOut{budget: budget}
	inline(s, &o, 0)
	if o.t.String() != s || *budget <= 0 {
		return "", false
	}
	return strings.ReplaceAll(s, "\n", "  \n"), true
}

// typedSafe makes sure a top-level paragraph the writer produced (out,
// Textile) reads back as the text a reader sees: when the reader would
// take it as typed and that Markdown does not read as the same text, the
// lines are wrapped in <notextile> so that the reader converts it
// literally instead.
func (w *writer) typedSafe(out string) string {
	md, ok := asTyped(out, &w.budget)
	if !ok || readsAs(md, out) {
		return out
	}
	lines := strings.Split(out, "\n")
	for i, l := range lines {
		switch {
		case strings.TrimSpace(l) == "":
		case !strings.Contains(l, "notextile"):
			lines[i] = "<notextile>" + l + "</notextile>"
		default:
			// The tag cannot hold its own name: the first character as
			// a character reference is enough to be read literally.
			r, n := utf8.DecodeRuneInString(l)
			lines[i] = "&#" + strconv.Itoa(int(r)) + ";" + l[n:]
		}
	}
	return strings.Join(lines, "\n")
}

// readsAs reports whether Markdown md is one paragraph of plain text
// showing want (line breaks as "\n"): no emphasis, link, code, HTML,
// list, heading or other structure.
func readsAs(md, want string) bool {
	src := []byte(md)
	doc := mdParser.Parse(text.NewReader(src))
	p, ok := doc.FirstChild().(*ast.Paragraph)
	if !ok || doc.ChildCount() != 1 {
		return false
	}
	var b strings.Builder
	for n := p.FirstChild(); n != nil; n = n.NextSibling() {
		t, ok := n.(*ast.Text)
		if !ok {
			return false
		}
		b.WriteString(markup.UnescapeMarkdown(t.Value(src)))
		switch {
		case t.HardLineBreak():
			b.WriteByte('\n')
		case t.SoftLineBreak():
			b.WriteByte(' ')
		}
	}
	return b.String() == want
}
