package markup

import (
	"strings"

	"github.com/yuin/goldmark/util"
	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// Element classes for the HTML converters.

// dropped elements contribute nothing: not content a reader of the ticket
// sees (scripts, styles, embedded objects, form controls).
var droppedTags = map[atom.Atom]bool{
	atom.Head: true, atom.Title: true, atom.Meta: true, atom.Link: true,
	atom.Script: true, atom.Style: true, atom.Template: true, atom.Noscript: true,
	atom.Iframe: true, atom.Object: true, atom.Embed: true, atom.Video: true,
	atom.Audio: true, atom.Canvas: true, atom.Svg: true, atom.Math: true,
	atom.Button: true, atom.Select: true, atom.Textarea: true, atom.Input: true,
	atom.Frameset: true, atom.Frame: true, atom.Param: true, atom.Source: true,
	atom.Track: true, atom.Map: true, atom.Area: true,
}

// blockTags start a new block; anything else is inline.
var blockTags = map[atom.Atom]bool{
	atom.Html: true, atom.Body: true, atom.P: true, atom.Div: true,
	atom.H1: true, atom.H2: true, atom.H3: true, atom.H4: true, atom.H5: true, atom.H6: true,
	atom.Pre: true, atom.Blockquote: true, atom.Ul: true, atom.Ol: true, atom.Li: true,
	atom.Table: true, atom.Thead: true, atom.Tbody: true, atom.Tfoot: true, atom.Tr: true,
	atom.Td: true, atom.Th: true, atom.Caption: true, atom.Hr: true,
	atom.Section: true, atom.Article: true, atom.Main: true, atom.Header: true,
	atom.Footer: true, atom.Nav: true, atom.Aside: true, atom.Figure: true,
	atom.Figcaption: true, atom.Address: true, atom.Center: true, atom.Dl: true,
	atom.Dt: true, atom.Dd: true, atom.Details: true, atom.Summary: true,
	atom.Form: true, atom.Fieldset: true, atom.Legend: true, atom.Hgroup: true,
	atom.Menu: true, atom.Dir: true, atom.Listing: true, atom.Xmp: true,
	atom.Plaintext: true,
}

func isDropped(n *html.Node) bool {
	if n.Type == html.ElementNode {
		if droppedTags[n.DataAtom] {
			return !isCheckbox(n) // checkboxes are task-list markers
		}
		return n.Namespace != "" // foreign content (SVG, MathML) inside HTML
	}
	return n.Type != html.TextNode && n.Type != html.DocumentNode
}

// isBlock reports whether n must be converted as a block: a block element,
// or an inline element wrapping one (<a><div>...</div></a>), whose
// formatting is then lost but whose paragraphs are not merged.
func isBlock(n *html.Node, budget *int) bool {
	if n.Type != html.ElementNode || isDropped(n) {
		return false
	}
	if blockTags[n.DataAtom] {
		return true
	}
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		*budget--
		if *budget < 0 {
			return false
		}
		if isBlock(c, budget) {
			return true
		}
	}
	return false
}

func isCheckbox(n *html.Node) bool {
	return n.Type == html.ElementNode && n.DataAtom == atom.Input && strings.EqualFold(attr(n, "type"), "checkbox")
}

func attr(n *html.Node, name string) string {
	for _, a := range n.Attr {
		if a.Namespace == "" && a.Key == name {
			return a.Val
		}
	}
	return ""
}

func hasAttr(n *html.Node, name string) bool {
	for _, a := range n.Attr {
		if a.Namespace == "" && a.Key == name {
			return true
		}
	}
	return false
}

// textContent is the text of n's subtree, with <br> as a newline (for
// <pre> and <code>).
func textContent(n *html.Node) string {
	var b strings.Builder
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		switch {
		case n.Type == html.TextNode:
			b.WriteString(n.Data)
			return
		case n.Type == html.ElementNode && n.DataAtom == atom.Br:
			b.WriteByte('\n')
			return
		case isDropped(n) || isCheckbox(n):
			return
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n)
	return b.String()
}

// safeURL drops URLs that would run code in the target system's page.
func safeURL(u string) string {
	u = strings.TrimSpace(u)
	s := strings.ToLower(strings.Map(func(r rune) rune {
		if r <= ' ' {
			return -1 // browsers ignore control characters in schemes
		}
		return r
	}, u))
	for _, bad := range []string{"javascript:", "vbscript:", "file:"} {
		if strings.HasPrefix(s, bad) {
			return ""
		}
	}
	if strings.HasPrefix(s, "data:") && !strings.HasPrefix(s, "data:image/png") && !strings.HasPrefix(s, "data:image/gif") &&
		!strings.HasPrefix(s, "data:image/jpeg") && !strings.HasPrefix(s, "data:image/webp") {
		return ""
	}
	// Percent-encode the way MarkdownToHTML writes URLs, so a URL reads
	// the same after a round trip.
	return string(util.URLEscape([]byte(u), false))
}
