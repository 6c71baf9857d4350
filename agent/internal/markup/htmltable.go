package markup

import (
	"strings"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// table converts a table to a GFM pipe table (the first row is the
// header, as GFM requires one), or in plain mode to one line per row with
// cells separated by " | ". Cell content is inline: paragraphs and line
// breaks inside a cell become <br>, which MarkdownToHTML keeps.
func (c *htmlConv) table(n *html.Node, depth int) (block, bool) {
	var rows [][]string
	var aligns []string
	var caption string
	var walk func(*html.Node)
	walk = func(p *html.Node) {
		for ch := p.FirstChild; ch != nil; ch = ch.NextSibling {
			if ch.Type != html.ElementNode {
				continue
			}
			switch ch.DataAtom {
			case atom.Thead, atom.Tbody, atom.Tfoot:
				walk(ch)
			case atom.Caption:
				in := c.newInline(breakSpace, false)
				in.children(ch, depth)
				caption = in.finish()
			case atom.Tr:
				var row []string
				for cell := ch.FirstChild; cell != nil; cell = cell.NextSibling {
					if cell.Type != html.ElementNode || (cell.DataAtom != atom.Td && cell.DataAtom != atom.Th) {
						continue
					}
					brk := breakHTML
					if c.plain {
						brk = breakSpace
					}
					in := c.newInline(brk, !c.plain)
					in.edgePrev, in.edgeNext = ' ', ' ' // "| cell |"
					in.children(cell, depth)
					row = append(row, in.finish())
					if len(rows) == 0 {
						aligns = append(aligns, cellAlign(cell))
					}
				}
				if len(row) > 0 {
					rows = append(rows, row)
				}
			}
		}
	}
	walk(n)
	cols := 0
	for _, r := range rows {
		cols = max(cols, len(r))
	}
	if cols == 0 {
		if caption != "" {
			return c.para(caption), true
		}
		return block{}, false
	}
	var b strings.Builder
	if caption != "" {
		b.WriteString(c.para(caption).text + "\n\n")
	}
	for i, r := range rows {
		if i > 0 {
			b.WriteByte('\n')
		}
		for len(r) < cols {
			r = append(r, "")
		}
		if c.plain {
			for len(r) > 0 && r[len(r)-1] == "" {
				r = r[:len(r)-1]
			}
			b.WriteString(strings.Join(r, " | "))
		} else {
			b.WriteString("| " + strings.Join(r, " | ") + " |")
		}
		if i == 0 && !c.plain {
			b.WriteString("\n|")
			for j := range cols {
				a := ""
				if j < len(aligns) {
					a = aligns[j]
				}
				switch a {
				case "left":
					b.WriteString(" :-- |")
				case "right":
					b.WriteString(" --: |")
				case "center":
					b.WriteString(" :-: |")
				default:
					b.WriteString(" --- |")
				}
			}
		}
	}
	return block{kind: blockTable, text: b.String()}, true
}

// cellAlign reads a header cell's alignment from align= or the style
// text-align (what goldmark and most editors write).
func cellAlign(n *html.Node) string {
	if a := strings.ToLower(strings.TrimSpace(attr(n, "align"))); a != "" {
		return a
	}
	for _, decl := range strings.Split(attr(n, "style"), ";") {
		k, v, ok := strings.Cut(decl, ":")
		if ok && strings.EqualFold(strings.TrimSpace(k), "text-align") {
			return strings.ToLower(strings.TrimSpace(v))
		}
	}
	return ""
}
