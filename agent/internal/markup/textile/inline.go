package textile

import (
	"html"
	"strings"
)

// The inline reader follows Redmine's Textile renderer (its RedCloth3
// fork) as observed on Redmine 5.0: a phrase delimiter opens only at the
// start or after a space, '(' or '>' and closes before punctuation, a
// space or the end; link text is not formatted; backslashes escape
// nothing; <notextile>, <code>, <kbd> and <pre> keep their content as
// typed; any other HTML is shown as text; bare URLs become links.

// maxSpan bounds how far a delimiter looks for its closer, so hostile
// text cannot make a conversion quadratic in its length.
const maxSpan = 4096

// inlineOut collects one piece of inline Textile as HTML and as the plain
// text a reader sees (which the writer compares to decide escaping).
type inlineOut struct {
	h strings.Builder
	t strings.Builder
	// budget is what is left of the scanning work this conversion may do.
	budget *int
}

func (o *inlineOut) text(s string) {
	o.h.WriteString(html.EscapeString(s))
	o.t.WriteString(s)
}

func (o *inlineOut) tag(s string) { o.h.WriteString(s) }

// spans maps a phrase delimiter to the HTML it becomes ("" keeps only the
// text: Markdown has no superscript, subscript, citation or span).
var spans = map[string]string{"**": "strong", "*": "strong", "__": "em", "_": "em", "-": "del", "??": "", "+": "", "^": "", "~": "", "%": ""}

// inline converts one block's inline Textile; a newline is a line break
// (Redmine renders Textile with hard breaks).
func inline(s string, o *inlineOut, depth int) {
	var buf strings.Builder
	flush := func() {
		if buf.Len() > 0 {
			o.text(buf.String())
			buf.Reset()
		}
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if depth > maxDepth || *o.budget <= 0 {
			buf.WriteString(s[i:])
			break
		}
		switch c {
		case '\n':
			flush()
			o.tag("<br>")
			o.t.WriteByte('\n')
			continue
		case '<':
			if n, ok := literalTag(s[i:], o, flush); ok {
				i += n - 1
				continue
			}
		case '=':
			if strings.HasPrefix(s[i:], "==") {
				if j := closer(s, i+2, "==", o); j > i+2 {
					flush()
					o.text(s[i+2 : j])
					i = j + 1
					continue
				}
			}
		case '@':
			if i == 0 || !isWord(s[i-1]) {
				if j := codeEnd(s, i+1, o); j > i+1 {
					flush()
					code := s[i+1 : j]
					if strings.HasPrefix(code, "|") { // @|lang|code@
						if k := strings.IndexByte(code[1:], '|'); k > 0 && isIdent(code[1:k+1]) {
							code = code[k+2:]
						}
					}
					o.tag("<code>")
					o.text(code)
					o.tag("</code>")
					i = j
					continue
				}
			}
		case '!':
			if i == 0 || strings.IndexByte(" \t(>\"", s[i-1]) >= 0 {
				if n := image(s[i:], o, flush); n > 0 {
					i += n - 1
					continue
				}
			}
		case '"':
			if n := link(s[i:], o, flush, depth); n > 0 {
				i += n - 1
				continue
			}
		case '&':
			if r, n := entity(s[i:]); n > 0 {
				buf.WriteString(r)
				i += n - 1
				continue
			}
		case 'h', 'f':
			if i == 0 || strings.IndexByte(" \t(>", s[i-1]) >= 0 {
				if n := bareURL(s[i:]); n > 0 {
					flush()
					u := s[i : i+n]
					o.tag(`<a href="` + html.EscapeString(u) + `">`)
					o.text(u)
					o.tag("</a>")
					i += n - 1
					continue
				}
			}
		case '*', '_', '-', '+', '^', '~', '%', '?':
			if n := span(s, i, o, flush, depth); n > 0 {
				i += n - 1
				continue
			}
		}
		buf.WriteByte(c)
	}
	flush()
}

// literalTag reads the tags Redmine keeps (their content as typed) and
// HTML comments, which it hides. Other tags are text.
func literalTag(s string, o *inlineOut, flush func()) (int, bool) {
	if strings.HasPrefix(s, "<!--") {
		if j := strings.Index(s[4:], "-->"); j >= 0 {
			flush()
			return 4 + j + 3, true
		}
		return 0, false
	}
	for _, name := range []string{"notextile", "code", "kbd", "pre"} {
		open := "<" + name + ">"
		if !strings.HasPrefix(s, open) {
			continue
		}
		end := "</" + name + ">"
		j := strings.Index(s[len(open):], end)
		if j < 0 {
			return 0, false
		}
		flush()
		content := s[len(open) : len(open)+j]
		if name == "notextile" {
			o.text(content)
		} else {
			o.tag("<code>")
			o.text(content)
			o.tag("</code>")
		}
		return len(open) + j + len(end), true
	}
	return 0, false
}

// codeEnd finds the '@' closing inline code whose content starts at from:
// not followed by a word character, on the same line.
func codeEnd(s string, from int, o *inlineOut) int {
	for j := from; j < len(s) && j-from < maxSpan; j++ {
		*o.budget--
		switch {
		case s[j] == '\n':
			return -1
		case s[j] == '@' && j > from && (j+1 == len(s) || !isWord(s[j+1])):
			return j
		}
	}
	return -1
}

// closer finds delim closing content that starts at from, on the same
// line: after a non-space, before the end, a space or punctuation.
func closer(s string, from int, delim string, o *inlineOut) int {
	if from >= len(s) || s[from] == ' ' || s[from] == '\t' || s[from] == '\n' {
		return -1
	}
	for j := from + 1; j < len(s) && j-from < maxSpan; j++ {
		*o.budget--
		if *o.budget <= 0 || s[j] == '\n' {
			return -1
		}
		if !strings.HasPrefix(s[j:], delim) || s[j-1] == ' ' || s[j-1] == '\t' {
			continue
		}
		after := j + len(delim)
		if after == len(s) || !isWord(s[after]) && s[after] != delim[0] {
			return j
		}
	}
	return -1
}

// span reads a phrase (*strong*, _em_, -del-, ...) opening at s[i].
func span(s string, i int, o *inlineOut, flush func(), depth int) int {
	if i > 0 && strings.IndexByte(" \t\n(>", s[i-1]) < 0 {
		return 0
	}
	delim := s[i : i+1]
	if i+1 < len(s) && s[i+1] == s[i] && (s[i] == '*' || s[i] == '_' || s[i] == '?') {
		delim = s[i : i+2]
	}
	if delim == "?" || delim == "-" && strings.HasPrefix(s[i:], "--") {
		return 0
	}
	from := i + len(delim)
	j := closer(s, from, delim, o)
	if j <= from {
		return 0
	}
	content := s[from:j]
	if delim == "-" && (strings.HasPrefix(content, "-") || strings.HasSuffix(content, "-")) {
		return 0
	}
	if delim == "%" {
		content = stripAttrs(content)
	}
	flush()
	tag := spans[delim]
	if tag != "" {
		o.tag("<" + tag + ">")
	}
	inline(content, o, depth+1)
	if tag != "" {
		o.tag("</" + tag + ">")
	}
	return j + len(delim) - i
}

// image reads !url!, !url(alt)! and !url!:link.
func image(s string, o *inlineOut, flush func()) int {
	j := 1
	for j < len(s) && strings.IndexByte("<>=", s[j]) >= 0 {
		j++
	}
	start := j
	for j < len(s) && j-start < maxSpan && s[j] != '!' && s[j] != '(' && !isSpace(s[j]) {
		j++
	}
	src := s[start:j]
	alt := ""
	if j < len(s) && s[j] == '(' {
		k := strings.IndexByte(s[j:], ')')
		if k < 0 || strings.ContainsAny(s[j:j+k], "\n") {
			return 0
		}
		alt = s[j+1 : j+k]
		j += k + 1
	}
	if src == "" || j >= len(s) || s[j] != '!' {
		return 0
	}
	j++
	href := ""
	if j+1 < len(s) && s[j] == ':' && !isSpace(s[j+1]) {
		n := urlLen(s[j+1:])
		href = s[j+1 : j+1+n]
		j += 1 + n
	}
	flush()
	img := `<img src="` + html.EscapeString(src) + `" alt="` + html.EscapeString(alt) + `">`
	if href != "" {
		img = `<a href="` + html.EscapeString(href) + `">` + img + `</a>`
	}
	o.tag(img)
	return j
}

// link reads "text":url and "text(title)":url. Redmine shows link text
// as typed, apart from entities.
func link(s string, o *inlineOut, flush func(), depth int) int {
	end := strings.Index(s[1:], "\":")
	if end <= 0 || end > maxSpan || strings.ContainsAny(s[1:1+end], "\"\n") {
		return 0
	}
	*o.budget -= end
	text := s[1 : 1+end]
	if k := strings.LastIndexByte(text, '('); k > 0 && strings.HasSuffix(text, ")") {
		text = strings.TrimRight(text[:k], " ")
	}
	rest := s[1+end+2:]
	n := urlLen(rest)
	if n == 0 {
		return 0
	}
	flush()
	o.tag(`<a href="` + html.EscapeString(rest[:n]) + `">`)
	var label strings.Builder
	for i := 0; i < len(text); i++ {
		if r, k := entity(text[i:]); k > 0 {
			label.WriteString(r)
			i += k - 1
			continue
		}
		label.WriteByte(text[i])
	}
	_ = depth
	o.text(label.String())
	o.tag("</a>")
	return 1 + end + 2 + n
}

// urlLen is the length of the URL s starts with: up to a space, a quote
// or '<', without trailing punctuation (a sentence's full stop) or a ')'
// that closes something opened before the URL.
func urlLen(s string) int {
	n := 0
	for n < len(s) && n < maxSpan && !isSpace(s[n]) && s[n] != '<' && s[n] != '"' {
		n++
	}
	for n > 0 {
		c := s[n-1]
		if strings.IndexByte(".,;:!?'", c) >= 0 || c == ')' && strings.Count(s[:n], "(") < strings.Count(s[:n], ")") {
			n--
			continue
		}
		break
	}
	return n
}

// bareURL is the length of the http, https or ftp URL s starts with, or 0.
func bareURL(s string) int {
	for _, scheme := range []string{"http://", "https://", "ftp://"} {
		if strings.HasPrefix(s, scheme) {
			if n := urlLen(s); n > len(scheme) {
				return n
			}
		}
	}
	return 0
}

// stripAttrs drops Textile attributes ((class), {style}, [lang]) from the
// start of a phrase's content.
func stripAttrs(s string) string {
	for len(s) > 0 {
		var end byte
		switch s[0] {
		case '(':
			end = ')'
		case '{':
			end = '}'
		case '[':
			end = ']'
		default:
			return s
		}
		k := strings.IndexByte(s, end)
		if k < 0 {
			return s
		}
		s = s[k+1:]
	}
	return s
}

var namedEntities = map[string]string{"amp": "&", "lt": "<", "gt": ">", "quot": "\"", "apos": "'", "nbsp": "\u00a0", "copy": "©", "reg": "®", "trade": "™", "hellip": "…", "mdash": "—", "ndash": "–"}

// entity decodes the HTML entity s starts with, returning it and its
// length, or 0 when s starts with none.
func entity(s string) (string, int) {
	end := strings.IndexByte(s, ';')
	if end < 3 || end > 10 {
		return "", 0
	}
	name := s[1:end]
	if name[0] == '#' {
		var n int
		digits := name[1:]
		base := 10
		if digits[0] == 'x' || digits[0] == 'X' {
			digits, base = digits[1:], 16
		}
		if digits == "" {
			return "", 0
		}
		for i := 0; i < len(digits); i++ {
			d := strings.IndexByte("0123456789abcdef", digits[i]|0x20)
			if d < 0 || d >= base {
				return "", 0
			}
			n = n*base + d
		}
		if n <= 0 || n > 0x10FFFF || n >= 0xD800 && n <= 0xDFFF {
			return "", 0
		}
		return string(rune(n)), end + 1
	}
	if r, ok := namedEntities[name]; ok {
		return r, end + 1
	}
	return "", 0
}

func isWord(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c >= 0x80
}

func isIdent(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isWord(s[i]) && s[i] != '-' && s[i] != '+' && s[i] != '#' {
			return false
		}
	}
	return s != ""
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }
