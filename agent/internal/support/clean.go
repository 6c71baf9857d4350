package support

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
)

// secretKeyWords mark a key whose value is a secret, in a key normalised to
// lower-case letters and digits (api_key, apiKey and API-KEY all read
// "apikey").
var secretKeyWords = []string{
	"secret", "token", "password", "passwd", "passphrase", "pwd", "apikey",
	"authorization", "privatekey", "accesskey", "credential", "cookie", "sessionid",
}

// accountDropWords mark account keys that are left out altogether: a
// password hash (or its salt) has no place in a support package, not even
// redacted.
var accountDropWords = []string{"hash", "password", "passwd", "salt"}

func normKey(k string) string {
	var b strings.Builder
	for _, c := range strings.ToLower(k) {
		if (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') {
			b.WriteRune(c)
		}
	}
	return b.String()
}

func keyHasAny(k string, words []string) bool {
	n := normKey(k)
	for _, w := range words {
		if strings.Contains(n, w) {
			return true
		}
	}
	return false
}

func isSecretKey(k string) bool   { return keyHasAny(k, secretKeyWords) }
func isAccountDrop(k string) bool { return keyHasAny(k, accountDropWords) }

// cleaner walks a decoded JSON value and returns a copy without secrets.
type cleaner struct {
	sc   *Scrubber
	drop func(key string) bool // keys to leave out; nil keeps all
}

// cleanJSON encodes v and returns the cleaned generic form. Going through
// JSON means the value's own MarshalJSON (the Secret type's "[redacted]",
// json:"-" tags) is honoured first.
func (c cleaner) cleanJSON(v any) (any, error) {
	raw, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encode collected value: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var g any
	if err := dec.Decode(&g); err != nil {
		return nil, fmt.Errorf("decode collected value: %w", err)
	}
	return c.clean(g, false), nil
}

// clean redacts every string and number under a secret-named key, however
// deep; booleans and nulls stay, because {"secrets":{"apiToken":{"set":true}}}
// is exactly what support needs and tells nothing. Other strings, and keys,
// are scrubbed (URL userinfo, embedded password=..., known secrets).
func (c cleaner) clean(v any, secret bool) any {
	switch t := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, val := range t {
			if c.drop != nil && c.drop(k) {
				continue
			}
			out[c.sc.Scrub(k)] = c.clean(val, secret || isSecretKey(k))
		}
		return out
	case []any:
		out := make([]any, len(t))
		for i, e := range t {
			out[i] = c.clean(e, secret)
		}
		return out
	case string:
		if secret && t != "" { // an empty value says "not set" and nothing more
			return c.sc.redacted
		}
		return c.sc.Scrub(t)
	case json.Number:
		if secret || c.sc.Scrub(t.String()) != t.String() {
			return c.sc.redacted
		}
		return t
	default: // bool, nil
		return t
	}
}
