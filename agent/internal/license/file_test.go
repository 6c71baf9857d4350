package license

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
)

func TestIssueParseEncodeRoundTrip(t *testing.T) {
	text := issue(t, payload())
	f, err := Parse(text)
	if err != nil {
		t.Fatal(err)
	}
	if f.KeyID != "test" || len(f.Signature) != ed25519.SignatureSize {
		t.Fatalf("parsed %+v", f)
	}
	if got := Encode(f.KeyID, f.Payload, f.Signature); !bytes.Equal(got, text) {
		t.Fatalf("Encode(Parse(x)) != x:\n%s\n%s", got, text)
	}
	lic, err := Verify(text, Ring{"test": testPrivateKey(t).Public().(ed25519.PublicKey)})
	if err != nil {
		t.Fatal(err)
	}
	p := payload()
	if lic.LicenseID != p.LicenseID || lic.Customer != p.Customer || !lic.ExpiresAt.Equal(p.ExpiresAt) ||
		strings.Join(lic.AllowedSystems, ",") != "jira,servicenow" || lic.MaxUsers != 3 || lic.GraceDays != 14 {
		t.Fatalf("verified payload = %+v", lic.Payload)
	}
	for _, l := range strings.Split(strings.TrimSpace(string(text)), "\n") {
		if len(l) > 64 {
			t.Fatalf("line longer than 64: %q", l)
		}
	}
}

func testRing(t testing.TB) Ring {
	return Ring{"test": testPrivateKey(t).Public().(ed25519.PublicKey)}
}

func TestParseStructureErrors(t *testing.T) {
	good := string(issue(t, payload()))
	lines := strings.Split(strings.TrimSuffix(good, "\n"), "\n")
	join := func(ls ...string) string { return strings.Join(ls, "\n") + "\n" }
	endLic := indexOf(lines, endLicense)
	beginSig := indexOf(lines, beginSignature)
	endSig := indexOf(lines, endSignature)
	cases := []struct {
		name, text, want string
	}{
		{"empty", "", "the file is empty"},
		{"too big", strings.Repeat("A", MaxFileSize+1), "a license file is at most 65536"},
		{"only blank lines", "\n\n\n", "the license block is missing"},
		{"garbage first", "Dear customer,\n" + good, "line 1: expected -----BEGIN LOCKSTEP LICENSE-----"},
		{"signature first", join(lines[beginSig:]...) + join(lines[:beginSig]...), "line 1: expected -----BEGIN LOCKSTEP LICENSE-----"},
		{"no signature block", join(lines[:endLic+1]...), "the signature block is missing"},
		{"license block not closed", join(append(append([]string{}, lines[:endLic]...), lines[beginSig:]...)...), "line " + strconv.Itoa(endLic+1) + ": the license block is not closed"},
		{"signature block not closed", join(lines[:endSig]...), "the signature block is not closed"},
		{"blank line inside", join(append(append([]string{}, lines[:2]...), append([]string{""}, lines[2:]...)...)...), "line 3: blank line inside the license block"},
		{"text after", good + "P.S. thanks\n", "unexpected text after the signature block"},
		{"empty license block", join(append([]string{beginLicense}, lines[endLic:]...)...), "line 2: the license block is empty"},
		{"no key id", join(append(append([]string{}, lines[:beginSig+1]...), lines[beginSig+2:]...)...), "must start with a \"Key-Id: <key id>\" line"},
		{"malformed key id", strings.Replace(good, "Key-Id: test", "Key-Id: te st", 1), "malformed key id"},
		{"empty signature", join(append(append([]string{}, lines[:beginSig+2]...), lines[endSig:]...)...), "the signature block is empty"},
		{"short payload line", join(append(append([]string{}, lines[:1]...), append([]string{lines[1][:60], lines[1][60:] + lines[2]}, lines[3:]...)...)...), "line 2: license line is 60 characters"},
		{"long payload line", strings.Replace(good, lines[1]+"\n", lines[1]+"A\n", 1), "line 2: license line is 65 characters"},
		{"bad base64", strings.Replace(good, lines[2], "!"+lines[2][1:], 1), "line 3: invalid base64 in the license block at column 1"},
		{"non-canonical base64 padding", join(append(append([]string{}, lines[:beginSig+2]...), "AAB=", endSignature)...), "invalid base64 in the signature block"},
		{"short signature", join(append(append([]string{}, lines[:beginSig+2]...), "AAAA", endSignature)...), "the signature is 3 bytes, want 64"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.text))
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("err = %v, want ErrMalformed", err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %q, want it to contain %q", err, tc.want)
			}
		})
	}
}

func indexOf(lines []string, s string) int {
	for i, l := range lines {
		if l == s {
			return i
		}
	}
	return -1
}

func TestParseAcceptsCRLFAndSurroundingBlankLines(t *testing.T) {
	good := issue(t, payload())
	for name, text := range map[string][]byte{
		"crlf":         bytes.ReplaceAll(good, []byte("\n"), []byte("\r\n")),
		"blank lines":  append(append([]byte("\n\n"), bytes.Replace(good, []byte(endLicense+"\n"), []byte(endLicense+"\n\n"), 1)...), '\n'),
		"no final eol": bytes.TrimSuffix(good, []byte("\n")),
	} {
		if _, err := Verify(text, testRing(t)); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// TestTamperEveryByte flips bits in every byte of a license file: each
// change must be refused with a FileError, never accepted, never a panic.
func TestTamperEveryByte(t *testing.T) {
	good := issue(t, payload())
	ring := testRing(t)
	kinds := map[error]int{}
	for i := range good {
		for _, mask := range []byte{0x01, 0x02, 0x20, 0x40, 0x80, 0xff} {
			bad := bytes.Clone(good)
			bad[i] ^= mask
			lic, err := Verify(bad, ring)
			var fe *FileError
			if err == nil || !errors.As(err, &fe) {
				t.Fatalf("byte %d (%q) ^ %#x: accepted (%v, %+v)", i, good[i], mask, err, lic)
			}
			kinds[fe.Kind]++
		}
	}
	// Flips hit structure, base64, the key id and the signature alike.
	for _, k := range []error{ErrMalformed, ErrUnknownKey, ErrBadSignature} {
		if kinds[k] == 0 {
			t.Errorf("no tampering was reported as %v: %v", k, kinds)
		}
	}
}

// TestSignatureCoversExactBytes: the same JSON with other whitespace or
// key order is a different payload; the verifier never re-marshals.
func TestSignatureCoversExactBytes(t *testing.T) {
	good := issue(t, payload())
	f, err := Parse(good)
	if err != nil {
		t.Fatal(err)
	}
	for name, raw := range map[string][]byte{
		"reformatted":      bytes.ReplaceAll(f.Payload, []byte(","), []byte(", ")),
		"trailing eol":     append(bytes.Clone(f.Payload), '\n'),
		"max_users bumped": bytes.Replace(f.Payload, []byte(`"max_users":3`), []byte(`"max_users":9`), 1),
	} {
		_, err := Verify(Encode("test", raw, f.Signature), testRing(t))
		if !errors.Is(err, ErrBadSignature) {
			t.Errorf("%s: err = %v, want ErrBadSignature", name, err)
		}
	}
	for i := range f.Payload {
		raw := bytes.Clone(f.Payload)
		raw[i] ^= 0x01
		if _, err := Verify(Encode("test", raw, f.Signature), testRing(t)); !errors.Is(err, ErrBadSignature) {
			t.Fatalf("payload byte %d flipped: err = %v, want ErrBadSignature", i, err)
		}
	}
}

func TestUnknownKeyIsNamed(t *testing.T) {
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	p := payload()
	p.KeyID = "prod-2031"
	text, err := Issue(priv, p)
	if err != nil {
		t.Fatal(err)
	}
	_, err = Verify(text, testRing(t))
	if !errors.Is(err, ErrUnknownKey) || !strings.Contains(err.Error(), `"prod-2031"`) || !strings.Contains(err.Error(), "trusted keys: test") {
		t.Fatalf("err = %v", err)
	}
	_, err = Verify(text, Ring{})
	if !errors.Is(err, ErrUnknownKey) || !strings.Contains(err.Error(), "trusted keys: none") {
		t.Fatalf("empty ring: err = %v", err)
	}
	// A known key id whose key did not sign it.
	_, err = Verify(text, Ring{"prod-2031": testPrivateKey(t).Public().(ed25519.PublicKey)})
	if !errors.Is(err, ErrBadSignature) {
		t.Fatalf("wrong key: err = %v", err)
	}
	// A hand-made ring with a short key must not panic in ed25519.Verify.
	if _, err := Verify(text, Ring{"prod-2031": make(ed25519.PublicKey, 5)}); !errors.Is(err, ErrBadSignature) {
		t.Fatalf("short key: err = %v", err)
	}
}

func TestPayloadErrors(t *testing.T) {
	base := string(mustJSON(t, payload()))
	set := func(field, value string) string {
		// Replace one field's value in the marshalled payload.
		i := strings.Index(base, `"`+field+`":`)
		if i < 0 {
			t.Fatalf("no %s in %s", field, base)
		}
		j := i + len(field) + 3
		depth, k := 0, j
		for ; k < len(base); k++ {
			c := base[k]
			if c == '[' || c == '{' {
				depth++
			} else if c == ']' || c == '}' {
				if depth == 0 {
					break
				}
				depth--
			} else if c == ',' && depth == 0 {
				break
			}
		}
		return base[:j] + value + base[k:]
	}
	drop := func(field string) string {
		s := set(field, "@")
		s = strings.Replace(s, `"`+field+`":@,`, "", 1)
		return strings.Replace(s, `,"`+field+`":@`, "", 1)
	}
	cases := []struct{ name, json, want string }{
		{"not json", `{"format":1,`, "not a valid JSON object"},
		{"array", `[1]`, "not a valid JSON object"},
		{"no format", drop("format"), "missing field format"},
		{"format 2", set("format", "2"), "unsupported license format 2 (this agent reads format 1)"},
		{"format string", set("format", `"1"`), "format must be an integer"},
		{"unknown field", strings.Replace(base, `{`, `{"seats":5,`, 1), `unknown field "seats"`},
		{"case-folded field", strings.Replace(base, `"customer"`, `"Customer"`, 1), `unknown field "Customer"`},
		{"duplicate field", strings.Replace(base, `{`, `{"max_users":1000,`, 1), `field "max_users" appears twice`},
		{"trailing data", base + `{}`, "trailing data"},
		{"no license id", set("license_id", `""`), "missing field license_id"},
		{"no customer", drop("customer"), "missing field customer"},
		{"no issued", drop("issued_at"), "missing field issued_at"},
		{"no not before", drop("not_before"), "missing field not_before"},
		{"no expiry", drop("expires_at"), "missing field expires_at"},
		{"bad time", set("expires_at", `"next year"`), "does not match format 1"},
		{"expires before not before", set("expires_at", `"2026-02-01T00:00:00Z"`), "expires_at (2026-02-01) is not after not_before (2026-03-01)"},
		{"grace negative", set("grace_days", "-1"), "grace_days is -1"},
		{"grace too long", set("grace_days", "365"), "grace_days is 365"},
		{"no systems", set("allowed_systems", "[]"), "missing field allowed_systems"},
		{"bad system", set("allowed_systems", `["Jira"]`), "allowed_systems[0] is not a lowercase name"},
		{"duplicate system", set("allowed_systems", `["jira","jira"]`), `allowed_systems lists "jira" twice`},
		{"no users", set("max_users", "0"), "max_users is 0"},
		{"key mismatch", set("key_id", `"other"`), `the payload names key "other" but the signature block names "test"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Verify(signRaw(t, "test", []byte(tc.json)), testRing(t))
			if !errors.Is(err, ErrBadPayload) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want ErrBadPayload containing %q\npayload: %s", err, tc.want, tc.json)
			}
		})
	}
}

func TestIssueRefusesInvalidPayload(t *testing.T) {
	p := payload()
	p.MaxUsers = 0
	if _, err := Issue(testPrivateKey(t), p); !errors.Is(err, ErrBadPayload) {
		t.Fatalf("err = %v", err)
	}
	if _, err := Issue(ed25519.PrivateKey{1, 2}, payload()); err == nil {
		t.Fatal("a short private key was accepted")
	}
}

func TestParseRing(t *testing.T) {
	pub := testPrivateKey(t).Public().(ed25519.PublicKey)
	b64 := base64.StdEncoding.EncodeToString(pub)
	r, err := ParseRing(" a:" + b64 + " , b.2:" + b64 + ",")
	if err != nil || len(r) != 2 || !r["b.2"].Equal(pub) || strings.Join(r.IDs(), ",") != "a,b.2" {
		t.Fatalf("ring = %v, %v", r, err)
	}
	if r, err := ParseRing(""); err != nil || len(r) != 0 {
		t.Fatalf("empty: %v %v", r, err)
	}
	for _, bad := range []string{"a", "a:", "a:!!!!", ":" + b64, "a b:" + b64, "a:" + b64 + ",a:" + b64, "a:AAAA"} {
		if _, err := ParseRing(bad); err == nil {
			t.Errorf("ParseRing(%q) accepted", bad)
		}
	}
	if FormatKey("a", pub) != "a:"+b64 {
		t.Fatal("FormatKey")
	}
}

func TestBuiltinKeysInTests(t *testing.T) {
	r, err := BuiltinKeys()
	if err != nil {
		t.Fatal(err)
	}
	if !r["test"].Equal(testPrivateKey(t).Public()) {
		t.Fatalf("this package's tests must trust testdata/test.pub matching testdata/test.key; ring = %v", r.IDs())
	}
	prod, err := ParseRing(productionKeys)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := prod["test"]; ok {
		t.Fatal("the test key is among the production keys")
	}
}

// TestPlainBuildDoesNotTrustTestKey builds a program over this package
// with and without the licensetest tag: only the tagged build trusts the
// test key.
func TestPlainBuildDoesNotTrustTestKey(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a program twice")
	}
	run := func(args ...string) string {
		cmd := exec.Command("go", append([]string{"run"}, append(args, "./testdata/ringdump")...)...)
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("go run %v: %v\n%s", args, err, out)
		}
		return strings.TrimSpace(string(out))
	}
	if got := run(); got != "keys:" {
		t.Fatalf("plain build trusts %q, want no key", got)
	}
	if got := run("-tags", "licensetest"); got != "keys: test" {
		t.Fatalf("licensetest build trusts %q, want the test key", got)
	}
}
