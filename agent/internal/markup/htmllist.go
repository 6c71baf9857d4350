package markup

import (
	"strconv"
	"strings"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// list converts <ul> or <ol>. A list right after another list of the same
// kind takes the other bullet ('*' after '-', ')' after '.') so Markdown
// does not merge the two.
func (c *htmlConv) list(n *html.Node, depth int, prev *block) (block, bool) {
	ordered := n.DataAtom == atom.Ol
	marker := byte('-')
	if ordered {
		marker = '.'
	}
	if prev != nil && prev.kind == blockList && prev.marker == marker && prev.atom == n.DataAtom {
		marker = map[byte]byte{'-': '*', '.': ')'}[marker]
	}
	start := 1
	if ordered && hasAttr(n, "start") {
		if v, err := strconv.Atoi(strings.TrimSpace(attr(n, "start"))); err == nil && v >= 0 && v <= 999_999_999 {
			start = v
		}
	}
	// An item is loose when its HTML has paragraphs (<li><p>) or its
	// blocks need blank lines between them; one loose item makes the whole
	// list loose, as in Markdown.
	var items [][]block
	tight := true
	for ch := n.FirstChild; ch != nil; ch = ch.NextSibling {
		if isDropped(ch) || (ch.Type == html.TextNode && strings.TrimSpace(ch.Data) == "") {
			continue
		}
		var blocks []block
		if ch.Type == html.ElementNode && ch.DataAtom == atom.Li {
			for g := ch.FirstChild; g != nil; g = g.NextSibling {
				if g.Type == html.ElementNode && g.DataAtom == atom.P {
					tight = false
				}
			}
			blocks = c.container(ch, depth)
			if box := firstCheckbox(ch); box != nil && len(blocks) > 0 && blocks[0].kind == blockPara {
				mark := "[ ] "
				if hasAttr(box, "checked") {
					mark = "[x] "
				}
				blocks[0].text = mark + blocks[0].text
			}
		} else {
			// Stray content in a list (broken HTML) becomes an item.
			if isBlock(ch, &c.budget) {
				blocks = c.block(ch, depth, nil)
			} else {
				in := c.newInline(breakLine, false)
				in.node(ch, depth)
				if s := in.finish(); s != "" {
					blocks = []block{c.para(s)}
				}
			}
		}
		if len(blocks) == 0 {
			// An empty item shows as a lone bullet, and Markdown parsers
			// disagree on what follows one: leave it out.
			continue
		}
		if blocks[0].kind == blockRule {
			blocks[0].text = "___" // "- ---" would be one long rule
		}
		tight = tight && tightJoin(blocks)
		items = append(items, blocks)
	}
	if len(items) == 0 {
		return block{}, false
	}
	if start+len(items)-1 > 999_999_999 {
		// Markers beyond CommonMark's nine digits would not be a list.
		start = 1
	}
	sep := "\n"
	if !tight {
		sep = "\n\n"
	}
	var b strings.Builder
	for i, it := range items {
		if i > 0 {
			b.WriteString(sep)
		}
		m := string(marker) + " "
		if ordered {
			m = strconv.Itoa(start+i) + string(marker) + " "
		}
		b.WriteString(prefixLines(joinBlocks(it, tight), m, strings.Repeat(" ", len(m))))
	}
	interrupts := !ordered || start == 1
	return block{kind: blockList, text: b.String(), marker: marker, atom: n.DataAtom, interrupts: interrupts}, true
}

// firstCheckbox returns the checkbox a task-list item starts with.
func firstCheckbox(li *html.Node) *html.Node {
	for ch := li.FirstChild; ch != nil; ch = ch.NextSibling {
		switch {
		case ch.Type == html.TextNode && strings.TrimSpace(ch.Data) == "":
		case isCheckbox(ch):
			return ch
		case ch.Type == html.ElementNode && ch.DataAtom == atom.P:
			return firstCheckbox(ch) // a loose task item: <li><p><input>
		default:
			return nil
		}
	}
	return nil
}
