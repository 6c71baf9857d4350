package markup

import (
	"strings"

	"github.com/yuin/goldmark/util"
)

// UnescapeMarkdown resolves a Markdown text segment's backslash escapes and
// entity references the way a CommonMark renderer does: an escaped '&' is
// never the start of an entity, and NUL becomes U+FFFD. Converters that walk
// goldmark's tree into another markup (Jira's, Textile) read text with it.
func UnescapeMarkdown(v []byte) string {
	var b strings.Builder
	run := 0
	flush := func(end int) {
		if end > run {
			b.Write(util.ResolveEntityNames(util.ResolveNumericReferences(v[run:end])))
		}
	}
	for i := 0; i < len(v); i++ {
		if v[i] == '\\' && i+1 < len(v) && util.IsPunct(v[i+1]) {
			flush(i)
			b.WriteByte(v[i+1])
			i++
			run = i + 1
			continue
		}
		if v[i] == 0 {
			flush(i)
			b.WriteString("\uFFFD")
			run = i + 1
		}
	}
	flush(len(v))
	return b.String()
}
