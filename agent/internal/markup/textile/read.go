package textile

import (
	"fmt"
	"html"
	"regexp"
	"strconv"
	"strings"

	"github.com/lockstep-sync/lockstep/agent/internal/markup"
)

// ToMarkdown converts Textile as Redmine users write it to Markdown. It
// renders the Textile to HTML the way Redmine does and lets the mapping
// package's HTML converter write the Markdown, so every connector's
// Markdown has one style. A line holding only an HTML comment (Lockstep's
// markers) is kept as it is.
func ToMarkdown(textile string) (md string, err error) {
	if len(textile) > MaxBytes {
		return "", fmt.Errorf("convert Textile to Markdown: longer than %d bytes", MaxBytes)
	}
	// A converter bug on hostile input must cost one field, not the agent.
	defer func() {
		if p := recover(); p != nil {
			md, err = "", fmt.Errorf("convert Textile to Markdown: %s", markup.PanicText(p))
		}
	}()
	textile = strings.ToValidUTF8(strings.ReplaceAll(strings.ReplaceAll(textile, "\r\n", "\n"), "\r", "\n"), "\uFFFD")
	// Comment lines travel past the HTML converter (which drops comments)
	// as placeholder paragraphs no text can contain.
	token := "LOCKSTEPCOMMENT"
	for strings.Contains(textile, token) {
		token += "X"
	}
	budget := 64*len(textile) + 1<<16
	r := reader{lines: strings.Split(textile, "\n"), token: token, budget: &budget}
	var b strings.Builder
	r.blocks(&b, 0)
	out, err := markup.HTMLToMarkdown(b.String())
	if err != nil {
		return "", fmt.Errorf("convert Textile to Markdown: %w", err)
	}
	// Textile breaks lines a lot (every newline in a paragraph); the
	// Markdown must stay readable as text wherever it lands.
	out = markup.ReadableBreaks(out)
	if len(r.comments) > 0 {
		out = placeholder.ReplaceAllStringFunc(out, func(s string) string {
			if !strings.HasPrefix(s, token) {
				return s
			}
			n, err := strconv.Atoi(s[len(token) : len(s)-1])
			if err != nil || n >= len(r.comments) {
				return s
			}
			return r.comments[n]
		})
	}
	return out, nil
}

var placeholder = regexp.MustCompile(`LOCKSTEPCOMMENTX*[0-9]+Z`)

// Block signatures. attrs are Textile's (class), {style}, [lang] and
// alignment marks, which Markdown cannot carry and are dropped.
const (
	attr  = `(?:[<>=()]|\([^)\n]*\)|\{[^}\n]*\}|\[[^\]\n]*\])`
	attrs = attr + `*`
)

var (
	commentLine = regexp.MustCompile(`^[ \t]*<!--.*-->[ \t]*$`)
	blockSig    = regexp.MustCompile(`^(h[1-6]|p|bq|bc|pre|fn[0-9]+|notextile)` + attrs + `\.(\.)?(?::\S+)?(?: +(.*))?$`)
	tableSig    = regexp.MustCompile(`^table` + attrs + `\.[ \t]*$`)
	listLine    = regexp.MustCompile(`^([*#]+)` + attrs + ` +(.*)$`)
	rowLine     = regexp.MustCompile(`^(?:` + attr + `+\.[ \t]*)?\|(.*)$`)
	ruleLine    = regexp.MustCompile(`^(?:-{3,}|\*{3,})[ \t]*$`)
	cellAttrs   = regexp.MustCompile(`^(_)?(?:[\\/][0-9]+|[<>=^~]|<>|\([^)]*\)|\{[^}]*\}|\[[^\]]*\])*\. `)
)

type reader struct {
	lines []string
	i     int
	token string
	// comments holds the text of each placeholder: comment lines, and
	// paragraphs read as typed.
	comments []string
	budget   *int
	quoted   bool
}

func (r *reader) inline(s string) string {
	o := inlineOut{budget: r.budget}
	inline(s, &o, 0)
	return o.h.String()
}

// blocks reads blocks to the end of the lines, writing HTML.
func (r *reader) blocks(b *strings.Builder, depth int) {
	for r.i < len(r.lines) {
		line := r.lines[r.i]
		trim := strings.TrimSpace(line)
		switch {
		case trim == "":
			r.i++
		case commentLine.MatchString(line):
			r.i++
			b.WriteString("<p>" + r.token + strconv.Itoa(len(r.comments)) + "Z</p>")
			r.comments = append(r.comments, trim)
		case strings.HasPrefix(trim, "<pre>") || strings.HasPrefix(trim, "<pre "):
			r.pre(b)
		case ruleLine.MatchString(trim):
			r.i++
			b.WriteString("<hr>")
		case tableSig.MatchString(trim):
			r.i++
		case strings.HasPrefix(trim, ">") && depth < maxDepth:
			var inner []string
			for r.i < len(r.lines) && strings.HasPrefix(strings.TrimSpace(r.lines[r.i]), ">") {
				l := strings.TrimPrefix(strings.TrimSpace(r.lines[r.i]), ">")
				inner = append(inner, strings.TrimPrefix(l, " "))
				r.i++
			}
			sub := reader{lines: inner, token: r.token, comments: r.comments, budget: r.budget, quoted: true}
			b.WriteString("<blockquote>")
			sub.blocks(b, depth+1)
			b.WriteString("</blockquote>")
			r.comments = sub.comments
		case listLine.MatchString(trim):
			r.list(b)
		case rowLine.MatchString(trim):
			r.table(b)
		default:
			if m := blockSig.FindStringSubmatch(trim); m != nil {
				r.i++
				r.signed(b, m[1], m[3])
				continue
			}
			r.paragraph(b, "p", r.para(nil))
		}
	}
}

// para collects a paragraph's lines: up to a blank line, or a list,
// table, comment or code block, which Redmine starts without one.
func (r *reader) para(first []string) string {
	lines := first
	for r.i < len(r.lines) {
		line := r.lines[r.i]
		trim := strings.TrimSpace(line)
		if trim == "" || (len(lines) > 0 && (listLine.MatchString(trim) || rowLine.MatchString(trim) || strings.HasPrefix(trim, ">") ||
			commentLine.MatchString(line) || strings.HasPrefix(trim, "<pre"))) {
			break
		}
		lines = append(lines, trim)
		r.i++
	}
	return strings.Join(lines, "\n")
}

func (r *reader) paragraph(b *strings.Builder, tag, text string) {
	if strings.TrimSpace(text) == "" {
		return
	}
	// Outside quotes (whose lines the converter prefixes), a paragraph
	// without markup is its text as typed (typed.go); it travels past
	// the converter as a placeholder, like a comment line.
	if md, ok := asTyped(text, r.budget); ok && tag == "p" && !r.quoted {
		b.WriteString("<p>" + r.token + strconv.Itoa(len(r.comments)) + "Z</p>")
		r.comments = append(r.comments, md)
		return
	}
	b.WriteString("<" + tag + ">" + r.inline(text) + "</" + tag + ">")
}

// signed writes a block opened by a signature (h2. bq. bc. p. ...).
func (r *reader) signed(b *strings.Builder, sig, rest string) {
	text := r.para([]string{rest})
	switch {
	case sig[0] == 'h':
		r.paragraph(b, sig, strings.ReplaceAll(text, "\n", " "))
	case sig == "bq":
		if strings.TrimSpace(text) != "" {
			b.WriteString("<blockquote><p>" + r.inline(text) + "</p></blockquote>")
		}
	case sig == "bc" || sig == "pre":
		b.WriteString("<pre><code>" + html.EscapeString(text) + "</code></pre>")
	case sig == "notextile":
		if text != "" {
			b.WriteString("<p>" + strings.ReplaceAll(html.EscapeString(text), "\n", "<br>") + "</p>")
		}
	case strings.HasPrefix(sig, "fn"):
		r.paragraph(b, "p", sig[2:]+" "+text)
	default:
		r.paragraph(b, "p", text)
	}
}

var preOpen = regexp.MustCompile(`^<pre[^>]*>(?:<code(?:\s+class="([^"]*)")?[^>]*>)?`)

// pre reads <pre>...</pre>, optionally with <code class="lang"> inside,
// as a code block; the content is as typed.
func (r *reader) pre(b *strings.Builder) {
	rest := strings.Join(r.lines[r.i:], "\n")
	rest = rest[strings.Index(rest, "<pre"):]
	m := preOpen.FindStringSubmatch(rest)
	body := rest[len(m[0]):]
	end := strings.Index(body, "</pre>")
	consumed := len(body)
	if end >= 0 {
		consumed = end + len("</pre>")
		body = body[:end]
	}
	// Skip the lines used, up to the one holding </pre>.
	taken := strings.Count(rest[:len(m[0])+consumed], "\n")
	r.i += taken + 1
	body = strings.TrimSuffix(body, "</code>")
	body = strings.TrimPrefix(body, "\n")
	body = strings.TrimSuffix(body, "\n")
	class := ""
	if lang := strings.Fields(m[1] + " "); len(lang) > 0 && isIdent(lang[0]) {
		class = ` class="language-` + html.EscapeString(strings.TrimPrefix(lang[0], "language-")) + `"`
	}
	b.WriteString("<pre><code" + class + ">" + html.EscapeString(body) + "</code></pre>")
}

// list reads consecutive list lines into nested <ul>/<ol>. A line that
// is not a list line continues the item before it.
func (r *reader) list(b *strings.Builder) {
	type item struct {
		marker string
		text   string
	}
	var items []item
	for r.i < len(r.lines) {
		trim := strings.TrimSpace(r.lines[r.i])
		if m := listLine.FindStringSubmatch(trim); m != nil {
			items = append(items, item{marker: m[1], text: m[2]})
			r.i++
			continue
		}
		if trim == "" || rowLine.MatchString(trim) || commentLine.MatchString(trim) || strings.HasPrefix(trim, "<pre") {
			break
		}
		items[len(items)-1].text += "\n" + trim
		r.i++
	}
	// open is the stack of list tags; each level's depth is its index+1.
	var open []string
	closeTo := func(depth int) {
		for len(open) > depth {
			b.WriteString("</li></" + open[len(open)-1] + ">")
			open = open[:len(open)-1]
		}
	}
	for _, it := range items {
		depth := min(len(it.marker), maxDepth)
		tag := "ul"
		if it.marker[len(it.marker)-1] == '#' {
			tag = "ol"
		}
		switch {
		case depth > len(open):
			for len(open) < depth {
				b.WriteString("<" + tag + "><li>")
				open = append(open, tag)
			}
		default:
			closeTo(depth)
			if open[len(open)-1] != tag {
				b.WriteString("</li></" + open[len(open)-1] + "><" + tag + "><li>")
				open[len(open)-1] = tag
			} else {
				b.WriteString("</li><li>")
			}
		}
		b.WriteString(r.inline(it.text))
	}
	closeTo(0)
}

// table reads consecutive |cell|cell| rows; a row whose cells all start
// with "_." is a header row.
func (r *reader) table(b *strings.Builder) {
	b.WriteString("<table>")
	for r.i < len(r.lines) {
		trim := strings.TrimSpace(r.lines[r.i])
		m := rowLine.FindStringSubmatch(trim)
		if m == nil {
			break
		}
		r.i++
		cells := splitCells(strings.TrimSuffix(m[1], "|"))
		b.WriteString("<tr>")
		for _, c := range cells {
			tag := "td"
			if a := cellAttrs.FindStringSubmatch(c); a != nil {
				if a[1] == "_" {
					tag = "th"
				}
				c = c[len(a[0]):]
			}
			b.WriteString("<" + tag + ">" + r.inline(strings.TrimSpace(c)) + "</" + tag + ">")
		}
		b.WriteString("</tr>")
	}
	b.WriteString("</table>")
}

// splitCells splits a row at '|' outside <notextile>, <code> and @code@.
func splitCells(row string) []string {
	var cells []string
	start := 0
	for i := 0; i < len(row); i++ {
		switch row[i] {
		case '<':
			for _, name := range []string{"notextile", "code", "kbd"} {
				if strings.HasPrefix(row[i:], "<"+name+">") {
					if j := strings.Index(row[i:], "</"+name+">"); j > 0 {
						i += j + len(name) + 2
					}
					break
				}
			}
		case '@':
			if i == 0 || !isWord(row[i-1]) {
				if j := strings.IndexByte(row[i+1:], '@'); j > 0 {
					i += j + 1
				}
			}
		case '|':
			cells = append(cells, row[start:i])
			start = i + 1
		}
	}
	return append(cells, row[start:])
}
