package secret

import (
	"strings"
	"testing"
)

func TestScrubMatchesWholeOccurrencesOnly(t *testing.T) {
	const refused = `reach http://127.0.0.1:1: Get "http://127.0.0.1:1/api/status": dial tcp 127.0.0.1:1: connect: connection refused`
	cases := []struct {
		name, msg, want string
		secrets         []string
	}{
		// The probe's case: a one-letter token garbled the message and
		// spelled out its letters. Nothing here is the token itself.
		{"short secret inside words", refused, refused, []string{"t"}},
		{"short secret as its own token", "token t was refused", "token [redacted] was refused", []string{"t"}},
		{"bearer echo", `401: {"error":"bad token Bearer ghp_abcdefgh12345678"}`, `401: {"error":"bad token Bearer [redacted]"}`, []string{"ghp_abcdefgh12345678"}},
		{"query echo", "GET /x?key=s3cr3t+v%C3%A4lue&y=1 failed", "GET /x?key=[redacted]&y=1 failed", []string{"s3cr3t välue"}},
		{"JSON echo", `body {"secret":"a\"b\u003cc\u0026d-long"} rejected`, `body {"secret":"[redacted]"} rejected`, []string{`a"b<c&d-long`}},
		{"symbols at the edges", "password=p@ss:w0rd!!&next=1", "password=[redacted]&next=1", []string{"p@ss:w0rd!!"}},
		{"long secret glued into a word takes the word", "idXYZsecretvalue123Z99 end", "[redacted] end", []string{"secretvalue123"}},
		{"glued on one side only", "user:secretvalue123abc, ok", "user:[redacted], ok", []string{"secretvalue123"}},
		{"several and repeated", "a=aaaaaaaa1 b=bbbbbbbb2 a=aaaaaaaa1", "a=[redacted] b=[redacted] a=[redacted]", []string{"aaaaaaaa1", "bbbbbbbb2"}},
		{"one secret inside another", "k=longsecretvalue99", "k=[redacted]", []string{"secretvalue99x", "longsecretvalue99"}},
		{"non-ASCII around", "clé «motdepasse1» refusée", "clé «[redacted]» refusée", []string{"motdepasse1"}},
		{"nothing to do", "all fine", "all fine", []string{"", "absent-secret"}},
	}
	for _, c := range cases {
		got := Scrub(c.msg, c.secrets...)
		if got != c.want {
			t.Errorf("%s:\n got  %q\n want %q", c.name, got, c.want)
		}
	}
}

// TestScrubNeverShowsALongSecret checks the promise over many placements: a
// secret of MinLen or more never survives, whatever is around it.
func TestScrubNeverShowsALongSecret(t *testing.T) {
	const s = "Zq9_tok3n"
	for _, left := range []string{"", " ", "x", "é", "_", "9", "=", `"`, "\n"} {
		for _, right := range []string{"", " ", "y", "ü", "_", "0", "&", `"`, "."} {
			msg := "pre " + left + s + right + " post"
			out := Scrub(msg, s)
			if strings.Contains(out, s) || !strings.Contains(out, Redacted) {
				t.Errorf("%q -> %q", msg, out)
			}
			if !strings.HasPrefix(out, "pre") || !strings.HasSuffix(out, "post") {
				t.Errorf("%q -> %q: the message around it was lost", msg, out)
			}
		}
	}
}

func TestCheckLen(t *testing.T) {
	if CheckLen("") != nil || CheckLen("12345678") != nil || CheckLen("ééééééééé") != nil {
		t.Error("acceptable secrets refused")
	}
	err := CheckLen("t0k")
	if err == nil || !strings.Contains(err.Error(), "at least 8 characters") || strings.Contains(err.Error(), "t0k") {
		t.Errorf("short secret: %v", err)
	}
}

func FuzzScrub(f *testing.F) {
	f.Add("token abcdefgh1 here", "abcdefgh1")
	f.Add("xxabcdefgh1yy", "abcdefgh1")
	f.Fuzz(func(t *testing.T, msg, s string) {
		out := Scrub(msg, s)
		if len([]rune(s)) >= MinLen && strings.Contains(out, s) && !strings.Contains(Redacted, s) {
			t.Fatalf("Scrub(%q, %q) = %q still holds the secret", msg, s, out)
		}
		if s == "" && out != msg {
			t.Fatalf("no secret changed %q to %q", msg, out)
		}
	})
}
