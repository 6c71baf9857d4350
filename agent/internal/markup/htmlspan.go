package markup

import (
	"strings"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// children converts n's children as inline content.
func (in *inline) children(n *html.Node, depth int) {
	for ch := n.FirstChild; ch != nil; ch = ch.NextSibling {
		in.node(ch, depth+1)
	}
}

// node converts one inline node. Block elements met here (inside a
// heading, a table cell or a link) keep their text, separated by breaks.
func (in *inline) node(n *html.Node, depth int) {
	if n.Type == html.TextNode {
		in.text(n.Data)
		return
	}
	if isDropped(n) || n.Type != html.ElementNode || isCheckbox(n) {
		return
	}
	if depth > maxNesting*4 {
		in.text(textContent(n))
		return
	}
	switch n.DataAtom {
	case atom.Br:
		in.br()
	case atom.Strong, atom.B:
		in.wrap(n, "**", depth, &in.strong)
	case atom.Em, atom.I, atom.Cite, atom.Dfn, atom.Var:
		in.wrap(n, "*", depth, &in.em)
	case atom.Del, atom.S, atom.Strike:
		in.wrap(n, "~~", depth, &in.del)
	case atom.Code, atom.Kbd, atom.Samp, atom.Tt:
		s := textContent(n)
		if in.c.plain {
			in.text(s)
			return
		}
		// Whitespace around the code is ordinary whitespace.
		core := strings.TrimFunc(s, isHTMLSpace)
		if core != s && strings.TrimLeftFunc(s, isHTMLSpace) != s {
			in.space()
		}
		if core != "" {
			in.toks = append(in.toks, token{kind: tokCode, s: core})
		}
		if core != s && strings.TrimRightFunc(s, isHTMLSpace) != s {
			in.space()
		}
	case atom.A:
		in.link(n, depth)
	case atom.Img:
		in.image(n)
	default:
		if blockTags[n.DataAtom] {
			in.blockBreak()
			in.children(n, depth)
			in.blockBreak()
			return
		}
		in.children(n, depth)
	}
}

// link writes <a href> as [text](url "title"), as <url> when the text is
// the URL itself, and in plain mode as "text (url)".
func (in *inline) link(n *html.Node, depth int) {
	href := safeURL(attr(n, "href"))
	if href == "" || strings.HasPrefix(href, "#") && in.c.plain {
		// An anchor without a target is its text.
		in.children(n, depth)
		return
	}
	ch := in.child()
	ch.children(n, depth)
	text, lead, trail := ch.finishEdges()
	if lead {
		in.space()
	}
	if trail {
		defer in.space()
	}
	visible := strings.TrimSpace(textContent(n))
	sameAsText := visible == href || "mailto:"+visible == href
	if in.c.plain {
		switch {
		case text == "":
			in.literal(strings.TrimPrefix(href, "mailto:"))
		case sameAsText:
			in.literal(text)
		default:
			in.literal(text + " (" + strings.TrimPrefix(href, "mailto:") + ")")
		}
		return
	}
	if addr, ok := strings.CutPrefix(href, "mailto:"); ok && (text == "" || sameAsText) && emailAutolink.MatchString(addr) {
		in.syntax("<" + addr + ">")
		return
	}
	if (text == "" || sameAsText) && autolinkURL.MatchString(href) && !strings.HasPrefix(href, "mailto:") && !strings.Contains(href, "&") {
		in.syntax("<" + href + ">")
		return
	}
	if text == "" {
		text = escapeText(href, in.inTable, '[', ']')
	}
	dest := linkDestination(href)
	if t := attr(n, "title"); t != "" {
		dest += " " + linkTitle(t)
	}
	in.syntax("[" + text + "](" + dest + ")")
}

// image writes ![alt](src "title"); in plain mode the alt text.
func (in *inline) image(n *html.Node) {
	alt := strings.Join(strings.Fields(attr(n, "alt")), " ")
	src := safeURL(attr(n, "src"))
	if in.c.plain || src == "" {
		if alt != "" {
			in.literal(alt)
		}
		return
	}
	dest := linkDestination(src)
	if t := attr(n, "title"); t != "" {
		dest += " " + linkTitle(t)
	}
	in.syntax("![" + escapeText(alt, in.inTable, '[', ']') + "](" + dest + ")")
}
