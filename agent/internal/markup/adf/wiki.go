package adf

import (
	"strconv"
	"strings"
)

// Jira Server and Data Center keep rich text as wiki markup (v2 API). The
// writer and reader below cover what ADF and Markdown share: paragraphs,
// headings, *bold*, _italic_, {{code}}, -strike-, [links|url], nested
// bullet and numbered lists, {code} blocks, {quote}, ---- and line breaks.

// MarkdownToWiki converts Markdown to wiki markup.
func MarkdownToWiki(markdown string) (string, error) {
	doc, err := FromMarkdown(markdown)
	if err != nil {
		return "", err
	}
	return ToWiki(doc), nil
}

// WikiToMarkdown converts wiki markup to Markdown.
func WikiToMarkdown(wiki string) string { return ToMarkdown(FromWiki(wiki)) }

// ToWiki renders a document as wiki markup.
func ToWiki(doc *Node) string {
	if doc == nil {
		return ""
	}
	return strings.TrimRight(wikiBlocks(doc.Content, "", 0), "\n")
}

func wikiBlocks(nodes []*Node, listPrefix string, depth int) string {
	var parts []string
	for _, n := range nodes {
		if s := wikiBlock(n, listPrefix, depth); s != "" {
			parts = append(parts, s)
		}
	}
	return strings.Join(parts, "\n\n")
}

func wikiBlock(n *Node, listPrefix string, depth int) string {
	if n == nil {
		return ""
	}
	if depth > maxDepth {
		return escapeWiki(plainText(n))
	}
	switch n.Type {
	case "paragraph":
		return wikiInline(n.Content)
	case "heading":
		level := min(max(n.attrInt("level", 1), 1), 6)
		return "h" + strconv.Itoa(level) + ". " + wikiInline(n.Content)
	case "bulletList", "orderedList":
		marker := "*"
		if n.Type == "orderedList" {
			marker = "#"
		}
		prefix := listPrefix + marker
		var lines []string
		for _, item := range n.Content {
			if item == nil {
				continue
			}
			children := item.Content
			if item.Type != "listItem" {
				children = []*Node{item}
			}
			var text []string
			var nested []string
			for _, c := range children {
				switch c.Type {
				case "bulletList", "orderedList":
					nested = append(nested, wikiBlock(c, prefix, depth+1))
				default:
					// Wiki list items are one line: further paragraphs
					// join with a line break.
					text = append(text, strings.ReplaceAll(wikiBlock(c, "", depth+1), "\n\n", " \\\\ "))
				}
			}
			lines = append(lines, prefix+" "+strings.Join(text, " \\\\ "))
			lines = append(lines, nested...)
		}
		return strings.Join(lines, "\n")
	case "codeBlock":
		lang := n.attrString("language")
		open := "{code}"
		if lang != "" && !strings.ContainsAny(lang, "}|:") {
			open = "{code:" + lang + "}"
		}
		return open + "\n" + plainText(n) + "\n{code}"
	case "blockquote":
		return "{quote}\n" + wikiBlocks(n.Content, "", depth+1) + "\n{quote}"
	case "rule":
		return "----"
	default:
		if len(n.Content) > 0 {
			if isInline(n.Content[0]) {
				return wikiInline(n.Content)
			}
			return wikiBlocks(n.Content, "", depth+1)
		}
		return escapeWiki(n.Text)
	}
}

func wikiInline(nodes []*Node) string {
	var b strings.Builder
	runs := inlines(nodes)
	for i, in := range runs {
		if in.brk {
			if i > 0 && i < len(runs)-1 {
				b.WriteString("\\\\ ")
			}
			continue
		}
		text := in.text
		lead := text[:len(text)-len(strings.TrimLeft(text, " "))]
		core := strings.TrimSpace(text)
		trail := strings.TrimLeft(text, " ")[len(core):]
		if core == "" {
			b.WriteString(text)
			continue
		}
		var s string
		if in.code {
			s = "{{" + escapeWiki(core) + "}}"
		} else {
			s = escapeWiki(core)
		}
		if in.strike {
			s = "-" + s + "-"
		}
		if in.em {
			s = "_" + s + "_"
		}
		if in.strong {
			s = "*" + s + "*"
		}
		if in.href != "" {
			if s == escapeWiki(in.href) {
				s = "[" + in.href + "]"
			} else {
				s = "[" + s + "|" + in.href + "]"
			}
		}
		b.WriteString(lead + s + trail)
	}
	return b.String()
}

// escapeWiki escapes the characters wiki markup would read as formatting.
func escapeWiki(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case '\\':
			// "\\" is a line break in wiki markup: a backslash is an entity.
			b.WriteString("&#92;")
			continue
		case '&':
			if entityAt(s, i) {
				b.WriteString("&amp;")
				continue
			}
		case '*', '_', '{', '}', '[', ']', '|', '^', '~', '+', '-', '?', '!', '#':
			b.WriteByte('\\')
		case '\n':
			b.WriteString("\\\\ ")
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

// FromWiki parses wiki markup into an ADF document.
func FromWiki(wiki string) *Node {
	if len(wiki) > maxRichText {
		wiki = wiki[:maxRichText]
	}
	p := wikiParser{lines: strings.Split(strings.ReplaceAll(wiki, "\r\n", "\n"), "\n")}
	return newDoc(p.blocks(""))
}

type wikiParser struct {
	lines []string
	i     int
}

// blocks reads blocks until end (a closing {quote}) or the end of input.
func (p *wikiParser) blocks(end string) []*Node {
	var out []*Node
	var para []string
	flush := func() {
		if len(para) > 0 {
			out = append(out, &Node{Type: "paragraph", Content: wikiInlines(strings.Join(para, "\n"))})
			para = nil
		}
	}
	for p.i < len(p.lines) {
		line := p.lines[p.i]
		trim := strings.TrimSpace(line)
		switch {
		case end != "" && strings.EqualFold(trim, end):
			p.i++
			flush()
			return out
		case trim == "":
			p.i++
			flush()
		case strings.HasPrefix(trim, "{code") || strings.HasPrefix(trim, "{noformat"):
			flush()
			out = append(out, p.code(trim))
		case strings.EqualFold(trim, "{quote}"):
			flush()
			p.i++
			out = append(out, &Node{Type: "blockquote", Content: p.blocks("{quote}")})
		case strings.HasPrefix(trim, "bq. "):
			flush()
			p.i++
			out = append(out, &Node{Type: "blockquote", Content: []*Node{{Type: "paragraph", Content: wikiInlines(trim[4:])}}})
		case trim == "----":
			flush()
			p.i++
			out = append(out, &Node{Type: "rule"})
		case len(trim) > 3 && trim[0] == 'h' && trim[1] >= '1' && trim[1] <= '6' && trim[2] == '.' && trim[3] == ' ':
			flush()
			p.i++
			out = append(out, &Node{Type: "heading", Attrs: map[string]any{"level": int(trim[1] - '0')}, Content: wikiInlines(strings.TrimSpace(trim[4:]))})
		case listMarker(trim) != "":
			flush()
			out = append(out, p.list(0))
		default:
			para = append(para, line)
			p.i++
		}
	}
	flush()
	return out
}

// listMarker returns the run of * and # opening a list line ("*#" for a
// numbered item in a bullet item), or "".
func listMarker(line string) string {
	n := 0
	for n < len(line) && (line[n] == '*' || line[n] == '#') {
		n++
	}
	if n == 0 || n >= len(line) || line[n] != ' ' {
		return ""
	}
	return line[:n]
}

// list reads the items of one list at depth (marker length depth+1).
func (p *wikiParser) list(depth int) *Node {
	first := listMarker(strings.TrimSpace(p.lines[p.i]))
	kind := "bulletList"
	if first[min(depth, len(first)-1)] == '#' {
		kind = "orderedList"
	}
	list := &Node{Type: kind}
	for p.i < len(p.lines) {
		trim := strings.TrimSpace(p.lines[p.i])
		m := listMarker(trim)
		if m == "" || len(m) <= depth {
			break
		}
		if len(m) > depth+1 {
			// A nested list: it belongs to the last item.
			if len(list.Content) == 0 {
				list.Content = append(list.Content, &Node{Type: "listItem", Content: []*Node{{Type: "paragraph"}}})
			}
			last := list.Content[len(list.Content)-1]
			last.Content = append(last.Content, p.list(depth+1))
			continue
		}
		p.i++
		item := &Node{Type: "listItem", Content: []*Node{{Type: "paragraph", Content: wikiInlines(strings.TrimSpace(trim[len(m):]))}}}
		list.Content = append(list.Content, item)
	}
	return list
}

func (p *wikiParser) code(open string) *Node {
	tag := "{code"
	if strings.HasPrefix(open, "{noformat") {
		tag = "{noformat"
	}
	node := &Node{Type: "codeBlock", Content: []*Node{}}
	head, rest, _ := strings.Cut(open, "}")
	if tag == "{code" {
		if _, params, ok := strings.Cut(head, ":"); ok {
			lang := params
			for _, kv := range strings.Split(params, "|") {
				if k, v, ok := strings.Cut(kv, "="); ok {
					if k == "language" {
						lang = v
					}
				} else {
					lang = kv
				}
			}
			if lang != "" && !strings.Contains(lang, "=") {
				node.Attrs = map[string]any{"language": lang}
			}
		}
	}
	closing := tag + "}"
	var body []string
	// Content may start on the opening line and end on the closing one.
	if i := strings.Index(rest, closing); i >= 0 {
		p.i++
		if s := rest[:i]; s != "" {
			node.Content = []*Node{textNode(s)}
		}
		return node
	}
	if rest != "" {
		body = append(body, rest)
	}
	p.i++
	for p.i < len(p.lines) {
		line := p.lines[p.i]
		p.i++
		if i := strings.Index(line, closing); i >= 0 {
			if s := line[:i]; strings.TrimSpace(s) != "" {
				body = append(body, s)
			}
			break
		}
		body = append(body, line)
	}
	if s := strings.Join(body, "\n"); s != "" {
		node.Content = []*Node{textNode(s)}
	}
	return node
}

// wikiInlines parses a paragraph's text. A newline inside a paragraph is
// a line break in wiki markup, as is "\\".
func wikiInlines(s string) []*Node {
	var out []*Node
	add := func(n *Node) {
		if n.Type == "text" && n.Text == "" {
			return
		}
		appendInline(&out, n)
	}
	var walk func(s string, marks []Mark, depth int)
	walk = func(s string, marks []Mark, depth int) {
		var buf strings.Builder
		flush := func() {
			if buf.Len() > 0 {
				add(textNode(buf.String(), append([]Mark(nil), marks...)...))
				buf.Reset()
			}
		}
		for i := 0; i < len(s); i++ {
			c := s[i]
			switch {
			case c == '\n':
				flush()
				add(&Node{Type: "hardBreak"})
				continue
			case c == '\\' && i+1 < len(s) && s[i+1] == '\\':
				flush()
				add(&Node{Type: "hardBreak"})
				i++
				for i+1 < len(s) && s[i+1] == ' ' {
					i++
				}
				continue
			case c == '\\' && i+1 < len(s):
				buf.WriteByte(s[i+1])
				i++
				continue
			case c == '&':
				if r, n := entity(s[i:]); n > 0 {
					buf.WriteString(r)
					i += n - 1
					continue
				}
			case c == '{' && strings.HasPrefix(s[i:], "{{"):
				if j := strings.Index(s[i+2:], "}}"); j > 0 && depth < maxDepth {
					flush()
					walk(s[i+2:i+2+j], withMark(marks, Mark{Type: "code"}), depth+1)
					i += 2 + j + 1
					continue
				}
			case c == '[':
				if j := closingBracket(s, i); j > i+1 && depth < maxDepth {
					inner := s[i+1 : j]
					label, href, ok := cutUnescaped(inner, '|')
					if !ok {
						label, href = inner, inner
					}
					href = strings.TrimSpace(href)
					if strings.HasPrefix(href, "~") || strings.HasPrefix(href, "^") || strings.HasPrefix(href, "#") {
						break // user, attachment and anchor links stay text
					}
					flush()
					if !ok {
						add(textNode(href, withMark(marks, Mark{Type: "link", Attrs: map[string]any{"href": href}})...))
					} else {
						walk(label, withMark(marks, Mark{Type: "link", Attrs: map[string]any{"href": href}}), depth+1)
					}
					i = j
					continue
				}
			case c == '*' || c == '_' || c == '-' || c == '+' || c == '~' || c == '^':
				if j := closingDelim(s, i); j > 0 && depth < maxDepth {
					flush()
					inner := s[i+1 : j]
					switch c {
					case '*':
						walk(inner, withMark(marks, Mark{Type: "strong"}), depth+1)
					case '_':
						walk(inner, withMark(marks, Mark{Type: "em"}), depth+1)
					case '-':
						walk(inner, withMark(marks, Mark{Type: "strike"}), depth+1)
					default: // +inserted+, ~sub~, ^sup^: no Markdown form
						walk(inner, marks, depth+1)
					}
					i = j
					continue
				}
			}
			buf.WriteByte(c)
		}
		flush()
	}
	walk(s, nil, 0)
	// Trailing breaks carry no meaning and Markdown cannot end on one.
	for len(out) > 0 && out[len(out)-1].Type == "hardBreak" {
		out = out[:len(out)-1]
	}
	return out
}

// closingDelim finds the closing delimiter of a wiki phrase mark opened at
// i: the opener follows start or a non-word character and precedes a
// non-space; the closer follows a non-space and precedes a non-word
// character or the end. It returns -1 when there is none on the line.
func closingDelim(s string, i int) int {
	c := s[i]
	if i > 0 && isWord(s[i-1]) {
		return -1
	}
	if i+1 >= len(s) || s[i+1] == ' ' || s[i+1] == c || s[i+1] == '\n' {
		return -1
	}
	for j := i + 2; j < len(s); j++ {
		if s[j] == '\n' {
			return -1
		}
		if s[j] == '\\' {
			j++
			continue
		}
		if s[j] == c && s[j-1] != ' ' && (j+1 == len(s) || !isWord(s[j+1])) {
			return j
		}
	}
	return -1
}

func isWord(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c >= 0x80
}

// closingBracket finds the ']' closing the '[' at i on the same line.
func closingBracket(s string, i int) int {
	for j := i + 1; j < len(s); j++ {
		switch s[j] {
		case '\\':
			j++
		case '\n', '[':
			return -1
		case ']':
			return j
		}
	}
	return -1
}

func cutUnescaped(s string, sep byte) (string, string, bool) {
	for j := 0; j < len(s); j++ {
		if s[j] == '\\' {
			j++
			continue
		}
		if s[j] == sep {
			return s[:j], s[j+1:], true
		}
	}
	return s, "", false
}

var namedEntities = map[string]string{"amp": "&", "lt": "<", "gt": ">", "quot": "\"", "apos": "'", "nbsp": "\u00a0"}

// entity decodes the HTML entity s starts with ("&#92;", "&amp;"...),
// returning it and its length, or 0 when s starts with none.
func entity(s string) (string, int) {
	end := strings.IndexByte(s, ';')
	if end < 2 || end > 10 {
		return "", 0
	}
	name := s[1:end]
	if name[0] == '#' {
		var n int64
		var err error
		if len(name) > 1 && (name[1] == 'x' || name[1] == 'X') {
			n, err = strconv.ParseInt(name[2:], 16, 32)
		} else {
			n, err = strconv.ParseInt(name[1:], 10, 32)
		}
		if err != nil || n <= 0 || n > 0x10FFFF {
			return "", 0
		}
		return string(rune(n)), end + 1
	}
	if r, ok := namedEntities[name]; ok {
		return r, end + 1
	}
	return "", 0
}

// entityAt reports whether the '&' at s[i] would be read as an entity.
func entityAt(s string, i int) bool {
	_, n := entity(s[i:])
	return n > 0
}
