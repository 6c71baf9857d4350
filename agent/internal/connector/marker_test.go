package connector

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"regexp"
	"strings"
	"testing"
)

func TestMarkerText(t *testing.T) {
	if got := (Marker{System: "sys-1", Key: "HELP-7", URL: "https://x.example/HELP-7"}).Text(); got != "lockstep:sys-1:HELP-7" {
		t.Fatalf("Text = %q", got)
	}
}

// The hashes are pinned: entities already marked are found by them, so a
// change here would make recovery create duplicates.
func TestHashLabel(t *testing.T) {
	for _, tc := range []struct{ prefix, text, want string }{
		{"lockstep-", "sys-1:HELP-7", "lockstep-" + sha256Hex("sys-1:HELP-7")[:16]},
		{"lockstep-", "sys-1\x00HELP-7", "lockstep-" + sha256Hex("sys-1\x00HELP-7")[:16]},
		{"", "", "e3b0c44298fc1c14"},
	} {
		if got := HashLabel(tc.prefix, tc.text); got != tc.want {
			t.Errorf("HashLabel(%q, %q) = %q, want %q", tc.prefix, tc.text, got, tc.want)
		}
	}
	if !regexp.MustCompile(`^lockstep-[0-9a-f]{16}$`).MatchString(HashLabel("lockstep-", "a:b")) {
		t.Error("a label must be the prefix and 16 lowercase hex digits")
	}
}

func sha256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

func TestVerifySHA256(t *testing.T) {
	body, secret := []byte(`{"id":1}`), "whsec-1"
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	good := "sha256=" + hex.EncodeToString(m.Sum(nil))
	if !VerifySHA256(good, body, secret) {
		t.Fatal("a correct signature is refused")
	}
	for name, sig := range map[string]string{
		"missing": "", "no prefix": good[len("sha256="):], "not hex": "sha256=zz", "other body": good[:len(good)-2] + "00",
		"sha1 prefix": "sha1=" + good[len("sha256="):],
	} {
		if VerifySHA256(sig, body, secret) {
			t.Errorf("%s: %q verified", name, sig)
		}
	}
	if VerifySHA256(good, body, "other") || VerifySHA256(good, []byte(`{"id":2}`), secret) {
		t.Error("a signature verified with another secret or body")
	}
	empty := hmac.New(sha256.New, nil)
	empty.Write(body)
	if VerifySHA256("sha256="+hex.EncodeToString(empty.Sum(nil)), body, "") {
		t.Error("an empty secret must verify nothing")
	}
}

func TestOriginSurvivesSpellingsOfOneServer(t *testing.T) {
	same := []string{"https://Jira.Example.com/", "https://jira.example.com:443", "https://user:pw@jira.example.com", " https://jira.example.com "}
	want := Origin("https://jira.example.com", "HELP")
	for _, u := range same {
		if got := Origin(u, "HELP"); got != want {
			t.Errorf("Origin(%q) = %s, want %s", u, got, want)
		}
	}
	for _, other := range [][2]string{{"https://jira.example.com", "ENG"}, {"https://jira2.example.com", "HELP"}, {"http://jira.example.com", "HELP"}} {
		if Origin(other[0], other[1]) == want {
			t.Errorf("Origin%v collides with the HELP project's", other)
		}
	}
	if len(want) != 13 || want[0] != 'o' {
		t.Errorf("Origin = %q, want o and 12 hex digits", want)
	}
}

func TestParseMarkerReadsTextBack(t *testing.T) {
	m := Marker{System: Origin("https://help.example", "HELP"), Key: "HELP-12"}
	got, ok := ParseMarker(m.Text())
	if !ok || got.System != m.System || got.Key != m.Key {
		t.Fatalf("ParseMarker(%q) = %+v, %v", m.Text(), got, ok)
	}
	// Keys may hold colons (Redmine's "#12" does not, RT's do not, but a
	// key is the system's to choose): only the first colon splits.
	if got, ok := ParseMarker("lockstep:sys1:A:B"); !ok || got.Key != "A:B" {
		t.Fatalf("key with a colon: %+v %v", got, ok)
	}
	for _, bad := range []string{"", "lockstep:", "lockstep:sys", "lockstep::K", "other:sys:K", "lockstep:sys:"} {
		if _, ok := ParseMarker(bad); ok {
			t.Errorf("ParseMarker(%q) accepted", bad)
		}
	}
}

func TestHiddenMarkerRoundTripsOnce(t *testing.T) {
	for _, body := range []string{"It rattles.", "Two\n\nparagraphs\n", "", "Mentions <!-- a comment --> inside"} {
		stored := HideMarker(body, "lockstep:a:17")
		if n := strings.Count(stored, "lockstep:"); n != 1 {
			t.Fatalf("HideMarker(%q) holds %d markers: %q", body, n, stored)
		}
		text, marker := SplitMarker(stored)
		if marker != "lockstep:a:17" || text != strings.TrimRight(body, " \t\r\n") {
			t.Errorf("SplitMarker(%q) = %q, %q", stored, text, marker)
		}
	}
	// What older releases stored: the engine's marker in the body, wrapped
	// again by the connector.
	old := "**Ann** wrote in HELP-1:\n\nIt rattles.\n\n<!-- lockstep:a:1 -->\n\n<!-- <!- - lockstep:a:1 - -> -->"
	if text, marker := SplitMarker(old); marker != "lockstep:a:1" || text != "**Ann** wrote in HELP-1:\n\nIt rattles." {
		t.Errorf("SplitMarker(old) = %q, %q", text, marker)
	}
	if text, marker := SplitMarker("no marker <!-- here --> at all"); marker != "" || text != "no marker <!-- here --> at all" {
		t.Errorf("a plain HTML comment read as a marker: %q %q", text, marker)
	}
}
