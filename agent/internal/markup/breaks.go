package markup

import (
	"sort"
	"strings"

	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/text"
)

// ReadableBreaks writes every hard line break given as a backslash at the
// end of a line as two trailing spaces: the same break to a Markdown
// reader, and nothing to see where the text is read as it is (a text/plain
// ticket body), where a backslash ending each line is noise. Code spans
// and blocks keep their backslashes; so does anything else that is not a
// line break. Markdown too complex to parse cheaply, or that would read
// differently rewritten, is returned as it is.
func ReadableBreaks(markdown string) (out string) {
	if !strings.Contains(markdown, "\\\n") || tooComplex(markdown) {
		return markdown
	}
	// A parser bug on hostile input must not cost the text.
	defer func() {
		if p := recover(); p != nil {
			out = markdown
		}
	}()
	src := []byte(markdown)
	var at []int
	_ = ast.Walk(md.Parser().Parse(text.NewReader(src)), func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		// goldmark ends a text before the backslash of its hard break.
		// Spaces break a line only after text: a break that opens a
		// line stays a backslash.
		if t, ok := n.(*ast.Text); ok && entering && t.HardLineBreak() {
			if i := t.Segment.Stop; i > 0 && i < len(src) && src[i] == '\\' && !strings.ContainsRune(" \t\n", rune(src[i-1])) {
				at = append(at, i)
			}
		}
		return ast.WalkContinue, nil
	})
	if len(at) == 0 {
		return markdown
	}
	sort.Ints(at)
	var b strings.Builder
	b.Grow(len(src) + len(at))
	last := 0
	for _, i := range at {
		b.Write(src[last:i])
		b.WriteString("  ")
		last = i + 1
	}
	b.Write(src[last:])
	// The rewrite must read as the original did; where a construct this
	// did not foresee reads otherwise, the backslashes stay.
	h1, err1 := MarkdownToHTML(markdown)
	h2, err2 := MarkdownToHTML(b.String())
	if err1 != nil || err2 != nil || h1 != h2 {
		return markdown
	}
	return b.String()
}
