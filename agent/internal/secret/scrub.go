package secret

import (
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MinLen is the shortest secret the agent accepts. Removing a secret from a
// message a remote server wrote only works when the secret cannot also be
// an ordinary word or part of one: a one-letter token, replaced wherever it
// occurs, garbles every message and spells out which letters it holds. Eight
// characters is below every credential the supported systems issue (API
// keys, personal access tokens and shared secrets are 20 or more) and far
// above the lengths that collide with words.
const MinLen = 8

// CheckLen refuses a secret too short to be scrubbed safely; "" (no secret,
// or clearing one) passes. The error never contains the value.
func CheckLen(v string) error {
	if v == "" {
		return nil
	}
	if n := utf8.RuneCountInString(v); n < MinLen {
		return fmt.Errorf("is too short: a secret needs at least %d characters so that it can be kept out of messages and logs", MinLen)
	}
	return nil
}

// Scrub removes every occurrence of the secrets from msg, as they are and in
// the escaped forms servers quote them in (JSON string, URL query, URL
// path). It matches whole occurrences only, at token boundaries: where a
// secret stands as its own token (between spaces, quotes, "=", ":"...) it
// becomes the fixed marker Redacted, which shows neither its content nor
// its length. Where it is glued into a longer run of letters, digits and
// underscores, a secret of MinLen or more characters takes that whole run
// with it (it is surely an echo, and the run would show where it starts and
// ends); a shorter one, which the agent no longer accepts but an older store
// may hold, is left alone there, because replacing it inside words garbles
// every message and spells out which letters it holds.
func Scrub(msg string, secrets ...string) string {
	var forms []string
	for _, s := range secrets {
		if s == "" {
			continue
		}
		forms = append(forms, s, url.QueryEscape(s), url.PathEscape(s))
		if j, err := json.Marshal(s); err == nil {
			forms = append(forms, strings.Trim(string(j), `"`))
		}
	}
	// Longest first, so that a secret's escaped form is not cut short by a
	// shorter secret it contains.
	slices.SortFunc(forms, func(a, b string) int { return len(b) - len(a) })
	forms = slices.Compact(forms)
	for _, f := range forms {
		if f != "" {
			msg = scrubOne(msg, f)
		}
	}
	return msg
}

// scrubOne replaces the whole occurrences of f (see Scrub).
func scrubOne(msg, f string) string {
	if !strings.Contains(msg, f) {
		return msg
	}
	first, _ := utf8.DecodeRuneInString(f)
	lastR, _ := utf8.DecodeLastRuneInString(f)
	long := utf8.RuneCountInString(f) >= MinLen
	var b strings.Builder
	last := 0 // msg[:last] is written
	for from := 0; from <= len(msg); {
		i := strings.Index(msg[from:], f)
		if i < 0 {
			break
		}
		start, end := from+i, from+i+len(f)
		before, _ := utf8.DecodeLastRuneInString(msg[last:start])
		after, _ := utf8.DecodeRuneInString(msg[end:])
		gluedL := start > last && wordRune(first) && wordRune(before)
		gluedR := end < len(msg) && wordRune(lastR) && wordRune(after)
		if (gluedL || gluedR) && !long {
			_, n := utf8.DecodeRuneInString(msg[start:])
			from = start + n
			continue
		}
		for gluedL && start > last {
			r, n := utf8.DecodeLastRuneInString(msg[last:start])
			if !wordRune(r) {
				break
			}
			start -= n
		}
		for gluedR && end < len(msg) {
			r, n := utf8.DecodeRuneInString(msg[end:])
			if !wordRune(r) {
				break
			}
			end += n
		}
		b.WriteString(msg[last:start])
		b.WriteString(Redacted)
		last, from = end, end
	}
	b.WriteString(msg[last:])
	return b.String()
}

func wordRune(r rune) bool { return r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r) }

// Values reveals the set values of a map of secrets, for Scrub; they stay
// in memory.
func Values(m map[string]Secret) []string {
	out := make([]string, 0, len(m))
	for _, v := range m {
		if v.IsSet() {
			out = append(out, v.value)
		}
	}
	return out
}
