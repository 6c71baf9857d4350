package mapping

import (
	"fmt"
	"strings"

	"github.com/lockstep-sync/lockstep/agent/internal/connector"
	"github.com/lockstep-sync/lockstep/agent/internal/markup"
)

// computes reports whether the transform makes its value without reading
// the source field (so the pair needs no source field).
func computes(t *Transform) bool {
	return t != nil && (t.Kind == TransformConstant || t.Kind == TransformTemplate)
}

// ApplyTransform transforms v with t, the source field's value, for entity src. Regex and
// conversions work on text: a list (labels) is transformed element by
// element, dropping elements that become empty; any other value is
// transformed as the text a person would read. nil stays nil for the
// conversions.
func ApplyTransform(t Transform, v any, src connector.Entity) (any, error) {
	switch t.Kind {
	case TransformConstant:
		if t.Value == "" {
			return nil, nil
		}
		return t.Value, nil
	case TransformTemplate:
		parts, err := parseTemplate(t.Value)
		if err != nil {
			return nil, fmt.Errorf("apply template: %w", err)
		}
		return renderTemplate(parts, src), nil
	case TransformRegex:
		re, err := compileRegex(t.Pattern)
		if err != nil {
			return nil, fmt.Errorf("apply regex: %w", err)
		}
		return eachText(v, true, func(s string) (string, error) {
			return re.ReplaceAllString(s, t.Replace), nil
		})
	case TransformMarkdownToHTML:
		return eachText(v, false, markup.MarkdownToHTML)
	case TransformHTMLToMarkdown:
		return eachText(v, false, markup.HTMLToMarkdown)
	case TransformMarkdownToText:
		return eachText(v, false, markup.MarkdownToText)
	case TransformHTMLToText:
		return eachText(v, false, markup.HTMLToText)
	}
	return nil, fmt.Errorf("apply transform: unknown kind %q", t.Kind)
}

// eachText runs f over the text of v, element by element for a list. With
// nilAsEmpty, nil is transformed as "" (a regex may turn nothing into a
// placeholder such as "n/a").
func eachText(v any, nilAsEmpty bool, f func(string) (string, error)) (any, error) {
	if v == nil && !nilAsEmpty {
		return nil, nil
	}
	if l, ok := list(v); ok {
		out := make([]string, 0, len(l))
		for _, e := range l {
			s, err := f(display(e))
			if err != nil {
				return nil, err
			}
			if strings.TrimSpace(s) != "" {
				out = append(out, s)
			}
		}
		return out, nil
	}
	return f(display(v))
}
