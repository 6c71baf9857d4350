package adf

import (
	"strconv"
	"strings"
)

// The Atlassian Document Format is Jira Cloud's rich text (v3 descriptions,
// comments and text custom fields). It also serves as this package's
// intermediate form: Markdown, ADF and wiki markup all convert through a
// Node tree, so each format needs one reader and one writer.

// Node is one ADF node.
type Node struct {
	Type    string         `json:"type"`
	Attrs   map[string]any `json:"attrs,omitempty"`
	Content []*Node        `json:"content,omitempty"`
	Text    string         `json:"text,omitempty"`
	Marks   []Mark         `json:"marks,omitempty"`
	Version int            `json:"version,omitempty"` // only on the doc node: 1
}

// Mark is an ADF text mark (strong, em, code, strike, link).
type Mark struct {
	Type  string         `json:"type"`
	Attrs map[string]any `json:"attrs,omitempty"`
}

// maxDepth bounds nesting when walking a document that came from a server
// or a user: deeper content is flattened to text rather than recursed into.
const maxDepth = 64

func newDoc(blocks []*Node) *Node {
	if blocks == nil {
		blocks = []*Node{}
	}
	return &Node{Type: "doc", Version: 1, Content: blocks}
}

func textNode(s string, marks ...Mark) *Node {
	return &Node{Type: "text", Text: s, Marks: marks}
}

func (m Mark) href() string {
	s, _ := m.Attrs["href"].(string)
	return s
}

func (n *Node) attrString(name string) string {
	switch v := n.Attrs[name].(type) {
	case string:
		return v
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	case int:
		return strconv.Itoa(v)
	}
	return ""
}

func (n *Node) attrInt(name string, def int) int {
	switch v := n.Attrs[name].(type) {
	case float64:
		return int(v)
	case int:
		return v
	case string:
		if i, err := strconv.Atoi(v); err == nil {
			return i
		}
	}
	return def
}

// ToMarkdown renders a document as Markdown (CommonMark with ~~strike~~).
// Nodes Markdown cannot express (panels, tables, mentions, media) keep their
// text; nothing is dropped silently except media without a name.
func ToMarkdown(doc *Node) string {
	if doc == nil {
		return ""
	}
	var w mdWriter
	w.blocks(doc.Content, 0)
	return strings.TrimRight(w.b.String(), "\n")
}

type mdWriter struct {
	b strings.Builder
}

// blocks writes block nodes separated by blank lines.
func (w *mdWriter) blocks(nodes []*Node, depth int) {
	first := true
	for _, n := range nodes {
		s := blockMarkdown(n, depth)
		if s == "" {
			continue
		}
		if !first {
			w.b.WriteString("\n\n")
		}
		first = false
		w.b.WriteString(s)
	}
}

func blocksMarkdown(nodes []*Node, depth int) string {
	var w mdWriter
	w.blocks(nodes, depth)
	return w.b.String()
}

func blockMarkdown(n *Node, depth int) string {
	if n == nil {
		return ""
	}
	if depth > maxDepth {
		return escapeMarkdown(plainText(n), true)
	}
	switch n.Type {
	case "paragraph":
		return inlineMarkdown(n.Content)
	case "heading":
		level := min(max(n.attrInt("level", 1), 1), 6)
		return strings.Repeat("#", level) + " " + inlineMarkdown(n.Content)
	case "bulletList", "orderedList":
		return listMarkdown(n, depth)
	case "codeBlock":
		code := plainText(n)
		fence := "```"
		for strings.Contains(code, fence) {
			fence += "`"
		}
		lang := strings.Fields(n.attrString("language") + " ")
		info := ""
		if len(lang) > 0 {
			info = lang[0]
		}
		return fence + info + "\n" + code + "\n" + fence
	case "blockquote":
		inner := blocksMarkdown(n.Content, depth+1)
		return prefixLines(inner, "> ", "> ")
	case "rule":
		return "---"
	case "text", "hardBreak", "mention", "emoji", "inlineCard", "date", "status":
		return inlineMarkdown([]*Node{n})
	case "mediaSingle", "mediaGroup", "media":
		name := n.attrString("alt")
		for _, c := range n.Content {
			if name == "" && c != nil {
				name = c.attrString("alt")
			}
		}
		if name == "" {
			return ""
		}
		return escapeMarkdown("["+name+"]", true)
	default:
		// panel, table, expand, decisionList...: keep the content.
		if len(n.Content) > 0 {
			if isInline(n.Content[0]) {
				return inlineMarkdown(n.Content)
			}
			return blocksMarkdown(n.Content, depth+1)
		}
		return escapeMarkdown(n.Text, true)
	}
}

func isInline(n *Node) bool {
	switch n.Type {
	case "text", "hardBreak", "mention", "emoji", "inlineCard", "date", "status":
		return true
	}
	return false
}

func listMarkdown(n *Node, depth int) string {
	ordered := n.Type == "orderedList"
	num := n.attrInt("order", 1)
	var out []string
	for _, item := range n.Content {
		if item == nil {
			continue
		}
		marker := "- "
		if ordered {
			marker = strconv.Itoa(num) + ". "
			num++
		}
		children := item.Content
		if item.Type != "listItem" {
			children = []*Node{item}
		}
		// Items are tight: a paragraph and a nested list sit on
		// consecutive lines, as people write them.
		var parts []string
		for _, c := range children {
			if s := blockMarkdown(c, depth+1); s != "" {
				parts = append(parts, s)
			}
		}
		body := strings.Join(parts, "\n")
		if body == "" {
			body = ""
		}
		out = append(out, prefixLines(body, marker, strings.Repeat(" ", len(marker))))
	}
	return strings.Join(out, "\n")
}

// prefixLines puts first before the first line and rest before the others
// (blank lines stay blank unless rest is a quote marker).
func prefixLines(s, first, rest string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		p := rest
		if i == 0 {
			p = first
		}
		if l == "" && strings.TrimSpace(p) == "" {
			continue
		}
		if l == "" {
			lines[i] = strings.TrimRight(p, " ")
			continue
		}
		lines[i] = p + l
	}
	return strings.Join(lines, "\n")
}

// plainText is the text of a node and its descendants, hard breaks as
// newlines.
func plainText(n *Node) string {
	var b strings.Builder
	var walk func(n *Node, depth int)
	walk = func(n *Node, depth int) {
		if n == nil || depth > 4*maxDepth {
			return
		}
		switch n.Type {
		case "hardBreak":
			b.WriteByte('\n')
		case "mention":
			b.WriteString(n.attrString("text"))
		case "emoji":
			b.WriteString(n.attrString("text"))
		case "inlineCard":
			b.WriteString(n.attrString("url"))
		default:
			b.WriteString(n.Text)
		}
		for _, c := range n.Content {
			walk(c, depth+1)
		}
	}
	walk(n, 0)
	return b.String()
}

// inline is a run of text with one set of marks.
type inline struct {
	text   string
	code   bool
	strong bool
	em     bool
	strike bool
	href   string
	brk    bool // a hard break
}

func inlines(nodes []*Node) []inline {
	var out []inline
	for _, n := range nodes {
		if n == nil {
			continue
		}
		var in inline
		switch n.Type {
		case "hardBreak":
			out = append(out, inline{brk: true})
			continue
		case "text":
			in.text = n.Text
		case "mention", "emoji", "inlineCard", "date", "status":
			in.text = plainText(n)
			if n.Type == "inlineCard" {
				in.href = in.text
			}
		default:
			in.text = plainText(n)
		}
		for _, m := range n.Marks {
			switch m.Type {
			case "strong":
				in.strong = true
			case "em":
				in.em = true
			case "code":
				in.code = true
			case "strike":
				in.strike = true
			case "link":
				in.href = m.href()
			}
		}
		if in.text == "" {
			continue
		}
		// Merge runs with the same marks, so "**a****b**" is never written.
		if k := len(out) - 1; k >= 0 && !out[k].brk && sameMarks(out[k], in) {
			out[k].text += in.text
			continue
		}
		out = append(out, in)
	}
	return out
}

func sameMarks(a, b inline) bool {
	a.text, b.text = "", ""
	return a == b
}

func inlineMarkdown(nodes []*Node) string {
	var b strings.Builder
	runs := inlines(nodes)
	for i, in := range runs {
		if in.brk {
			if i > 0 && i < len(runs)-1 {
				b.WriteString("\\\n")
			}
			continue
		}
		b.WriteString(runMarkdown(in))
	}
	return b.String()
}

// runMarkdown writes one run; whitespace at its edges goes outside the
// delimiters, where CommonMark's flanking rules want it.
func runMarkdown(in inline) string {
	text := in.text
	lead := text[:len(text)-len(strings.TrimLeft(text, " \t"))]
	text = strings.TrimLeft(text, " \t")
	core := strings.TrimRight(text, " \t")
	trail := text[len(core):]
	if core == "" {
		return escapeMarkdown(in.text, false)
	}
	var s string
	if in.code {
		s = codeSpan(core)
	} else {
		s = escapeMarkdown(core, false)
	}
	if in.strike {
		s = "~~" + s + "~~"
	}
	if in.em {
		s = "*" + s + "*"
	}
	if in.strong {
		s = "**" + s + "**"
	}
	if in.href != "" {
		s = "[" + s + "](" + linkDestination(in.href) + ")"
	}
	return escapeMarkdown(lead, false) + s + escapeMarkdown(trail, false)
}

func codeSpan(s string) string {
	s = strings.ReplaceAll(s, "\n", " ")
	longest, run := 0, 0
	for _, r := range s {
		if r == '`' {
			run++
			longest = max(longest, run)
		} else {
			run = 0
		}
	}
	fence := strings.Repeat("`", longest+1)
	if strings.HasPrefix(s, "`") || strings.HasSuffix(s, "`") ||
		(strings.HasPrefix(s, " ") && strings.HasSuffix(s, " ") && strings.Trim(s, " ") != "") {
		s = " " + s + " "
	}
	return fence + s + fence
}

func linkDestination(u string) string {
	if strings.ContainsAny(u, " ()<>\n") {
		r := strings.NewReplacer("<", "%3C", ">", "%3E", "\n", "%0A")
		return "<" + r.Replace(u) + ">"
	}
	return u
}

// escapeMarkdown escapes text so a CommonMark parser reads it back as the
// same text. block says s may start a line, where list, heading and quote
// markers must be escaped too.
func escapeMarkdown(s string, block bool) string {
	var b strings.Builder
	b.Grow(len(s) + 8)
	atLineStart := true
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case '\\', '`', '*', '_', '[', ']', '<', '>', '&', '~', '|':
			b.WriteByte('\\')
		case '#', '-', '+', '=':
			if atLineStart {
				b.WriteByte('\\')
			}
		case '.', ')':
			// "12. " or "1) " at the start of a line would open a list.
			if j := b.Len(); j > 0 && lineStartDigits(b.String()) {
				b.WriteByte('\\')
			}
		case '\n':
			b.WriteByte(c)
			atLineStart = true
			continue
		}
		b.WriteByte(c)
		if c != ' ' && c != '\t' {
			atLineStart = false
		}
	}
	_ = block
	return b.String()
}

// lineStartDigits reports whether the written text's last line is only
// digits (so a following '.' or ')' would make it an ordered list marker).
func lineStartDigits(written string) bool {
	line := written[strings.LastIndexByte(written, '\n')+1:]
	line = strings.TrimLeft(line, " ")
	if line == "" || len(line) > 9 {
		return false
	}
	for i := 0; i < len(line); i++ {
		if line[i] < '0' || line[i] > '9' {
			return false
		}
	}
	return true
}
