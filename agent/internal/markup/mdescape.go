package markup

import (
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Escaping of literal text written as Markdown: the text of an HTML page
// must read the same after the Markdown is rendered again, so every
// character that could start Markdown syntax is backslash-escaped, and
// characters that cannot (most punctuation in running text) are left alone
// to keep the Markdown readable.

// entityRef matches what CommonMark would decode as a character reference.
var entityRef = regexp.MustCompile(`^&(#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});`)

// escapeText escapes literal text for a Markdown paragraph; inTable also
// escapes the cell separator. prev and next are the bytes around s in the
// output (0 at the start or end of the paragraph): whether "_" or "<"
// needs a backslash depends on them.
func escapeText(s string, inTable bool, prev, next byte) string {
	var b strings.Builder
	b.Grow(len(s) + 8)
	before := func(i int) byte {
		if i == 0 {
			return prev
		}
		return s[i-1]
	}
	after := func(i int) byte {
		if i+1 == len(s) {
			return next
		}
		return s[i+1]
	}
	for i := 0; i < len(s); i++ {
		ch := s[i]
		switch ch {
		case '\\':
			// A backslash escapes only punctuation; elsewhere it is literal
			// and stays readable (Windows paths).
			if isASCIIPunct(after(i)) {
				b.WriteByte('\\')
			}
		case '`', '[', ']', '~':
			b.WriteByte('\\')
		case '*':
			// " * " (surrounded by spaces) can neither open nor close.
			if before(i) != ' ' || after(i) != ' ' {
				b.WriteByte('\\')
			}
		case '_':
			// Inside a word ("snake_case") an underscore cannot emphasise.
			if !isAlnum(before(i)) || !isAlnum(after(i)) {
				b.WriteByte('\\')
			}
		case '<':
			// Only "<" followed by a letter, "/", "!" or "?" starts a tag,
			// a comment or an autolink.
			if n := after(i); isASCIILetter(n) || n != 0 && strings.IndexByte("/!?", n) >= 0 {
				b.WriteByte('\\')
			}
		case '&':
			if entityRef.MatchString(s[i:]) {
				b.WriteByte('\\')
			}
		case '|':
			if inTable {
				b.WriteByte('\\')
			}
		}
		b.WriteByte(ch)
	}
	return b.String()
}

// orderedMarker matches a line that would start an ordered list.
var orderedMarker = regexp.MustCompile(`^[0-9]{1,9}[.)]`)

// delimiterRow matches a line that GFM would read as a table's delimiter
// row (or a setext underline or a thematic break).
var delimiterRow = regexp.MustCompile(`^[|:\-= \t]+$`)

// escapeLineStarts escapes what a paragraph line could start: headings,
// quotes, list items, setext underlines and table delimiter rows. It runs
// on each finished line because a construct can span several text nodes
// ("<b>1</b>. item").
func escapeLineStarts(p string) string {
	lines := strings.Split(p, "\n")
	for i, l := range lines {
		switch {
		case l == "":
		case strings.IndexByte("#>+-=|:", l[0]) >= 0 && (l[0] != ':' || delimiterRow.MatchString(l)):
			lines[i] = `\` + l
		case orderedMarker.MatchString(l):
			m := orderedMarker.FindStringIndex(l)
			lines[i] = l[:m[1]-1] + `\` + l[m[1]-1:]
		}
	}
	return strings.Join(lines, "\n")
}

// codeSpan writes s as inline code with a backtick fence longer than any
// run inside it.
func codeSpan(s string, inTable bool) string {
	s = strings.NewReplacer("\r\n", " ", "\n", " ", "\r", " ").Replace(s)
	if strings.TrimSpace(s) == "" {
		return ""
	}
	if inTable {
		s = strings.ReplaceAll(s, "|", `\|`)
	}
	n := 1
	for strings.Contains(s, strings.Repeat("`", n)) {
		// Any n with no run of exactly n works; longer than the longest
		// run is simplest to see.
		n++
	}
	fence := strings.Repeat("`", n)
	if s[0] == '`' || s[len(s)-1] == '`' || (s[0] == ' ' && s[len(s)-1] == ' ') {
		s = " " + s + " "
	}
	return fence + s + fence
}

// codeFence returns a fence for a code block longer than any backtick run
// at the start of a line in s.
func codeFence(s string) string {
	n := 3
	for strings.Contains(s, strings.Repeat("`", n)) {
		n++
	}
	return strings.Repeat("`", n)
}

// linkDestination formats a URL for "[text](url)": characters that would
// end or confuse the destination are escaped or percent-encoded.
func linkDestination(u string) string {
	var b strings.Builder
	for i := 0; i < len(u); i++ {
		ch := u[i]
		switch {
		case ch == '\\' || ch == '(' || ch == ')':
			b.WriteByte('\\')
			b.WriteByte(ch)
		case ch == '&' && entityRef.MatchString(u[i:]):
			b.WriteString(`\&`)
		case ch <= ' ' || ch == '<' || ch == '>' || ch == 0x7f:
			b.WriteString("%" + strings.ToUpper(hexByte(ch)))
		default:
			b.WriteByte(ch)
		}
	}
	return b.String()
}

func hexByte(b byte) string {
	const digits = "0123456789abcdef"
	return string([]byte{digits[b>>4], digits[b&15]})
}

// linkTitle formats a link title in double quotes.
func linkTitle(t string) string {
	t = strings.Join(strings.Fields(t), " ")
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(t); i++ {
		if t[i] == '"' || t[i] == '\\' || (t[i] == '&' && entityRef.MatchString(t[i:])) {
			b.WriteByte('\\')
		}
		b.WriteByte(t[i])
	}
	b.WriteByte('"')
	return b.String()
}

// autolinkable reports whether u can be written as <u>: an absolute URL
// with a scheme and no characters an autolink cannot hold.
var autolinkURL = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9+.\-]{1,31}:[^\s<>\x00-\x20\x7f\\]*$`)

// emailAutolink is CommonMark's email autolink.
var emailAutolink = regexp.MustCompile(`^[a-zA-Z0-9.!#$%'*+/=?^_{|}~-]+@[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*$`)

func isASCIIPunct(c byte) bool {
	return c < utf8.RuneSelf && (c >= '!' && c <= '/' || c >= ':' && c <= '@' || c >= '[' && c <= '`' || c >= '{' && c <= '~')
}

func isASCIILetter(c byte) bool { return c|0x20 >= 'a' && c|0x20 <= 'z' }

func isAlnum(c byte) bool { return isASCIILetter(c) || c >= '0' && c <= '9' }

// isPunctRune is CommonMark's punctuation character, which decides whether
// an emphasis delimiter can open or close.
func isPunctRune(r rune) bool {
	if r < utf8.RuneSelf {
		return isASCIIPunct(byte(r))
	}
	return unicode.IsPunct(r) || unicode.IsSymbol(r)
}
