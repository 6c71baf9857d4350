// Package textile converts between the engine's Markdown and Textile as
// Redmine (5.0, its RedCloth3 renderer) reads and writes it: paragraphs
// with hard line breaks, h1.-h6. headings, *bold*, _italic_, -strike-,
// @code@, <pre> code blocks, "links":url, !images!, nested * and #
// lists, bq. and > quotes, |tables| and --- rules. Text that would read
// as markup is kept literal with <notextile>. Lines holding only an HTML
// comment (Lockstep's markers) pass through both ways unchanged.
//
// The writer walks goldmark's Markdown tree, as the Jira wiki-markup
// converter (package adf) does; the reader renders Textile to HTML as
// Redmine would and leaves the Markdown to package markup's HTML converter.
package textile

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/extension"
	east "github.com/yuin/goldmark/extension/ast"
	"github.com/yuin/goldmark/text"

	"github.com/lockstep-sync/lockstep/agent/internal/markup"
)

// MaxBytes bounds the text a conversion accepts: far beyond any issue
// description, and the limit keeps one hostile field from holding a sync
// worker.
const MaxBytes = 1 << 20

// maxDepth bounds nesting (quotes, lists, phrases); deeper content is
// flattened to text.
const maxDepth = 32

// mdParser is CommonMark with GitHub's tables and strikethrough. Bare
// URLs are not linkified: text must survive a round trip as text.
var mdParser = goldmark.New(goldmark.WithExtensions(extension.Strikethrough, extension.Table)).Parser()

// FromMarkdown converts Markdown to Textile.
func FromMarkdown(markdown string) (out string, err error) {
	if len(markdown) > MaxBytes {
		return "", fmt.Errorf("convert Markdown to Textile: longer than %d bytes", MaxBytes)
	}
	defer func() {
		if p := recover(); p != nil {
			out, err = "", fmt.Errorf("convert Markdown to Textile: %s", markup.PanicText(p))
		}
	}()
	src := []byte(strings.ToValidUTF8(markdown, "\uFFFD"))
	w := writer{src: src, budget: 64*len(src) + 1<<16}
	return strings.TrimRight(w.blocks(mdParser.Parse(text.NewReader(src)), 0), " \n"), nil
}

type writer struct {
	src    []byte
	budget int
}

func (w *writer) blocks(parent ast.Node, depth int) string {
	var parts []string
	for n := parent.FirstChild(); n != nil; n = n.NextSibling() {
		if s := w.block(n, depth); s != "" {
			parts = append(parts, s)
		}
	}
	return strings.Join(parts, "\n\n")
}

func (w *writer) block(n ast.Node, depth int) string {
	if depth > maxDepth {
		return w.plainBlock(string(n.Text(w.src))) //nolint:staticcheck // its text is all that is wanted here
	}
	switch n := n.(type) {
	case *ast.Paragraph, *ast.TextBlock:
		if depth == 0 {
			return w.typedSafe(w.inline(n, false, true))
		}
		return w.inline(n, false, true)
	case *ast.Heading:
		return "h" + strconv.Itoa(n.Level) + ". " + strings.ReplaceAll(w.inline(n, false, false), "\n", " ")
	case *ast.List:
		return strings.Join(w.list(n, "", depth), "\n")
	case *ast.FencedCodeBlock, *ast.CodeBlock:
		code := strings.TrimSuffix(w.lines(n), "\n")
		if f, ok := n.(*ast.FencedCodeBlock); ok {
			if lang := strings.Fields(string(f.Language(w.src)) + " "); len(lang) > 0 && isIdent(lang[0]) {
				return `<pre><code class="` + lang[0] + `">` + code + "</code></pre>"
			}
		}
		return "<pre>" + code + "</pre>"
	case *ast.Blockquote:
		if p, ok := n.FirstChild().(*ast.Paragraph); ok && n.ChildCount() == 1 {
			return "bq. " + w.inline(p, false, false)
		}
		inner := w.blocks(n, depth+1)
		lines := strings.Split(inner, "\n")
		for i, l := range lines {
			lines[i] = strings.TrimRight("> "+l, " ")
		}
		return strings.Join(lines, "\n")
	case *ast.ThematicBreak:
		return "---"
	case *ast.HTMLBlock:
		raw := w.lines(n)
		if n.HasClosure() {
			raw += string(n.ClosureLine.Value(w.src))
		}
		raw = strings.TrimSpace(raw)
		if n.HTMLBlockType == ast.HTMLBlockType2 && !strings.Contains(raw, "\n") {
			return raw // a comment: Redmine hides it, and markers must stay findable
		}
		return w.plainBlock(raw)
	case *east.Table:
		return w.table(n)
	default:
		if n.Type() == ast.TypeBlock && n.HasChildren() {
			return w.blocks(n, depth+1)
		}
		return ""
	}
}

// lines is a block's raw lines (code and HTML blocks).
func (w *writer) lines(n ast.Node) string {
	var b strings.Builder
	lines := n.Lines()
	for i := 0; i < lines.Len(); i++ {
		seg := lines.At(i)
		b.Write(seg.Value(w.src))
	}
	return b.String()
}

// plainBlock writes text that must show as typed, line by line.
func (w *writer) plainBlock(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	for i, l := range lines {
		lines[i] = escapeRun(l, false, true)
	}
	return strings.Join(lines, "\n")
}

// list writes one list's items, nested lists under their item with a
// longer marker. Textile items are one line: an item's paragraphs and
// line breaks join with spaces.
func (w *writer) list(n *ast.List, prefix string, depth int) []string {
	marker := prefix + "*"
	if n.IsOrdered() {
		marker = prefix + "#"
	}
	var out []string
	for it := n.FirstChild(); it != nil; it = it.NextSibling() {
		var text, nested []string
		for c := it.FirstChild(); c != nil; c = c.NextSibling() {
			if l, ok := c.(*ast.List); ok && depth < maxDepth {
				nested = append(nested, w.list(l, marker, depth+1)...)
				continue
			}
			var s string
			if p, ok := c.(*ast.Paragraph); ok {
				s = w.inline(p, false, false)
			} else if tb, ok := c.(*ast.TextBlock); ok {
				s = w.inline(tb, false, false)
			} else {
				s = w.block(c, depth+1)
			}
			if s = strings.Join(strings.Fields(s), " "); s != "" {
				text = append(text, s)
			}
		}
		out = append(out, strings.TrimRight(marker+" "+strings.Join(text, " "), " "))
		out = append(out, nested...)
	}
	return out
}

// table writes a GFM table: its header row with "_." cells.
func (w *writer) table(t *east.Table) string {
	var rows []string
	for r := t.FirstChild(); r != nil; r = r.NextSibling() {
		_, header := r.(*east.TableHeader)
		var b strings.Builder
		b.WriteString("|")
		for c := r.FirstChild(); c != nil; c = c.NextSibling() {
			if header {
				b.WriteString("_. ")
			} else {
				b.WriteString(" ")
			}
			b.WriteString(strings.ReplaceAll(w.inline(c, true, false), "\n", " "))
			b.WriteString(" |")
		}
		rows = append(rows, b.String())
	}
	return strings.Join(rows, "\n")
}

// inline writes a block's inline content. Runs of text that Redmine
// would read as markup are wrapped in <notextile>; should the whole
// still read differently (a phrase spanning two runs), every run with a
// markup character is wrapped. protect keeps lines from starting blocks
// (see protectLines).
func (w *writer) inline(n ast.Node, table, protect bool) string {
	x := inlineWriter{w: w, table: table}
	x.walk(n, 0)
	x.flush()
	out := x.b.String()
	if protect {
		out = protectLines(out)
	}
	if w.budget > 0 {
		o := inlineOut{budget: &w.budget}
		inline(out, &o, 0)
		if o.t.String() == x.plain.String() {
			return out
		}
	}
	x = inlineWriter{w: w, table: table, strict: true}
	x.walk(n, 0)
	x.flush()
	if protect {
		return protectLines(x.b.String())
	}
	return x.b.String()
}

type inlineWriter struct {
	w       *writer
	table   bool
	strict  bool
	b       strings.Builder // Textile
	plain   strings.Builder // the text a reader sees
	pending strings.Builder // text not yet escaped
}

func (x *inlineWriter) text(s string) { x.pending.WriteString(s) }

func (x *inlineWriter) flush() {
	if x.pending.Len() == 0 {
		return
	}
	s := x.pending.String()
	x.pending.Reset()
	x.plain.WriteString(s)
	x.b.WriteString(escapeRunBudget(s, x.table, x.strict, &x.w.budget))
}

func (x *inlineWriter) markup(s string) {
	x.flush()
	x.b.WriteString(s)
}

// prev is the last byte written, 0 at the start.
func (x *inlineWriter) prev() byte {
	x.flush()
	s := x.b.String()
	if s == "" {
		return 0
	}
	return s[len(s)-1]
}

func (x *inlineWriter) walk(parent ast.Node, depth int) {
	for n := parent.FirstChild(); n != nil; n = n.NextSibling() {
		if depth > maxDepth {
			x.text(string(n.Text(x.w.src))) //nolint:staticcheck // plain text is all that is wanted here
			continue
		}
		switch n := n.(type) {
		case *ast.Text:
			if n.IsRaw() {
				x.text(string(n.Value(x.w.src)))
			} else {
				x.text(markup.UnescapeMarkdown(n.Value(x.w.src)))
			}
			switch {
			case n.HardLineBreak():
				x.markup("\n")
				x.plain.WriteByte('\n')
			case n.SoftLineBreak():
				x.text(" ")
			}
		case *ast.String:
			x.text(string(n.Value))
		case *ast.CodeSpan:
			x.code(codeText(n, x.w.src), nextByte(n, x.w.src))
		case *ast.Emphasis:
			d := "_"
			if n.Level >= 2 {
				d = "*"
			}
			x.phrase(n, d, depth)
		case *east.Strikethrough:
			x.phrase(n, "-", depth)
		case *ast.Link:
			x.link(n, string(n.Destination), depth)
		case *ast.AutoLink:
			u := string(n.URL(x.w.src))
			if n.AutoLinkType == ast.AutoLinkEmail {
				x.text(string(n.Label(x.w.src)))
				continue
			}
			next := nextByte(n, x.w.src)
			if p := x.prev(); (p == 0 || p == ' ') && (next == 0 || next == ' ') && bareURL(u) == len(u) && !x.table {
				x.markup(u)
				x.plain.WriteString(u)
				continue
			}
			x.markup(`"` + linkText(u) + `":` + x.url(u))
			x.plain.WriteString(u)
		case *ast.Image:
			x.markup(x.image(n))
		case *ast.RawHTML:
			var b strings.Builder
			for i := 0; i < n.Segments.Len(); i++ {
				seg := n.Segments.At(i)
				b.Write(seg.Value(x.w.src))
			}
			if s := b.String(); strings.HasPrefix(s, "<!--") {
				x.markup(s) // hidden by Redmine, read back as nothing
			} else {
				x.text(s)
			}
		default:
			x.walk(n, depth+1)
		}
	}
}

// code writes inline code: @x@ where Redmine reads it so, else <code>.
func (x *inlineWriter) code(s string, next byte) {
	p := x.prev()
	if s != "" && !strings.ContainsAny(s, "@\n") && strings.TrimSpace(s) == s && !isWord(p) && !isWord(next) &&
		!(x.table && strings.Contains(s, "|")) {
		x.markup("@" + s + "@")
	} else if !strings.Contains(s, "</code>") {
		x.markup("<code>" + s + "</code>")
	} else {
		x.text(s)
		return
	}
	x.plain.WriteString(s)
}

// phrase writes emphasis or strikethrough. Textile phrases open only
// after a space, '(' or another phrase's opener and close before a space
// or punctuation: elsewhere (inside a word) only the text is written.
func (x *inlineWriter) phrase(n ast.Node, d string, depth int) {
	p := x.prev()
	next := nextByte(n, x.w.src)
	if !(p == 0 || strings.IndexByte(" (>*_-\"", p) >= 0) || isWord(next) {
		x.walk(n, depth+1)
		return
	}
	x.markup(d)
	mark := x.b.Len()
	x.walk(n, depth+1)
	x.flush()
	inner := x.b.String()[mark:]
	if inner == "" || isSpace(inner[0]) || isSpace(inner[len(inner)-1]) {
		// Nothing to mark, or a phrase Textile cannot open: undo the
		// opener, keep the text.
		s := x.b.String()
		x.b.Reset()
		x.b.WriteString(s[:mark-len(d)] + inner)
		return
	}
	x.markup(d)
}

// link writes "text":url; a link around a single image is !img!:url.
// Redmine shows link text as typed, so formatting inside it is dropped,
// except that a phrase around the whole text goes outside the link.
func (x *inlineWriter) link(n *ast.Link, dest string, depth int) {
	if img, ok := n.FirstChild().(*ast.Image); ok && n.ChildCount() == 1 {
		x.markup(x.image(img) + ":" + x.url(dest))
		return
	}
	label := plainText(n, x.w.src, depth)
	if label == "" {
		label = dest
	}
	open, closing := "", ""
	if e, ok := n.FirstChild().(*ast.Emphasis); ok && n.ChildCount() == 1 {
		open = "_"
		if e.Level >= 2 {
			open = "*"
		}
		closing = open
		if p := x.prev(); !(p == 0 || strings.IndexByte(" (>", p) >= 0) || isWord(nextByte(n, x.w.src)) {
			open, closing = "", ""
		}
	}
	x.markup(open + `"` + linkText(label) + `":` + x.url(dest) + closing)
	x.plain.WriteString(label)
}

func (x *inlineWriter) image(n *ast.Image) string {
	alt := strings.NewReplacer("(", "", ")", "", "!", "", "\n", " ").Replace(plainText(n, x.w.src, 0))
	s := "!" + x.url(string(n.Destination))
	if alt != "" {
		s += "(" + alt + ")"
	}
	return s + "!"
}

// url makes a destination safe inside Textile: no spaces, quotes or
// characters that would end it early.
func (x *inlineWriter) url(u string) string {
	r := strings.NewReplacer(" ", "%20", "\"", "%22", "<", "%3C", ">", "%3E", "!", "%21", "\n", "")
	u = r.Replace(u)
	if x.table {
		u = strings.ReplaceAll(u, "|", "%7C")
	}
	// A trailing full stop or bracket would be read as the sentence's.
	if n := len(u); n > 0 && strings.IndexByte(".,;:?')", u[n-1]) >= 0 {
		u = u[:n-1] + "%" + strings.ToUpper(strconv.FormatInt(int64(u[n-1]), 16))
	}
	return u
}

// linkText escapes what would end link text early or read as an entity.
func linkText(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"':
			b.WriteString("&quot;")
		case c == '&' && entityAt(s, i):
			b.WriteString("&amp;")
		case c == '\n':
			b.WriteByte(' ')
		case c == ')' && i == len(s)-1:
			b.WriteString("&#41;") // else "(...)" at the end reads as a title
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

func entityAt(s string, i int) bool {
	_, n := entity(s[i:])
	return n > 0
}

// specials are the characters any Textile markup starts with.
const specials = "*_-+^~%?@!\"|=<&"

// escapeRun returns text that Redmine shows as s: s itself when it reads
// as plain text, else s in <notextile> (or, when s itself holds that
// tag, with entities). In strict mode every run holding a markup
// character is wrapped.
func escapeRun(s string, table, strict bool) string {
	budget := 64*len(s) + 1<<12
	return escapeRunBudget(s, table, strict, &budget)
}

func escapeRunBudget(s string, table, strict bool, budget *int) string {
	if s == "" {
		return s
	}
	needs := table && strings.Contains(s, "|")
	if !needs && strict {
		needs = strings.ContainsAny(s, specials)
	}
	if !needs {
		if *budget <= 0 {
			needs = strings.ContainsAny(s, specials)
		} else {
			o := inlineOut{budget: budget}
			inline(s, &o, 0)
			needs = o.t.String() != s
		}
	}
	if !needs {
		return s
	}
	if !strings.Contains(s, "notextile") {
		return "<notextile>" + s + "</notextile>"
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		// ':' too: else a URL in the text would be linked and run on
		// into the entities after it.
		if strings.IndexByte(specials, s[i]) >= 0 || s[i] == ':' {
			b.WriteString("&#" + strconv.Itoa(int(s[i])) + ";")
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// lineStart matches what makes a line a block of its own in Textile.
var lineStart = regexp.MustCompile(`^[ \t]*(?:(?:h[1-6]|p|bq|bc|pre|fn[0-9]+|notextile|table|clear|dl)` + attrs + `\.\.?(?::\S+)?(?: |$)|[*#]+` + attrs + ` |(?:` + attr + `+\.[ \t]*)?\||>|-{3,}[ \t]*$|\*{3,}[ \t]*$|<pre|<!--)`)

// protectLines keeps a paragraph's lines from starting a block: a
// leading signature is wrapped in <notextile>.
func protectLines(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		if m := lineStart.FindString(l); m != "" {
			lines[i] = "<notextile>" + m + "</notextile>" + l[len(m):]
		}
	}
	return strings.Join(lines, "\n")
}

// nextByte is the first byte of the text after n, 0 when none follows
// in the same block.
func nextByte(n ast.Node, src []byte) byte {
	for s := n.NextSibling(); s != nil; s = s.FirstChild() {
		switch t := s.(type) {
		case *ast.Text:
			if v := t.Value(src); len(v) > 0 {
				return v[0]
			}
			if t.SoftLineBreak() || t.HardLineBreak() {
				return ' '
			}
			return 0
		case *ast.String:
			if len(t.Value) > 0 {
				return t.Value[0]
			}
			return 0
		case *ast.CodeSpan, *ast.Link, *ast.Image, *ast.AutoLink, *ast.RawHTML:
			return '<' // markup: neither a space nor a word
		}
		if !s.HasChildren() {
			return 0
		}
	}
	return 0
}

func codeText(n *ast.CodeSpan, src []byte) string {
	var b strings.Builder
	for t := n.FirstChild(); t != nil; t = t.NextSibling() {
		switch t := t.(type) {
		case *ast.Text:
			b.Write(t.Value(src))
		case *ast.String:
			b.Write(t.Value)
		}
	}
	return strings.ReplaceAll(b.String(), "\n", " ")
}

// plainText is what a reader sees of inline nodes: text, code and link
// text, without images.
func plainText(parent ast.Node, src []byte, depth int) string {
	var b strings.Builder
	for n := parent.FirstChild(); n != nil; n = n.NextSibling() {
		switch t := n.(type) {
		case *ast.Text:
			if t.IsRaw() {
				b.Write(t.Value(src))
			} else {
				b.WriteString(markup.UnescapeMarkdown(t.Value(src)))
			}
			if t.SoftLineBreak() || t.HardLineBreak() {
				b.WriteByte(' ')
			}
		case *ast.String:
			b.Write(t.Value)
		case *ast.CodeSpan:
			b.WriteString(codeText(t, src))
		case *ast.AutoLink:
			b.Write(t.Label(src))
		case *ast.Image, *ast.RawHTML:
		default:
			if depth < maxDepth {
				b.WriteString(plainText(n, src, depth+1))
			}
		}
	}
	return b.String()
}
