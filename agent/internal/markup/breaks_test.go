package markup

import (
	"strings"
	"testing"
)

func TestReadableBreaks(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"one\\\ntwo\\\nthree", "one  \ntwo  \nthree"},
		{"a **b**\\\nc", "a **b**  \nc"},
		{"> q\\\n> r", "> q  \n> r"},
		{"- it\\\n  em", "- it  \n  em"},
		// Not line breaks: kept.
		{"```sh\nrun \\\n  --flag\n```", "```sh\nrun \\\n  --flag\n```"},
		{"    indented \\\n    code", "    indented \\\n    code"},
		{"`a \\` and b\\", "`a \\` and b\\"},
		{"last line\\", "last line\\"},
		{"escaped \\\\\nnot a break", "escaped \\\\\nnot a break"},
		{"no breaks at all", "no breaks at all"},
	} {
		if got := ReadableBreaks(tc.in); got != tc.want {
			t.Errorf("ReadableBreaks(%q)\n got %q\nwant %q", tc.in, got, tc.want)
		}
		sameHTML(t, tc.in, ReadableBreaks(tc.in))
	}
}

func sameHTML(t *testing.T, a, b string) {
	t.Helper()
	ha, err1 := MarkdownToHTML(a)
	hb, err2 := MarkdownToHTML(b)
	if err1 != nil || err2 != nil || ha != hb {
		t.Fatalf("%q and %q render differently:\n%q\n%q (%v, %v)", a, b, ha, hb, err1, err2)
	}
}

// FuzzReadableBreaks: whatever the Markdown, the rewrite renders as the
// original does and leaves no backslash break behind.
func FuzzReadableBreaks(f *testing.F) {
	addSeeds(f, "md")
	f.Add("one\\\ntwo")
	f.Add("| a\\\n|---|\n```\nx\\\n```\n> q\\\n> r\n- a\\\n  b")
	f.Fuzz(func(t *testing.T, md string) {
		out := ReadableBreaks(md)
		if out == md {
			return
		}
		sameHTML(t, md, out)
		if strings.Count(out, "\\\n") >= strings.Count(md, "\\\n") {
			t.Fatalf("%q: no break rewritten, yet the text changed to %q", md, out)
		}
	})
}
