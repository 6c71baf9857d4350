package connector

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"
)

func TestDigest(t *testing.T) {
	sum := sha256.Sum256([]byte("In Progress"))
	if got, want := Digest("In Progress"), "sha256:"+hex.EncodeToString(sum[:])[:12]; got != want {
		t.Fatalf("Digest = %q, want %q (what sha256sum prints, cut to 12 digits)", got, want)
	}
	if Digest(2.5) != Digest("2.5") || Digest(true) != Digest("true") || Digest([]string{"a"}) != Digest(`["a"]`) {
		t.Fatal("a value's digest is the digest of its text")
	}
}

func TestHideValues(t *testing.T) {
	const secret = "the customer's secret plan"
	for _, tc := range []struct {
		name, text string
		values     []string
		want       string
	}{
		{"quoted", `label "` + secret + `" is invalid`, []string{secret}, `label "` + Digest(secret) + `" is invalid`},
		{"each line", "line two of it is too long", []string{"line one of it\nline two of it"}, Digest("line two of it") + " is too long"},
		{"JSON-escaped", `{"got":"say \"hi\" twice"}`, []string{`say "hi" twice`}, `{"got":"` + Digest(`say \"hi\" twice`) + `"}`},
		{"longest first", "value abcdefghij", []string{"abcdefgh", "abcdefghij"}, "value " + Digest("abcdefghij")},
		{"short values as words only", "Status open is not allowed; reopened by address", []string{"open", "add"},
			"Status " + Digest("open") + " is not allowed; reopened by address"},
		{"two characters", "Priority changed from '50' to '20'", []string{"20"}, "Priority changed from '50' to '" + Digest("20") + "'"},
		{"one character left", "a b c", []string{"b"}, "a b c"},
		{"nothing sent", "plain", nil, "plain"},
	} {
		if got := HideValues(tc.text, tc.values); got != tc.want {
			t.Errorf("%s: HideValues(%q)\n got %q\nwant %q", tc.name, tc.text, got, tc.want)
		}
	}
}

func TestDescribeUser(t *testing.T) {
	got := DescribeUser(User{ID: "17", Email: "ann@example.com", Name: "Ann Smith"})
	if !strings.Contains(got, `id "17"`) || strings.Contains(got, "ann@") || strings.Contains(got, "Ann") ||
		!strings.Contains(got, Digest("ann@example.com")) || !strings.Contains(got, Digest("Ann Smith")) {
		t.Fatalf("DescribeUser = %q", got)
	}
	if DescribeUser(User{}) != "nobody" {
		t.Fatal("an empty user")
	}
}

func TestTexts(t *testing.T) {
	got := Texts(map[string]any{"title": "T", "cf": map[string]any{"n": 3.5, "l": []any{"x", "y"}}, "who": User{ID: "7", Email: "e@x"}})
	want := map[string]bool{"T": true, "3.5": true, "x": true, "y": true, "7": true, "e@x": true, "": true}
	for _, s := range got {
		if !want[s] {
			t.Errorf("Texts listed %q", s)
		}
		delete(want, s)
	}
	delete(want, "")
	if len(want) > 0 {
		t.Errorf("Texts missed %v", want)
	}
}
