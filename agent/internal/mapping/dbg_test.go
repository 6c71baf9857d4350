package mapping

import ("testing";"strings";"time")

func TestDbg(t *testing.T) {
	for name, m := range map[string]string{
		"emphasis mix":  strings.Repeat("*a **b", 100_000),
		"nested lists":  strings.Repeat("- ", 100_000) + "x",
		"brackets":      strings.Repeat("[", 500_000) + strings.Repeat("]", 500_000),
		"nested quotes": strings.Repeat(">", 100_000) + " x",
	} {
		s := time.Now()
		h, _ := MarkdownToHTML(m)
		t.Logf("%s md->html %v (%d bytes)", name, time.Since(s), len(h))
		s = time.Now()
		HTMLToText(h)
		t.Logf("%s html->text %v", name, time.Since(s))
	}
}
