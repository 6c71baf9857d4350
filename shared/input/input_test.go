package input

import (
	"strings"
	"testing"
)

func TestNameRefusesWhatSpoofsOrRewritesDisplays(t *testing.T) {
	refused := map[string]string{
		"tab":                    "a\tb",
		"escape":                 "red\x1b[31m",
		"bell":                   "ding\a",
		"delete":                 "x\x7f",
		"newline":                "two\nlines",
		"nul":                    "a\x00b",
		"C1 control":             "a\u0085b",
		"right-to-left override": "invoice\u202Efdp.exe",
		"left-to-right mark":     "a\u200Eb",
		"isolate":                "a\u2067b\u2069",
		"arabic letter mark":     "a\u061Cb",
		"line separator":         "a\u2028b",
		"paragraph separator":    "a\u2029b",
		"byte order mark":        "\uFEFFname",
		"zero width space":       "ad\u200Bmin",
		"invalid UTF-8":          "a\xffb",
		"replacement char":       "a\uFFFDb",
		"private use":            "a\uE000b",
		"non-character":          "a\uFFFEb",
	}
	for what, s := range refused {
		if _, err := Name(s, MaxName); err == nil {
			t.Errorf("%s: %q accepted", what, s)
		}
	}
	for _, s := range []string{"Helpdesk", "Ingeniería ↔ Soporte", "工程部", "مكتب المساعدة", "Team 👩‍💻 (zwj emoji)", "a-b_c.d@e"} {
		got, err := Name("  "+s+" ", MaxName)
		if err != nil || got != s {
			t.Errorf("%q: %q, %v", s, got, err)
		}
	}
}

func TestErrorsStateTheLimitAndThePlace(t *testing.T) {
	_, err := Name(strings.Repeat("é", 101), MaxName)
	if err == nil || !strings.Contains(err.Error(), "longer than 100 characters (it has 101)") {
		t.Errorf("long name: %v", err)
	}
	if _, err := Name(strings.Repeat("é", 100), MaxName); err != nil {
		t.Errorf("100 two-byte characters: %v", err)
	}
	_, err = Name("ab\tc", MaxName)
	if err == nil || !strings.Contains(err.Error(), "U+0009 at character 3") {
		t.Errorf("tab: %v", err)
	}
	if _, err := Name("   ", MaxName); err == nil || err.Error() != "is required" {
		t.Errorf("blank: %v", err)
	}
	if err := Bounded(strings.Repeat("x", MaxURL+1), MaxURL); err == nil || !strings.Contains(err.Error(), "longer than 2048 bytes (it has 2049)") {
		t.Errorf("bounded: %v", err)
	}
	if err := Bounded("line one\nline two\ttabbed", 100); err != nil {
		t.Errorf("free text with breaks: %v", err)
	}
}

func FuzzName(f *testing.F) {
	for _, s := range []string{"ok", "a\u202Eb", "\xff", " x "} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := Name(s, MaxName)
		if err != nil {
			return
		}
		for _, r := range got {
			if Refused(r) != "" {
				t.Fatalf("accepted %q holding %U", got, r)
			}
		}
		if strings.TrimSpace(got) != got || got == "" {
			t.Fatalf("accepted %q untrimmed or empty", got)
		}
	})
}
