package mapping

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// golden compares got with testdata/golden/name, or rewrites it with
// -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatalf("write golden: %v", err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden (run go test -update to create it): %v", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from the golden file\n--- got ---\n%s\n--- want ---\n%s", name, got, want)
	}
}

func readGolden(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "golden", name))
	if err != nil {
		t.Fatalf("read input: %v", err)
	}
	return string(b)
}

// The golden conversions of a realistic ticket, each way. The round-trip
// files document what survives: ticket.md.html.md is the Markdown a ticket
// comes back as after a trip through an HTML system.
func TestGoldenConversions(t *testing.T) {
	must := func(s string, err error) string {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	md := readGolden(t, "ticket.md")
	h := must(MarkdownToHTML(md))
	golden(t, "ticket.md.html", h)
	golden(t, "ticket.md.txt", must(MarkdownToText(md)))
	back := must(HTMLToMarkdown(h))
	golden(t, "ticket.md.html.md", back)
	// The round trip is stable after one trip.
	if again := must(HTMLToMarkdown(must(MarkdownToHTML(back)))); again != back {
		t.Errorf("Markdown round trip is not stable:\n%s\n---\n%s", back, again)
	}

	in := readGolden(t, "ticket.html")
	m := must(HTMLToMarkdown(in))
	golden(t, "ticket.html.md", m)
	golden(t, "ticket.html.txt", must(HTMLToText(in)))
	golden(t, "ticket.html.md.html", must(MarkdownToHTML(m)))
	if strings.Contains(m, "alert") || strings.Contains(m, "javascript") {
		t.Errorf("script or javascript: link survived:\n%s", m)
	}
}
