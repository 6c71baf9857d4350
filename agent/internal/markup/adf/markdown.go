package adf

import (
	"fmt"
	"strings"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/extension"
	east "github.com/yuin/goldmark/extension/ast"
	"github.com/yuin/goldmark/text"

	"github.com/lockstep-sync/lockstep/agent/internal/markup"
)

// maxRichText bounds the Markdown a conversion accepts. Jira caps a text
// field at 32,767 characters; anything far beyond is not a description.
const maxRichText = 1 << 20

// mdParser is CommonMark plus ~~strikethrough~~ (which ADF and wiki markup
// both have). Bare URLs are deliberately not linkified: text must survive a
// round trip as text.
var mdParser = goldmark.New(goldmark.WithExtensions(extension.Strikethrough)).Parser()

// FromMarkdown parses Markdown into an ADF document. HTML comments (the
// engine's markers) are dropped, other raw HTML is kept as text.
func FromMarkdown(markdown string) (doc *Node, err error) {
	if len(markdown) > maxRichText {
		return nil, fmt.Errorf("convert Markdown: longer than %d bytes", maxRichText)
	}
	// A parser bug on hostile input must cost one field, not the agent.
	defer func() {
		if p := recover(); p != nil {
			doc, err = nil, fmt.Errorf("convert Markdown: %s", markup.PanicText(p))
		}
	}()
	src := []byte(strings.ToValidUTF8(markdown, "\uFFFD"))
	root := mdParser.Parse(text.NewReader(src))
	c := mdConverter{src: src}
	return newDoc(c.blocks(root, 0)), nil
}

type mdConverter struct {
	src []byte
}

func (c *mdConverter) blocks(parent ast.Node, depth int) []*Node {
	var out []*Node
	for n := parent.FirstChild(); n != nil; n = n.NextSibling() {
		if b := c.block(n, depth); b != nil {
			out = append(out, b...)
		}
	}
	return out
}

func (c *mdConverter) block(n ast.Node, depth int) []*Node {
	if depth > maxDepth {
		return []*Node{{Type: "paragraph", Content: []*Node{textNode(string(n.Text(c.src)))}}} //nolint:staticcheck // plain text is all that is wanted here
	}
	switch n := n.(type) {
	case *ast.Paragraph, *ast.TextBlock:
		content := c.inlines(n, nil, depth)
		if len(content) == 0 {
			return nil
		}
		return []*Node{{Type: "paragraph", Content: content}}
	case *ast.Heading:
		return []*Node{{Type: "heading", Attrs: map[string]any{"level": n.Level}, Content: c.inlines(n, nil, depth)}}
	case *ast.List:
		list := &Node{Type: "bulletList"}
		if n.IsOrdered() {
			list.Type = "orderedList"
			if n.Start != 1 {
				list.Attrs = map[string]any{"order": n.Start}
			}
		}
		for it := n.FirstChild(); it != nil; it = it.NextSibling() {
			item := &Node{Type: "listItem", Content: c.blocks(it, depth+1)}
			if len(item.Content) == 0 {
				item.Content = []*Node{{Type: "paragraph"}}
			}
			list.Content = append(list.Content, item)
		}
		return []*Node{list}
	case *ast.FencedCodeBlock, *ast.CodeBlock:
		var b strings.Builder
		lines := n.Lines()
		for i := 0; i < lines.Len(); i++ {
			seg := lines.At(i)
			b.Write(seg.Value(c.src))
		}
		code := &Node{Type: "codeBlock", Content: []*Node{}}
		if s := strings.TrimSuffix(b.String(), "\n"); s != "" {
			code.Content = []*Node{textNode(s)}
		}
		if f, ok := n.(*ast.FencedCodeBlock); ok {
			if lang := string(f.Language(c.src)); lang != "" {
				code.Attrs = map[string]any{"language": lang}
			}
		}
		return []*Node{code}
	case *ast.Blockquote:
		return []*Node{{Type: "blockquote", Content: c.blocks(n, depth+1)}}
	case *ast.ThematicBreak:
		return []*Node{{Type: "rule"}}
	case *ast.HTMLBlock:
		var b strings.Builder
		lines := n.Lines()
		for i := 0; i < lines.Len(); i++ {
			seg := lines.At(i)
			b.Write(seg.Value(c.src))
		}
		if n.HasClosure() {
			b.Write(n.ClosureLine.Value(c.src))
		}
		s := strings.TrimSpace(b.String())
		if n.HTMLBlockType == ast.HTMLBlockType2 || s == "" { // <!-- comment -->
			return nil
		}
		return []*Node{{Type: "paragraph", Content: []*Node{textNode(s)}}}
	default:
		if n.Type() == ast.TypeBlock && n.HasChildren() {
			return c.blocks(n, depth+1)
		}
		return nil
	}
}

// inlines converts a block's inline children; marks are those of the
// enclosing emphasis and links.
func (c *mdConverter) inlines(parent ast.Node, marks []Mark, depth int) []*Node {
	var out []*Node
	add := func(s string, ms []Mark) {
		if s == "" {
			return
		}
		if k := len(out) - 1; k >= 0 && out[k].Type == "text" && marksEqual(out[k].Marks, ms) {
			out[k].Text += s
			return
		}
		out = append(out, textNode(s, append([]Mark(nil), ms...)...))
	}
	for n := parent.FirstChild(); n != nil; n = n.NextSibling() {
		switch n := n.(type) {
		case *ast.Text:
			if n.IsRaw() {
				add(string(n.Value(c.src)), marks)
			} else {
				add(markup.UnescapeMarkdown(n.Value(c.src)), marks)
			}
			switch {
			case n.HardLineBreak():
				out = append(out, &Node{Type: "hardBreak"})
			case n.SoftLineBreak():
				add(" ", marks)
			}
		case *ast.String:
			add(string(n.Value), marks)
		case *ast.CodeSpan:
			var b strings.Builder
			for t := n.FirstChild(); t != nil; t = t.NextSibling() {
				if tn, ok := t.(*ast.Text); ok {
					b.Write(tn.Value(c.src))
				} else if s, ok := t.(*ast.String); ok {
					b.Write(s.Value)
				}
			}
			add(b.String(), withMark(marks, Mark{Type: "code"}))
		case *ast.Emphasis:
			m := Mark{Type: "em"}
			if n.Level >= 2 {
				m = Mark{Type: "strong"}
			}
			if depth > maxDepth {
				add(string(n.Text(c.src)), marks) //nolint:staticcheck
				continue
			}
			for _, x := range c.inlines(n, withMark(marks, m), depth+1) {
				appendInline(&out, x)
			}
		case *east.Strikethrough:
			for _, x := range c.inlines(n, withMark(marks, Mark{Type: "strike"}), depth+1) {
				appendInline(&out, x)
			}
		case *ast.Link:
			link := Mark{Type: "link", Attrs: map[string]any{"href": string(n.Destination)}}
			for _, x := range c.inlines(n, withMark(marks, link), depth+1) {
				appendInline(&out, x)
			}
		case *ast.AutoLink:
			u := string(n.URL(c.src))
			add(string(n.Label(c.src)), withMark(marks, Mark{Type: "link", Attrs: map[string]any{"href": u}}))
		case *ast.Image:
			// ADF images are media (attachments); the alt text and the
			// address survive as a link.
			alt := string(n.Text(c.src)) //nolint:staticcheck
			if alt == "" {
				alt = string(n.Destination)
			}
			add(alt, withMark(marks, Mark{Type: "link", Attrs: map[string]any{"href": string(n.Destination)}}))
		case *ast.RawHTML:
			var b strings.Builder
			for i := 0; i < n.Segments.Len(); i++ {
				seg := n.Segments.At(i)
				b.Write(seg.Value(c.src))
			}
			if s := b.String(); !strings.HasPrefix(s, "<!--") {
				add(s, marks)
			}
		default:
			if n.HasChildren() && depth <= maxDepth {
				for _, x := range c.inlines(n, marks, depth+1) {
					appendInline(&out, x)
				}
			}
		}
	}
	return out
}

func appendInline(out *[]*Node, x *Node) {
	if k := len(*out) - 1; k >= 0 && x.Type == "text" && (*out)[k].Type == "text" && marksEqual((*out)[k].Marks, x.Marks) {
		(*out)[k].Text += x.Text
		return
	}
	*out = append(*out, x)
}

func withMark(marks []Mark, m Mark) []Mark {
	out := make([]Mark, 0, len(marks)+1)
	for _, x := range marks {
		if x.Type != m.Type {
			out = append(out, x)
		}
	}
	return append(out, m)
}

func marksEqual(a, b []Mark) bool {
	if len(a) != len(b) {
		return false
	}
	for _, x := range a {
		found := false
		for _, y := range b {
			if x.Type == y.Type && x.href() == y.href() {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}
