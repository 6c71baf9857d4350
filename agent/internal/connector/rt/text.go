package rt

import "github.com/lockstep-sync/lockstep/agent/internal/markup"

// plainContent is the text/plain content RT keeps for the Markdown md (a
// description or a comment). RT shows that text as written, so Markdown's
// hard line breaks are given in their readable form (two trailing spaces,
// not a backslash ending the line); it reads back as the same Markdown.
func plainContent(md string) string { return markup.ReadableBreaks(md) }
