package markup

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// The converters take rich text from any user of any connected system, so
// they must never panic, must return valid UTF-8, and the Markdown they
// write must be a fixed point: converting it to HTML and back gives the
// same Markdown (what HTMLToMarkdown escapes, MarkdownToHTML must read as
// literal text, and the structure it writes must parse as that structure).

func FuzzMarkdownToHTML(f *testing.F) {
	addSeeds(f, "md")
	f.Fuzz(func(t *testing.T, md string) {
		h, err := MarkdownToHTML(md)
		if err != nil {
			t.Fatalf("MarkdownToHTML: %v", err)
		}
		if !utf8.ValidString(h) {
			t.Fatalf("MarkdownToHTML returned invalid UTF-8: %q", h)
		}
		if _, err := MarkdownToText(md); err != nil {
			t.Fatalf("MarkdownToText: %v", err)
		}
		checkFixedPoint(t, h)
	})
}

func FuzzHTMLToMarkdown(f *testing.F) {
	addSeeds(f, "html")
	f.Fuzz(func(t *testing.T, h string) {
		txt, err := HTMLToText(h)
		if err != nil {
			t.Fatalf("HTMLToText: %v", err)
		}
		if !utf8.ValidString(txt) {
			t.Fatalf("HTMLToText returned invalid UTF-8: %q", txt)
		}
		checkFixedPoint(t, h)
	})
}

// checkFixedPoint converts h to Markdown, renders that and converts it
// again: the two Markdown texts must be equal. Text that looks like a URL
// or an email address is the exception: MarkdownToHTML makes it a link
// (as GitHub does), so the first trip may add links, and only the second
// must change nothing.
func checkFixedPoint(t *testing.T, h string) {
	t.Helper()
	md1 := roundTrip(t, h, false)
	md2 := roundTrip(t, h, true)
	if linkish(md1) {
		h2, _ := MarkdownToHTML(md1)
		md1, md2 = md2, roundTrip(t, h2, true)
	}
	if md1 != md2 {
		t.Fatalf("Markdown is not a fixed point\nhtml: %q\nmd1:  %q\nmd2:  %q", h, md1, md2)
	}
}

// roundTrip returns HTMLToMarkdown(h), or with again the Markdown of one
// more trip through MarkdownToHTML.
func roundTrip(t *testing.T, h string, again bool) string {
	t.Helper()
	md, err := HTMLToMarkdown(h)
	if err != nil {
		t.Fatalf("HTMLToMarkdown: %v", err)
	}
	if !utf8.ValidString(md) {
		t.Fatalf("HTMLToMarkdown returned invalid UTF-8: %q", md)
	}
	if !again {
		return md
	}
	h2, err := MarkdownToHTML(md)
	if err != nil {
		t.Fatalf("MarkdownToHTML: %v", err)
	}
	return roundTrip(t, h2, false)
}

func linkish(s string) bool {
	s = strings.ToLower(s)
	return strings.Contains(s, "@") || strings.Contains(s, "://") || strings.Contains(s, "www.")
}
