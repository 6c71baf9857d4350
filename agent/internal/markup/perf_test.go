package markup

import (
	"strings"
	"testing"
	"time"
)

// Hostile rich text must not hold a sync worker: every conversion of
// these ~1 MB inputs finishes in well under the bound (a linear run takes
// milliseconds; the bound only catches quadratic blow-ups).
func TestConversionsStayFast(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("timing bounds need a plain, full run")
	}
	html := map[string]string{
		"many bold runs":   strings.Repeat("<b>x</b>", 100_000),
		"unclosed bold":    strings.Repeat("<b>x", 50_000),
		"alternating runs": strings.Repeat(`<b>"x"</b><i>y</i>`, 50_000),
		"nested spans":     strings.Repeat("<span>", 500) + strings.Repeat("x ", 100_000),
		"wide table":       "<table><tr>" + strings.Repeat("<td>x</td>", 100_000) + "</tr></table>",
		"long list":        "<ul>" + strings.Repeat("<li>x</li>", 100_000) + "</ul>",
		"deep quotes":      strings.Repeat("<blockquote>", 400) + strings.Repeat("x\n", 10_000),
	}
	md := map[string]string{
		"stars":         strings.Repeat("*", 1_000_000),
		"brackets":      strings.Repeat("[", 500_000) + strings.Repeat("]", 500_000),
		"emphasis mix":  strings.Repeat("*a **b", 100_000),
		"nested quotes": strings.Repeat(">", 100_000) + " x",
		"nested lists":  strings.Repeat("- ", 100_000) + "x",
		"backticks":     strings.Repeat("`a ``", 100_000),
	}
	const bound = 10 * time.Second
	for name, h := range html {
		start := time.Now()
		if _, err := HTMLToMarkdown(h); err != nil {
			t.Errorf("%s: %v", name, err)
		}
		if d := time.Since(start); d > bound {
			t.Errorf("HTMLToMarkdown(%s) took %v", name, d)
		}
		t.Logf("HTMLToMarkdown(%s): %v", name, time.Since(start))
	}
	for name, m := range md {
		start := time.Now()
		if _, err := MarkdownToText(m); err != nil {
			t.Errorf("%s: %v", name, err)
		}
		if d := time.Since(start); d > bound {
			t.Errorf("MarkdownToText(%s) took %v", name, d)
		}
		t.Logf("MarkdownToText(%s): %v", name, time.Since(start))
	}
}

func TestMarkdownTooComplexFallsBackToText(t *testing.T) {
	tests := []struct {
		name string
		md   string
		want bool
	}{
		{"ticket", readGolden(t, "ticket.md"), false},
		{"nesting", strings.Repeat("> ", 40) + "x", true},
		{"list nesting", strings.Repeat("- ", 20) + strings.Repeat("1. ", 20) + "x", true},
		{"moderate nesting", strings.Repeat("> - ", 8) + "x", false},
		{"brackets", strings.Repeat("[a](", maxBrackets+1), true},
		{"brackets in code do not count", "```\n" + strings.Repeat("[", maxBrackets+1) + "\n```\n", false},
		{"tilde fence", "~~~~\n" + strings.Repeat("*", maxDelimiters+1) + "\n~~~~\n[x", false},
		{"delimiters", strings.Repeat("*a _b", maxDelimiters/2+1), true},
		{"escaped delimiters do not count", strings.Repeat(`\*\[`, maxBrackets+maxDelimiters), false},
		{"size", strings.Repeat("a", maxParsedMarkdown+1), true},
	}
	for _, tt := range tests {
		if got := tooComplex(tt.md); got != tt.want {
			t.Errorf("%s: tooComplex = %v, want %v", tt.name, got, tt.want)
		}
	}
	got, err := MarkdownToHTML(strings.Repeat("> ", 40) + "<x> & y\nz\n\n\nw")
	if err != nil {
		t.Fatal(err)
	}
	want := "<p>" + strings.Repeat("&gt; ", 40) + "&lt;x&gt; &amp; y<br>\nz</p>\n<p>w</p>\n"
	if got != want {
		t.Errorf("fallback = %q, want %q", got, want)
	}
}
