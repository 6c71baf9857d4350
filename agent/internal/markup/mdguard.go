package markup

import (
	"html"
	"strings"
)

// Limits of the Markdown goldmark is given. goldmark is linear on the
// documents people write, but its time grows with the square of container
// nesting, of unmatched brackets and of emphasis delimiters: 256 KB of
// "- - - ..." takes half a minute. The limits are far above anything a
// ticket has (Jira caps a description at 32 K characters, GitHub at 64 K)
// and keep the worst case near a second.
const (
	maxParsedMarkdown = 1 << 20
	maxContainerDepth = 32
	maxBrackets       = 5000
	maxDelimiters     = 20000
)

// tooComplex reports whether md exceeds those limits. Text in fenced code
// blocks and escaped characters do not count: a pasted log or JSON is not
// parsed inline, and what HTMLToMarkdown escapes is text.
func tooComplex(md string) bool {
	if len(md) > maxParsedMarkdown {
		return true
	}
	brackets, delims := 0, 0
	fence := ""
	for line := range strings.Lines(md) {
		rest, depth := containerPrefix(line)
		if depth > maxContainerDepth {
			return true
		}
		trimmed := strings.TrimLeft(rest, " \t")
		if fence != "" {
			if strings.HasPrefix(trimmed, fence) {
				fence = ""
			}
			continue
		}
		if f := fenceOf(trimmed); f != "" {
			fence = f
			continue
		}
		for i := 0; i < len(rest); i++ {
			switch rest[i] {
			case '\\':
				i++ // an escaped character is text, not syntax
			case '[':
				brackets++
			case '*', '_', '~':
				delims++
			}
		}
		if brackets > maxBrackets || delims > maxDelimiters {
			return true
		}
	}
	return false
}

// containerPrefix strips the block-quote and list markers a line starts
// with and counts them.
func containerPrefix(line string) (string, int) {
	depth := 0
	for {
		s := strings.TrimLeft(line, " \t")
		switch {
		case strings.HasPrefix(s, ">"):
			line = s[1:]
		case len(s) >= 2 && strings.IndexByte("-*+", s[0]) >= 0 && (s[1] == ' ' || s[1] == '\t'):
			line = s[2:]
		default:
			n := 0
			for n < len(s) && n < 10 && s[n] >= '0' && s[n] <= '9' {
				n++
			}
			if n == 0 || n+1 >= len(s) || (s[n] != '.' && s[n] != ')') || (s[n+1] != ' ' && s[n+1] != '\t') {
				return line, depth
			}
			line = s[n+2:]
		}
		depth++
	}
}

// fenceOf returns the fence a code block line opens with ("```", "~~~~").
func fenceOf(s string) string {
	for _, c := range []string{"`", "~"} {
		n := 0
		for n < len(s) && s[n] == c[0] {
			n++
		}
		if n >= 3 {
			return s[:n]
		}
	}
	return ""
}

// plainHTML renders text as HTML paragraphs without reading any Markdown:
// blank lines separate paragraphs, line breaks are kept.
func plainHTML(text string) string {
	var b strings.Builder
	for _, p := range strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n\n") {
		p = strings.Trim(p, "\n")
		if strings.TrimSpace(p) == "" {
			continue
		}
		b.WriteString("<p>")
		b.WriteString(strings.ReplaceAll(html.EscapeString(p), "\n", "<br>\n"))
		b.WriteString("</p>\n")
	}
	return b.String()
}
