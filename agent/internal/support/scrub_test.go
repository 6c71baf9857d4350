package support

import (
	"bytes"
	"encoding/json"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

func TestScrub(t *testing.T) {
	const known = "s3cr3t-Known!"
	tests := []struct {
		name, in, want string
	}{
		{"plain line untouched", `{"level":"info","message":"updated entity","entity_key":"HD-1"}`, `{"level":"info","message":"updated entity","entity_key":"HD-1"}`},
		{"bearer header", `GET /x Authorization: Bearer abc.def-ghi`, `GET /x Authorization: Bearer [redacted]`},
		{"bearer alone", `sent bearer abc123 to host`, `sent bearer [redacted] to host`},
		{"bearer in JSON", `{"hdr":"Bearer eyABC123"}`, `{"hdr":"Bearer [redacted]"}`},
		{"basic header", `Authorization: Basic dXNlcjpwYXNz`, `Authorization: Basic [redacted]`},
		{"basic standalone", `auth header Basic dXNlcjpwYXNzd29yZA== sent`, `auth header Basic [redacted] sent`},
		{"basic prose kept", `using basic authentication and Basic Configuration`, `using basic authentication and Basic Configuration`},
		{"authorization raw token", `authorization=abcdef123`, `authorization=[redacted]`},
		{"authorization JSON keeps scheme", `{"Authorization":"token ghx123"}`, `{"Authorization":"token [redacted]"}`},
		{"password query", `GET https://h/x?user=a&password=hunter2&x=1`, `GET https://h/x?user=a&password=[redacted]&x=1`},
		{"passwd form", `passwd=abc def`, `passwd=[redacted] def`},
		{"pwd", `pwd=abc;next`, `pwd=[redacted];next`},
		{"token query", `?access_token=xyz&a=b`, `?access_token=[redacted]&a=b`},
		{"api_key", `api_key=K123 apikey=K456 X-Api-Key: K789`, `api_key=[redacted] apikey=[redacted] X-Api-Key: [redacted]`},
		{"secret", `client_secret=abc`, `client_secret=[redacted]`},
		{"JSON password", `{"user":"a","password":"p\"w","x":1}`, `{"user":"a","password":"[redacted]","x":1}`},
		{"JSON spaced", `{"token": "abc"}`, `{"token": "[redacted]"}`},
		{"JSON number becomes string", `{"pin_token":12345}`, `{"pin_token":"[redacted]"}`},
		{"escaped JSON in a message", `{"message":"body {\"password\":\"hunter2\"}"}`, `{"message":"body {\"password\":\"[redacted]\"}"}`},
		{"JSON array", `{"tokens":["a","b\"]"],"x":1}`, `{"tokens":"[redacted]","x":1}`},
		{"bracketed bare value", `password=[abc] next`, `password=[redacted] next`},
		{"single quotes", `{'password': 'abc def'}`, `{'password': '[redacted]'}`},
		{"go struct", `{User:bob Password:hunter2}`, `{User:bob Password:[redacted]}`},
		{"cut JSON value", `{"password":"abc`, `{"password":"[redacted]`},
		{"URL userinfo", `dial https://bob:hunter2@jira.example.com/rest`, `dial https://[redacted]@jira.example.com/rest`},
		{"URL userinfo with @ in password", `https://bob:p@ss@host/x`, `https://[redacted]@host/x`},
		{"URL without userinfo", `https://host/path?email=a@b.c`, `https://host/path?email=a@b.c`},
		{"URL in JSON", `{"url":"http://u:p@h:8080"}`, `{"url":"http://[redacted]@h:8080"}`},
		{"known secret mid-message", `failed: ` + known + ` was rejected`, `failed: [redacted] was rejected`},
		{"known secret JSON-escaped", `{"m":"x s3cr3t-Known! y"}`, `{"m":"x [redacted] y"}`},
		{"known secret URL-escaped", `?q=s3cr3t-Known%21`, `?q=[redacted]`},
		{"JWT", `got eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.abc_def now`, `got [redacted] now`},
		{"GitHub PAT", `pat ghp_0123456789abcdefghijABCDEFGHIJ012345`, `pat [redacted]`},
		{"PEM", `key -----BEGIN RSA PRIVATE KEY-----\nMIIabc\n-----END RSA PRIVATE KEY----- done`, `key [redacted] done`},
		{"unicode case folding", "pa\u017f\u017fword=abc api\u212aey=def", "pa\u017f\u017fword=[redacted] api\u212aey=[redacted]"},
		{"token word without value untouched", `refreshing token for system helpdesk`, `refreshing token for system helpdesk`},
	}
	sc := NewScrubber([]string{known, "ab"}) // "ab" is below MinSecretLen: ignored
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := sc.Scrub(tt.in)
			if got != tt.want {
				t.Errorf("Scrub(%q)\n got %q\nwant %q", tt.in, got, tt.want)
			}
			if again := sc.Scrub(got); again != got {
				t.Errorf("not idempotent: %q -> %q", got, again)
			}
			if full := sc.scrub(tt.in); full != got {
				t.Errorf("trigger shortcut changed the result: %q vs %q", got, full)
			}
		})
	}
}

func TestScrubCounts(t *testing.T) {
	sc := NewScrubber([]string{"known-value"})
	sc.Scrub("password=a Bearer b known-value")
	got := sc.Counts()
	for _, r := range []string{"key_value", "bearer", "known_secret"} {
		if got[r] != 1 {
			t.Errorf("count %s = %d, want 1 (all: %v)", r, got[r], got)
		}
	}
}

// A known secret inside "[redacted]" must not make the marker the leak.
func TestScrubSecretInsideMarker(t *testing.T) {
	sc := NewScrubber([]string{"dact"})
	got := sc.Scrub("password=x and dact here")
	if strings.Contains(got, "dact") {
		t.Fatalf("secret left: %q", got)
	}
	if got != "password=[-] and [-] here" {
		t.Fatalf("got %q", got)
	}
}

// Markers must be fixed points, or idempotence fails for removed lines.
func TestMarkersAreInert(t *testing.T) {
	sc := NewScrubber(nil)
	for _, m := range []string{Redacted, shortMarker, longLineMarker, badLineMarker} {
		if hasTrigger(m) {
			t.Errorf("marker %q holds a trigger", m)
		}
		if got := sc.scrub(m); got != m {
			t.Errorf("marker %q scrubs to %q", m, got)
		}
	}
}

func TestLineWriter(t *testing.T) {
	sc := NewScrubber([]string{"KNOWN-123"})
	in := "a password=x\nb KNOWN-123 c\n\nlast Bearer tok"
	want := "a password=[redacted]\nb [redacted] c\n\nlast Bearer [redacted]"
	for _, name := range []string{"whole", "one byte at a time"} {
		t.Run(name, func(t *testing.T) {
			var out bytes.Buffer
			w := sc.NewWriter(&out)
			var r io.Reader = strings.NewReader(in)
			if name != "whole" {
				r = iotest.OneByteReader(r)
			}
			if _, err := io.Copy(w, r); err != nil {
				t.Fatal(err)
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			if out.String() != want {
				t.Fatalf("got %q\nwant %q", out.String(), want)
			}
		})
	}
}

func TestLineWriterLongLine(t *testing.T) {
	sc := NewScrubber(nil)
	var out bytes.Buffer
	w := sc.NewWriter(&out)
	long := "password=" + strings.Repeat("x", MaxLineBytes)
	for _, chunk := range []string{"first\n", long[:1000], long[1000:], "\nafter\n", long} {
		if _, err := io.WriteString(w, chunk); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	want := "first\n" + longLineMarker + "\nafter\n" + longLineMarker
	if out.String() != want {
		t.Fatalf("got %.200q\nwant %q", out.String(), want)
	}
	if sc.Counts()["line_too_long"] != 2 {
		t.Fatalf("counts %v", sc.Counts())
	}
}

func TestLineWriterError(t *testing.T) {
	sc := NewScrubber(nil)
	w := sc.NewWriter(errWriter{})
	_, _ = io.WriteString(w, strings.Repeat("line\n", outBufferSize))
	if err := w.Close(); err == nil {
		t.Fatal("Close hid the write error")
	}
}

type errWriter struct{}

func (errWriter) Write([]byte) (int, error) { return 0, io.ErrShortWrite }

// The JSON a scrubbed log line came from must still parse: a redacted value
// stays a string.
func TestScrubKeepsJSON(t *testing.T) {
	sc := NewScrubber([]string{"topsecret"})
	in := `{"level":"info","password":"x\"y","api_key":42,"url":"https://a:b@h","message":"Bearer q topsecret","n":{"token":true}}`
	out := sc.Scrub(in)
	var v map[string]any
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		t.Fatalf("scrubbed line is not JSON: %v\n%s", err, out)
	}
	for _, s := range []string{"x\\\"y", "42", "a:b", "topsecret", " q "} {
		if strings.Contains(out, s) {
			t.Errorf("%q left in %s", s, out)
		}
	}
}

// tokenChars is the alphabet of a credential that the patterns alone, with no
// known secrets, must catch in every shape FuzzScrub plants it in.
func tokenOf(s string, alnumOnly bool) string {
	var b strings.Builder
	for _, c := range []byte(s) {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
			b.WriteByte(c)
		case !alnumOnly && (c == '.' || c == '_' || c == '~' || c == '-'):
			b.WriteByte(c)
		}
	}
	return b.String()
}

// FuzzScrub checks the scrubber's promises on any text and any secret:
// a known secret never survives, wherever it is planted; scrubbing is
// idempotent; the trigger shortcut never changes a result; the line writer
// agrees with Scrub; and, without knowing the secret, the patterns remove a
// credential planted in each shape they cover.
func FuzzScrub(f *testing.F) {
	f.Add(`{"level":"info","component":"sync","message":"updated entity"}`, "hunter2-canary")
	f.Add(`GET https://jira.example.com/rest?x=1`, "Zm9vOmJhcg==")
	f.Add(`{"message":"body {\"password\":\"x\"}"}`, `p"w\d`)
	f.Add("multi\nline", "dact")
	f.Add("Bearer", "[redacted]")
	f.Fuzz(func(t *testing.T, line, secret string) {
		sc := NewScrubber([]string{secret})
		half := len(line) / 2
		planted := []string{
			line,
			line + secret,
			secret + line,
			line[:half] + secret + line[half:],
			`{"password":"` + secret + `"}` + line,
			"Authorization: Bearer " + secret + " " + line,
			"https://user:" + secret + "@host/ " + line,
			line + " token=" + secret,
			jsonInner(line+secret, false),
		}
		for _, in := range planted {
			out := sc.Scrub(in)
			if len(secret) >= MinSecretLen && strings.Contains(out, secret) {
				t.Fatalf("secret %q survived:\n in %q\nout %q", secret, in, out)
			}
			if again := sc.Scrub(out); again != out {
				t.Fatalf("not idempotent:\n in %q\n 1st %q\n 2nd %q", in, out, again)
			}
			if full := sc.scrub(in); full != out {
				t.Fatalf("trigger shortcut changed the result of %q:\n %q\n %q", in, out, full)
			}
			if !strings.Contains(in, "\n") {
				var buf bytes.Buffer
				w := sc.NewWriter(&buf)
				_, _ = io.WriteString(w, in+"\n")
				_ = w.Close()
				if buf.String() != out+"\n" {
					t.Fatalf("writer and Scrub disagree on %q:\n %q\n %q", in, buf.String(), out+"\n")
				}
			}
		}

		plain := NewScrubber(nil)
		shapes := []string{
			"password=%s", `"token":"%s"`, `\"api_key\":\"%s\"`, "Authorization: Bearer %s",
			"https://user:%s@host/", "X-Api-Key: %s", "client_secret: '%s'",
		}
		if tok := tokenOf(secret, true); len(tok) >= 8 && !looksLikeWord(tok) {
			shapes = append(shapes, "Authorization: Basic "+tok) // no verb: the whole shape is fixed
		}
		tok := tokenOf(secret, false)
		if len(tok) < MinSecretLen || strings.Contains(line, tok) {
			return
		}
		for _, m := range []string{Redacted, longLineMarker, badLineMarker} {
			if strings.Contains(m, tok) {
				return // the marker is public text, not the credential
			}
		}
		for _, shape := range shapes {
			s := shape
			if strings.Contains(shape, "%s") {
				s = strings.Replace(shape, "%s", tok, 1)
			} else if !strings.Contains(s, tok) {
				continue
			}
			if strings.Contains(strings.Replace(shape, "%s", " ", 1), tok) {
				continue // the key name itself holds tok ("assw" in password)
			}
			in := line + " " + s + " " + line
			if out := plain.Scrub(in); strings.Contains(out, tok) {
				t.Fatalf("pattern %q let %q through:\n in %q\nout %q", shape, tok, in, out)
			}
		}
	})
}

// A multi-line known secret is removed line by line from plain-text logs.
func TestScrubMultiLineSecret(t *testing.T) {
	key := "-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIBvY1+line-one\nAoGCCqGSM49+line-two\n-----END EC PRIVATE KEY-----\n"
	sc := NewScrubber([]string{key})
	var out bytes.Buffer
	w := sc.NewWriter(&out)
	_, _ = io.WriteString(w, "loaded key\n"+key+"done\n")
	_ = w.Close()
	for _, l := range []string{"MHcCAQEEIBvY1+line-one", "AoGCCqGSM49+line-two"} {
		if strings.Contains(out.String(), l) {
			t.Errorf("line %q of the secret left:\n%s", l, out.String())
		}
	}
	if !strings.HasPrefix(out.String(), "loaded key\n") || !strings.HasSuffix(out.String(), "done\n") {
		t.Errorf("surrounding lines changed:\n%s", out.String())
	}
}
