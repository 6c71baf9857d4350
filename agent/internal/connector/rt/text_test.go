package rt

import "testing"

// TestPlainContent: RT keeps text/plain as written, so the Markdown it is
// given has its hard line breaks in the form that shows nothing; code and
// text keep every other backslash.
func TestPlainContent(t *testing.T) {
	for _, tc := range []struct{ md, want string }{
		// What Redmine's Textile "*bold*" paragraph with line breaks reads as.
		{"Some **bold**\\\nnext line\\\nlast", "Some **bold**  \nnext line  \nlast"},
		{"C:\\temp\\x and \\*literal\\*", "C:\\temp\\x and \\*literal\\*"},
		{"```sh\nmake \\\n  all\n```", "```sh\nmake \\\n  all\n```"},
	} {
		if got := plainContent(tc.md); got != tc.want {
			t.Errorf("plainContent(%q)\n got %q\nwant %q", tc.md, got, tc.want)
		}
	}
}
