package mapping

import (
	"errors"
	"fmt"
	"strings"

	"github.com/lockstep-sync/lockstep/agent/internal/connector"
)

// MaxTemplateLen bounds a template: it is a one-line pattern such as
// "[{{key}}] {{title}}", not a document.
const MaxTemplateLen = 4096

// Placeholders that name the entity's metadata rather than a field. They win
// over a field of the same name so that "{{title}}" means the same thing for
// every system.
var entityPlaceholders = []string{"id", "key", "title", "url", "type"}

// tmplPart is literal text or, when field is set, a placeholder.
type tmplPart struct {
	text  string
	field string
}

// parseTemplate splits a template into literals and placeholders. A "{{"
// without "}}" or an empty placeholder is an error rather than literal text,
// so a typo shows when the mapping is saved, not in a synced ticket.
func parseTemplate(s string) ([]tmplPart, error) {
	if len(s) > MaxTemplateLen {
		return nil, fmt.Errorf("template is longer than %d bytes", MaxTemplateLen)
	}
	var parts []tmplPart
	for s != "" {
		i := strings.Index(s, "{{")
		if i < 0 {
			parts = append(parts, tmplPart{text: s})
			break
		}
		if i > 0 {
			parts = append(parts, tmplPart{text: s[:i]})
		}
		rest := s[i+2:]
		j := strings.Index(rest, "}}")
		if j < 0 {
			return nil, errors.New("template has \"{{\" without a closing \"}}\"")
		}
		name := strings.TrimSpace(rest[:j])
		if name == "" {
			return nil, errors.New("template has an empty placeholder \"{{}}\"")
		}
		if strings.ContainsAny(name, "{}\n") {
			return nil, fmt.Errorf("template placeholder %q contains a brace or a line break", name)
		}
		parts = append(parts, tmplPart{field: name})
		s = rest[j+2:]
	}
	return parts, nil
}

// isEntityPlaceholder reports whether name is one of entityPlaceholders.
func isEntityPlaceholder(name string) bool {
	for _, p := range entityPlaceholders {
		if p == name {
			return true
		}
	}
	return false
}

// renderTemplate fills a parsed template from the source entity. A field the
// entity does not have renders as nothing: a template often names optional
// fields, and Validate already checked the name against the schema.
func renderTemplate(parts []tmplPart, e connector.Entity) string {
	var b strings.Builder
	for _, p := range parts {
		if p.field == "" {
			b.WriteString(p.text)
			continue
		}
		switch p.field {
		case "id":
			b.WriteString(e.ID)
		case "key":
			b.WriteString(e.Key)
		case "title":
			b.WriteString(e.Title)
		case "url":
			b.WriteString(e.URL)
		case "type":
			b.WriteString(e.Type)
		default:
			b.WriteString(display(e.Fields[p.field]))
		}
	}
	return b.String()
}
