package connector

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

// VerifySHA256 checks a webhook signature of the common form
// "sha256=<hex HMAC-SHA256 of the body keyed by the secret>" (Jira's
// X-Hub-Signature, the sandbox's X-Sandbox-Signature) in constant time.
// An empty secret verifies nothing: a hook registered without one cannot
// be told from a forgery.
func VerifySHA256(signature string, body []byte, secret string) bool {
	got, ok := strings.CutPrefix(signature, "sha256=")
	sig, err := hex.DecodeString(got)
	if !ok || err != nil || secret == "" {
		return false
	}
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return hmac.Equal(sig, m.Sum(nil))
}
