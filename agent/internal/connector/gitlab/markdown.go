package gitlab

import (
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"github.com/lockstep-sync/lockstep/agent/internal/connector"
)

// What the connector writes into GitLab Markdown and reads back out of it:
// the peer marker in a description, the marker of a copied comment, and
// the links to uploaded files. Each is an HTML comment, which GitLab keeps
// in the stored Markdown and never renders.

// searchToken is the word the issues search looks for: "lockstep" and 16
// hex digits of the SHA-256 of the marker's text. The text itself is no
// good to search for: the full-text index splits it at ":" and "-", and
// a key can be any text.
func searchToken(m connector.Marker) string { return connector.HashLabel("lockstep", m.Text()) }

// markerComment is the marker as it ends a description.
func markerComment(m connector.Marker) string {
	return "<!-- " + commentEscape(m.Text()) + " " + searchToken(m) + " -->"
}

// descMarker matches a marker comment in a description.
var descMarker = regexp.MustCompile(`[ \t]*<!-- (lockstep:\S+) (lockstep[0-9a-f]{16}) -->[ \t]*\n?`)

// commentEscape makes text safe inside an HTML comment on one line:
// percent-escapes for "%", white space, ">" and the second of two dashes.
func commentEscape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		ch := s[i]
		switch {
		case ch == '%' || ch == '>' || ch == '<' || ch <= ' ' || ch == 0x7f,
			ch == '-' && i > 0 && s[i-1] == '-':
			b.WriteString("%" + strings.ToUpper(strconv.FormatInt(int64(ch)|0x100, 16)[1:]))
		default:
			b.WriteByte(ch)
		}
	}
	return b.String()
}

func commentUnescape(s string) string {
	if u, err := url.PathUnescape(s); err == nil {
		return u
	}
	return s
}

// splitDescription takes the connector's marker comments out of a stored
// description: text is what the engine sees, markers the comments as
// stored (kept by an update), marker the first one's text.
func splitDescription(desc string) (text string, markers []string, marker string) {
	for _, m := range descMarker.FindAllStringSubmatch(desc, -1) {
		markers = append(markers, strings.TrimSpace(m[0]))
		if marker == "" {
			marker = commentUnescape(m[1])
		}
	}
	if len(markers) == 0 {
		return desc, nil, ""
	}
	return strings.TrimRight(descMarker.ReplaceAllString(desc, ""), " \t\n"), markers, marker
}

// joinDescription is a description to store: the engine's text, then the
// marker comments.
func joinDescription(text string, markers []string) string {
	if len(markers) == 0 {
		return text
	}
	text = strings.TrimRight(text, " \t\n")
	if text == "" {
		return strings.Join(markers, "\n")
	}
	return text + "\n\n" + strings.Join(markers, "\n")
}

// commentMarker matches the marker that ends a copied comment.
var commentMarker = regexp.MustCompile(`\s*<!-- (lockstep[:\-]\S*) -->\s*$`)

// bareMarker is a comment marker as the contract passes it ("lockstep:a:1"),
// also when it comes already wrapped as an HTML comment.
func bareMarker(m string) string {
	m = strings.TrimSpace(m)
	m = strings.TrimSpace(strings.TrimSuffix(strings.TrimPrefix(m, "<!--"), "-->"))
	return strings.Join(strings.Fields(m), "")
}

// commentBody is a note's stored body: the text, then the marker once.
func commentBody(body, marker string) string {
	marker = bareMarker(marker)
	body = strings.TrimRight(body, " \t\n")
	if marker == "" {
		return body
	}
	// A body that already ends with this marker (written by an engine
	// that put it there itself) keeps it once.
	if m := commentMarker.FindStringSubmatch(body); m != nil && m[1] == marker {
		body = strings.TrimRight(body[:len(body)-len(m[0])], " \t\n")
	}
	if body == "" {
		return "<!-- " + marker + " -->"
	}
	return body + "\n\n<!-- " + marker + " -->"
}

// splitComment reads a note's body into its text and its marker.
func splitComment(body string) (text, marker string) {
	m := commentMarker.FindStringSubmatchIndex(body)
	if m == nil {
		return body, ""
	}
	return body[:m[0]], body[m[2]:m[3]]
}

// attachmentTag marks a note the connector wrote for an uploaded file:
// the file's size and its original name (GitLab renames files to its safe
// characters), which the link alone does not tell.
var attachmentTag = regexp.MustCompile(`<!-- lockstep-attachment size=(\d+) name=(\S*) -->`)

func attachmentComment(size int64, name string) string {
	return "<!-- lockstep-attachment size=" + strconv.FormatInt(size, 10) + " name=" + commentEscape(name) + " -->"
}

// mdLink matches the target of an inline Markdown link or image.
var mdLink = regexp.MustCompile(`\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)`)

// uploadPath matches the path of a project upload: /uploads/<secret>/<name>
// (the Markdown form), or /-/project/<id>/uploads/... (GitLab 17.1's
// full_path), after the project's web URL or the instance's root.
var uploadPath = regexp.MustCompile(`^(?:/-/project/(\d+))?/uploads/([0-9a-f]{32})/([^/?#]+)$`)

// uploadLink is one file a description or note links to.
type uploadLink struct {
	secret, filename string // as in the URL, unescaped
}

func (u uploadLink) id() string { return u.secret + "/" + u.filename }

// uploadLinks finds the links to p's uploads in Markdown text, in order,
// each once.
func (p *projectInfo) uploadLinks(base, text string) []uploadLink {
	var out []uploadLink
	seen := map[string]bool{}
	for _, m := range mdLink.FindAllStringSubmatch(text, -1) {
		target := m[1]
		for _, prefix := range []string{p.WebURL, base} {
			if prefix != "" && strings.HasPrefix(target, prefix+"/") {
				target = strings.TrimPrefix(target, prefix)
				break
			}
		}
		um := uploadPath.FindStringSubmatch(target)
		if um == nil || (um[1] != "" && um[1] != strconv.FormatInt(p.ID, 10)) {
			continue
		}
		name, err := url.PathUnescape(um[3])
		if err != nil {
			continue
		}
		l := uploadLink{secret: um[2], filename: name}
		if !seen[l.id()] {
			seen[l.id()] = true
			out = append(out, l)
		}
	}
	return out
}

// absoluteUploads points a text's relative upload links at the project, so
// that where the text is copied to, the links still lead to the files
// (for people who can sign in to GitLab).
func (p *projectInfo) absoluteUploads(text string) string {
	if p.WebURL == "" || !strings.Contains(text, "](/uploads/") {
		return text
	}
	return strings.ReplaceAll(text, "](/uploads/", "]("+p.WebURL+"/uploads/")
}
