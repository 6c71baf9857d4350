package github

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Markers live in hidden HTML comments, which GitHub's Markdown does not
// render: "<!-- lockstep:<origin>:<key> <url> -->" at the end of an issue
// Lockstep created, "<!-- lockstep:a:<id> -->" at the end of a comment it
// copied. A token never holds a space, "<", ">" or "--" (which would end
// or break the comment): those, and "%", are percent-encoded.

// markerRe finds a marker comment: the token, and an optional URL.
var markerRe = regexp.MustCompile(`<!-- (lockstep:\S+?)(?: (\S+))? -->`)

// markerSep is what separates text from the marker written after it.
const markerSep = "\n\n"

// escapeToken makes a token safe inside an HTML comment.
func escapeToken(s string) string {
	var b strings.Builder
	prev := rune(0)
	for _, r := range s {
		if r == '%' || r == '<' || r == '>' || unicode.IsSpace(r) || unicode.IsControl(r) || (r == '-' && prev == '-') {
			var buf [utf8.UTFMax]byte
			for _, x := range buf[:utf8.EncodeRune(buf[:], r)] {
				fmt.Fprintf(&b, "%%%02X", x)
			}
			prev = 0
			continue
		}
		b.WriteRune(r)
		prev = r
	}
	return b.String()
}

func unescapeToken(s string) string {
	if u, err := url.PathUnescape(s); err == nil {
		return u
	}
	return s
}

// markerComment is the written form of a marker token, with an optional
// URL (the source item, for people and attachment notices).
func markerComment(token, link string) string {
	out := "<!-- " + escapeToken(token)
	if link != "" {
		out += " " + escapeToken(link)
	}
	return out + " -->"
}

// splitMarker finds the last marker comment in text and returns the text
// without it (and without the separator written before it), the token
// and its URL. With no marker, text comes back as it is.
func splitMarker(text string) (rest, token, link string) {
	all := markerRe.FindAllStringSubmatchIndex(text, -1)
	if len(all) == 0 {
		return text, "", ""
	}
	m := all[len(all)-1]
	token = unescapeToken(text[m[2]:m[3]])
	if m[4] >= 0 {
		link = unescapeToken(text[m[4]:m[5]])
	}
	before, after := text[:m[0]], text[m[1]:]
	if after == "" || after == "\n" {
		before = strings.TrimSuffix(before, markerSep)
		after = ""
	}
	return before + after, token, link
}

// withMarker appends a marker comment to text, once: a copy of the same
// marker already in text (the engine may have put it there) is taken out.
func withMarker(text, token, link string) string {
	if token == "" {
		return text
	}
	for {
		rest, t, _ := splitMarker(text)
		if t != token {
			break
		}
		text = rest
	}
	text = strings.ReplaceAll(text, "<!-- "+token+" -->", "")
	if text == "" {
		return markerComment(token, link)
	}
	return text + markerSep + markerComment(token, link)
}

// bareToken reads a comment marker as the engine passes it: a bare token
// ("lockstep:a:12") or its HTML comment form.
func bareToken(m string) string {
	m = strings.TrimSpace(m)
	if sm := markerRe.FindStringSubmatch(m); sm != nil {
		return unescapeToken(sm[1])
	}
	return m
}
