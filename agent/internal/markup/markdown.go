package markup

import (
	"bytes"
	"fmt"
	"regexp"
	"strings"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/extension"
	"github.com/yuin/goldmark/renderer"
	"github.com/yuin/goldmark/util"
)

// MaxRichTextBytes bounds the rich text a conversion accepts. Work systems
// cap descriptions far below this (Jira at 32 KB of text); a bigger value is
// an attachment pasted inline or an attack, and converting it would hold the
// sync worker for no benefit.
const MaxRichTextBytes = 8 << 20

// md is CommonMark with GitHub's extensions (tables, strikethrough, task
// lists, bare URLs as links), which is the Markdown connectors produce.
// goldmark's default safe mode already drops javascript:, vbscript:, file:
// and non-image data: URLs from links and images. Raw HTML goes through
// rawHTMLRenderer below.
var md = goldmark.New(
	goldmark.WithExtensions(extension.GFM),
	goldmark.WithRendererOptions(
		renderer.WithNodeRenderers(util.Prioritized(rawHTMLRenderer{}, 100)),
	),
)

// MarkdownToHTML renders Markdown (CommonMark + GFM) as HTML.
//
// Markdown a parser would need superlinear time for (containers nested
// dozens deep, tens of thousands of brackets or emphasis delimiters: no
// ticket looks like that) is rendered as escaped text in paragraphs
// instead, so one hostile description cannot hold a sync worker.
//
// HTML written inside the Markdown is shown as text, not passed through:
// the Markdown comes from whoever can edit a ticket in the other system, and
// passing their markup into this system's rich-text field would let them
// inject scripts or forms. Two exceptions: <br> stays a line break (common in
// table cells) and HTML comments, as issue templates leave them, are
// dropped.
func MarkdownToHTML(markdown string) (out string, err error) {
	if len(markdown) > MaxRichTextBytes {
		return "", fmt.Errorf("convert Markdown to HTML: longer than %d bytes", MaxRichTextBytes)
	}
	// A parser bug on hostile input must cost one field, not the agent.
	defer func() {
		if p := recover(); p != nil {
			out, err = "", fmt.Errorf("convert Markdown to HTML: %s", PanicText(p))
		}
	}()
	markdown = strings.ToValidUTF8(markdown, "\uFFFD")
	if tooComplex(markdown) {
		return plainHTML(markdown), nil
	}
	src := []byte(markdown)
	var buf bytes.Buffer
	if err := md.Convert(src, &buf); err != nil {
		return "", fmt.Errorf("convert Markdown to HTML: %w", err)
	}
	return strings.ToValidUTF8(buf.String(), "\uFFFD"), nil
}

// MarkdownToText renders Markdown as plain text: what a reader sees, with
// list markers, link targets after the link text and table cells separated
// by " | ".
func MarkdownToText(markdown string) (string, error) {
	h, err := MarkdownToHTML(markdown)
	if err != nil {
		return "", fmt.Errorf("convert Markdown to text: %w", err)
	}
	return HTMLToText(h)
}

// rawHTMLRenderer renders raw HTML nodes as escaped text.
type rawHTMLRenderer struct{}

func (rawHTMLRenderer) RegisterFuncs(reg renderer.NodeRendererFuncRegisterer) {
	reg.Register(ast.KindRawHTML, renderRawInline)
	reg.Register(ast.KindHTMLBlock, renderRawBlock)
}

var brTag = regexp.MustCompile(`(?i)^<br\s*/?>$`)

func renderRawInline(w util.BufWriter, source []byte, node ast.Node, entering bool) (ast.WalkStatus, error) {
	if !entering {
		return ast.WalkSkipChildren, nil
	}
	n := node.(*ast.RawHTML)
	var raw []byte
	for i := 0; i < n.Segments.Len(); i++ {
		s := n.Segments.At(i)
		raw = append(raw, s.Value(source)...)
	}
	switch {
	case bytes.HasPrefix(raw, []byte("<!--")):
	case brTag.Match(raw):
		_, _ = w.WriteString("<br>")
	default:
		_, _ = w.Write(util.EscapeHTML(raw))
	}
	return ast.WalkSkipChildren, nil
}

func renderRawBlock(w util.BufWriter, source []byte, node ast.Node, entering bool) (ast.WalkStatus, error) {
	if !entering {
		return ast.WalkSkipChildren, nil
	}
	n := node.(*ast.HTMLBlock)
	if n.HTMLBlockType == ast.HTMLBlockType2 { // a comment
		return ast.WalkSkipChildren, nil
	}
	var raw []byte
	for i := 0; i < n.Lines().Len(); i++ {
		s := n.Lines().At(i)
		raw = append(raw, s.Value(source)...)
	}
	if n.HasClosure() {
		raw = append(raw, n.ClosureLine.Value(source)...)
	}
	raw = bytes.TrimRight(raw, " \t\r\n")
	if brTag.Match(raw) {
		_, _ = w.WriteString("<p><br></p>\n")
		return ast.WalkSkipChildren, nil
	}
	_, _ = w.WriteString("<p>")
	_, _ = w.Write(util.EscapeHTML(raw))
	_, _ = w.WriteString("</p>\n")
	return ast.WalkSkipChildren, nil
}
