package redmine

import (
	"fmt"
	"slices"
	"strings"

	"github.com/lockstep-sync/lockstep/agent/internal/connector"
	"github.com/lockstep-sync/lockstep/agent/internal/markup/textile"
)

// Redmine's text formattings (Setting.text_formatting). The engine speaks
// Markdown; only Textile needs converting. Redmine's REST API does not
// expose the setting, so the administrator states it.
const (
	Textile    = "textile"
	Markdown   = "markdown"    // Redcarpet
	CommonMark = "common_mark" // Redmine 5.x
)

var formats = []string{Textile, Markdown, CommonMark}

// textileSetting reads textFormatting: unset is Textile, Redmine's own
// default.
func textileSetting(cfg connector.Config) (bool, error) {
	f := strings.ToLower(cfg.SettingString("textFormatting"))
	if f == "" {
		return true, nil
	}
	if !slices.Contains(formats, f) {
		return false, fmt.Errorf("text formatting %q is not one of %s: %w", f, strings.Join(formats, ", "), connector.ErrInvalid)
	}
	return f == Textile, nil
}

// readText turns text as Redmine stores it into Markdown. Text that
// cannot be converted (beyond textile.MaxBytes) is passed on as stored
// rather than failing the read of the whole issue.
func (c *Conn) readText(s string) string {
	if !c.textile || s == "" {
		return s
	}
	md, err := textile.ToMarkdown(s)
	if err != nil {
		return s
	}
	return md
}

// toSystemText turns Markdown into what Redmine stores.
func (c *Conn) toSystemText(md string) (string, error) {
	if !c.textile || md == "" {
		return md, nil
	}
	s, err := textile.FromMarkdown(md)
	if err != nil {
		return "", fmt.Errorf("%w: %w", connector.ErrInvalid, err)
	}
	return s, nil
}

// writeText is a text field's value as Redmine takes it; nil clears.
func (c *Conn) writeText(name string, v any) (any, error) {
	s, err := text(name, v)
	if err != nil {
		return nil, err
	}
	out, err := c.toSystemText(s.(string))
	if err != nil {
		return nil, fmt.Errorf("field %s: %w", name, err)
	}
	return out, nil
}
