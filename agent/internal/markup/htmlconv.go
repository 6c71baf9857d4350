package markup

import (
	"fmt"
	"strings"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// HTMLToMarkdown converts HTML (a ticket description from a system that
// stores HTML) to CommonMark with GitHub's tables, strikethrough and task
// lists. Text reads the same after the Markdown is rendered again; markup
// Markdown cannot express (colours, underline, spans) is dropped and its
// text kept; scripts, styles, forms and embedded objects are dropped
// entirely, and so are javascript: links.
func HTMLToMarkdown(h string) (string, error) {
	return convertHTML(h, false)
}

// HTMLToText converts HTML to plain text: paragraphs separated by blank
// lines, list items with "- " or "1. ", table cells separated by " | ",
// links as "text (url)", images as their alt text.
func HTMLToText(h string) (string, error) {
	return convertHTML(h, true)
}

// maxNesting is how deep block structure is kept; deeper content is
// flattened to its text, so quote and list prefixes stay bounded.
const maxNesting = 32

// htmlConv holds the mode of one conversion.
type htmlConv struct {
	plain bool
	// budget bounds the work of isBlock look-aheads over the whole
	// conversion, keeping deep inline nesting from going quadratic.
	budget int
}

func convertHTML(h string, plain bool) (out string, err error) {
	what := "Markdown"
	if plain {
		what = "text"
	}
	if len(h) > MaxRichTextBytes {
		return "", fmt.Errorf("convert HTML to %s: longer than %d bytes", what, MaxRichTextBytes)
	}
	// A converter bug on hostile input must cost one field, not the agent.
	defer func() {
		if p := recover(); p != nil {
			out, err = "", fmt.Errorf("convert HTML to %s: %s", what, PanicText(p))
		}
	}()
	c := &htmlConv{plain: plain, budget: 4*len(h) + 1024}
	// NUL becomes U+FFFD as HTML and CommonMark parsers do; the fallback
	// tokenizer would keep it.
	h = strings.ReplaceAll(strings.ToValidUTF8(h, "\uFFFD"), "\x00", "\uFFFD")
	doc, perr := html.Parse(strings.NewReader(h))
	var blocks []block
	if perr != nil {
		// Only nesting deeper than the parser allows fails: keep the text.
		blocks = c.flatText(h)
	} else {
		blocks = c.container(doc, 0)
	}
	out = joinBlocks(blocks, false)
	if plain {
		return finishText(out), nil
	}
	// Markdown has no trailing spaces or extra blank lines to trim outside
	// code blocks, and inside them they are content.
	return strings.Trim(out, "\n"), nil
}

// flatText is the fallback for HTML the parser refuses: its text, one
// paragraph per block element.
func (c *htmlConv) flatText(h string) []block {
	z := html.NewTokenizer(strings.NewReader(h))
	in := c.newInline(breakLine, false)
	var out []block
	flush := func() {
		if s := in.finish(); s != "" {
			out = append(out, c.para(s))
		}
		in = c.newInline(breakLine, false)
	}
	skip := 0
	for {
		switch z.Next() {
		case html.ErrorToken:
			flush()
			return out
		case html.TextToken:
			if skip == 0 {
				in.text(string(z.Text()))
			}
		case html.StartTagToken, html.EndTagToken, html.SelfClosingTagToken:
			name, _ := z.TagName()
			a := atom.Lookup(name)
			if a == atom.Script || a == atom.Style {
				if z.Token().Type == html.StartTagToken {
					skip++
				} else if skip > 0 {
					skip--
				}
			}
			if blockTags[a] || a == atom.Br {
				flush()
			}
		}
	}
}

// finishText trims what no reader of plain text sees: trailing spaces and
// runs of blank lines.
func finishText(s string) string {
	lines := strings.Split(s, "\n")
	out := lines[:0]
	blank := 0
	for _, l := range lines {
		l = strings.TrimRight(l, " \t")
		if l == "" {
			blank++
			if blank > 1 {
				continue
			}
		} else {
			blank = 0
		}
		out = append(out, l)
	}
	return strings.Trim(strings.Join(out, "\n"), "\n")
}

// Kinds of Markdown block, for joining them.
const (
	blockPara = iota
	blockHeading
	blockCode
	blockQuote
	blockList
	blockTable
	blockRule
)

type block struct {
	kind   int
	text   string
	marker byte // a list's bullet or delimiter, for the next list to differ
	atom   atom.Atom
	// interrupts: a list that can start right after a paragraph line.
	interrupts bool
}

func (c *htmlConv) para(s string) block {
	if !c.plain {
		s = escapeLineStarts(s)
	}
	return block{kind: blockPara, text: s}
}

// joinBlocks joins blocks with blank lines, or in a tight list item with
// single newlines (see tightJoin).
func joinBlocks(bs []block, tight bool) string {
	var b strings.Builder
	for i, bl := range bs {
		if i > 0 {
			if tight {
				b.WriteString("\n")
			} else {
				b.WriteString("\n\n")
			}
		}
		b.WriteString(bl.text)
	}
	return b.String()
}

// tightJoin reports whether blocks can follow each other without blank
// lines and still parse as the same blocks: after a heading, a code block
// or a rule anything can; after a paragraph only what interrupts one (a
// fence, a heading, a quote, a list that starts with "-" or "1."). Anything
// else would merge into the paragraph, list, quote or table before it.
func tightJoin(bs []block) bool {
	for i := 1; i < len(bs); i++ {
		prev, next := bs[i-1], bs[i]
		switch prev.kind {
		case blockHeading, blockCode, blockRule:
			continue
		case blockPara:
			if next.kind == blockCode || next.kind == blockHeading || next.kind == blockQuote ||
				next.kind == blockList && next.interrupts {
				continue
			}
		}
		return false
	}
	return true
}

// container converts the children of n: runs of inline content become
// paragraphs, block children become their blocks.
func (c *htmlConv) container(n *html.Node, depth int) []block {
	var out []block
	in := c.newInline(breakLine, false)
	flush := func() {
		if s := in.finish(); s != "" {
			out = append(out, c.para(s))
		}
		in = c.newInline(breakLine, false)
	}
	for ch := n.FirstChild; ch != nil; ch = ch.NextSibling {
		if isDropped(ch) {
			continue
		}
		if !isBlock(ch, &c.budget) {
			in.node(ch, depth+1)
			continue
		}
		flush()
		var prev *block
		if len(out) > 0 {
			prev = &out[len(out)-1]
		}
		out = append(out, c.block(ch, depth+1, prev)...)
	}
	flush()
	return out
}

// block converts one block element.
func (c *htmlConv) block(n *html.Node, depth int, prev *block) []block {
	if depth > maxNesting {
		in := c.newInline(breakLine, false)
		in.text(textContent(n))
		if s := in.finish(); s != "" {
			return []block{c.para(s)}
		}
		return nil
	}
	switch n.DataAtom {
	case atom.H1, atom.H2, atom.H3, atom.H4, atom.H5, atom.H6:
		return c.heading(n, depth)
	case atom.Pre, atom.Listing, atom.Xmp, atom.Plaintext:
		return []block{c.pre(n)}
	case atom.Blockquote:
		inner := joinBlocks(c.container(n, depth), false)
		if inner == "" {
			return nil
		}
		return []block{{kind: blockQuote, text: prefixLines(inner, "> ", "> ")}}
	case atom.Ul, atom.Ol, atom.Menu, atom.Dir:
		if b, ok := c.list(n, depth, prev); ok {
			return []block{b}
		}
		return nil
	case atom.Table:
		if b, ok := c.table(n, depth); ok {
			return []block{b}
		}
		return nil
	case atom.Hr:
		return []block{{kind: blockRule, text: "---"}}
	}
	return c.container(n, depth)
}

func (c *htmlConv) heading(n *html.Node, depth int) []block {
	in := c.newInline(breakSpace, false)
	in.edgePrev = ' ' // after "# "
	in.children(n, depth)
	s := in.finish()
	if s == "" {
		return nil
	}
	if c.plain {
		return []block{{kind: blockHeading, text: s}}
	}
	if strings.HasSuffix(s, "#") {
		s = s[:len(s)-1] + `\#` // else a closing sequence
	}
	level := int(n.Data[1] - '0')
	return []block{{kind: blockHeading, text: strings.Repeat("#", level) + " " + s}}
}

// pre converts preformatted text to a fenced code block, keeping the
// language of <code class="language-go">.
func (c *htmlConv) pre(n *html.Node) block {
	raw := strings.ReplaceAll(textContent(n), "\r\n", "\n")
	text := strings.TrimSuffix(raw, "\n")
	if c.plain {
		return block{kind: blockCode, text: text}
	}
	lang := language(n)
	for ch := n.FirstChild; ch != nil && lang == ""; ch = ch.NextSibling {
		if ch.Type == html.ElementNode && ch.DataAtom == atom.Code {
			lang = language(ch)
		}
	}
	// A line of only spaces is a blank line to a Markdown parser inside a
	// list or quote; write it as one everywhere so it reads back the same.
	lines := strings.Split(text, "\n")
	for i, l := range lines {
		if strings.Trim(l, " \t") == "" {
			lines[i] = ""
		}
	}
	body := ""
	if raw != "" {
		body = strings.Join(lines, "\n") + "\n"
	}
	fence := codeFence(text)
	return block{kind: blockCode, text: fence + lang + "\n" + body + fence}
}

// language reads "language-go" or "lang-go" from a class attribute.
func language(n *html.Node) string {
	for _, cl := range strings.Fields(attr(n, "class")) {
		for _, p := range []string{"language-", "lang-"} {
			if l, ok := strings.CutPrefix(cl, p); ok {
				return strings.Map(func(r rune) rune {
					if r == '`' || r == '~' || r < ' ' {
						return -1
					}
					return r
				}, l)
			}
		}
	}
	return ""
}

// prefixLines puts first before the first line and rest before the
// others; blank lines get the prefix without trailing spaces.
func prefixLines(s, first, rest string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		p := rest
		if i == 0 {
			p = first
		}
		if l == "" {
			p = strings.TrimRight(p, " ")
		}
		lines[i] = p + l
	}
	return strings.Join(lines, "\n")
}
