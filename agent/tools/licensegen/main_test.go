package main

import (
	"bytes"
	"crypto/ed25519"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/lockstep-sync/lockstep/agent/internal/license"
	"github.com/lockstep-sync/lockstep/agent/internal/license/licensetest"
)

var fixed = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func lg(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var o, e bytes.Buffer
	code = run(args, &o, &e, func() time.Time { return fixed })
	return o.String(), e.String(), code
}

func TestKeygenIssueInspect(t *testing.T) {
	dir := t.TempDir()
	out, errOut, code := lg(t, "keygen", "-out", dir, "-kid", "prod-2026")
	if code != 0 {
		t.Fatalf("keygen: %d %s", code, errOut)
	}
	pubLine := strings.TrimSpace(out)
	ring, err := license.ParseRing(pubLine)
	if err != nil || len(ring["prod-2026"]) != ed25519.PublicKeySize {
		t.Fatalf("keygen printed %q: %v", pubLine, err)
	}
	if !strings.Contains(errOut, "productionKeys="+pubLine) {
		t.Fatalf("keygen does not show the ldflags: %s", errOut)
	}
	keyFile := filepath.Join(dir, "prod-2026.key")
	if fi, err := os.Stat(keyFile); err != nil || (runtime.GOOS != "windows" && fi.Mode().Perm() != 0o600) {
		t.Fatalf("private key file: %v %v", fi, err)
	}
	if pub, _ := os.ReadFile(filepath.Join(dir, "prod-2026.pub")); strings.TrimSpace(string(pub)) != pubLine {
		t.Fatalf("pub file = %q", pub)
	}
	if _, _, code := lg(t, "keygen", "-out", dir, "-kid", "prod-2026"); code != 1 {
		t.Fatal("keygen overwrote an existing key")
	}

	lic := filepath.Join(dir, "acme.lic")
	_, errOut, code = lg(t, "issue", "-key", keyFile, "-customer", "ACME Corp", "-systems", "jira, servicenow",
		"-max-users", "50", "-features", "bulk", "-not-before", "2026-04-01", "-id", "LIC-42", "-o", lic)
	if code != 0 {
		t.Fatalf("issue: %d %s", code, errOut)
	}
	text, err := os.ReadFile(lic)
	if err != nil {
		t.Fatal(err)
	}
	l, err := license.Verify(text, ring)
	if err != nil {
		t.Fatal(err)
	}
	p := l.Payload
	if p.LicenseID != "LIC-42" || p.KeyID != "prod-2026" || p.Customer != "ACME Corp" || !p.IssuedAt.Equal(fixed) ||
		!p.NotBefore.Equal(time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)) || !p.ExpiresAt.Equal(time.Date(2027, 4, 1, 0, 0, 0, 0, time.UTC)) ||
		p.GraceDays != 14 || strings.Join(p.AllowedSystems, ",") != "jira,servicenow" || p.MaxUsers != 50 || strings.Join(p.Features, ",") != "bulk" {
		t.Fatalf("payload = %+v", p)
	}
	if _, _, code := lg(t, "issue", "-key", keyFile, "-customer", "X", "-systems", "jira", "-max-users", "5", "-o", lic); code != 1 {
		t.Fatal("issue overwrote a license without -force")
	}

	out, _, code = lg(t, "inspect", "-pub", filepath.Join(dir, "prod-2026.pub"), lic)
	if code != 0 || !strings.Contains(out, "Signature: valid (key prod-2026") || !strings.Contains(out, `"customer": "ACME Corp"`) ||
		!strings.Contains(out, "not valid yet") {
		t.Fatalf("inspect: %d\n%s", code, out)
	}
	out, _, code = lg(t, "inspect", "-pub", pubLine, lic)
	if code != 0 || !strings.Contains(out, "Signature: valid") {
		t.Fatalf("inspect with a key line: %d\n%s", code, out)
	}
	// This tool's test build trusts no key: the embedded ring refuses it.
	out, _, code = lg(t, "inspect", lic)
	if code != 1 || !strings.Contains(out, "NOT VERIFIED") || !strings.Contains(out, `"prod-2026"`) {
		t.Fatalf("inspect with the built-in ring: %d\n%s", code, out)
	}
	tampered := bytes.Replace(text, []byte("Key-Id: prod-2026\n"), []byte("Key-Id: prod-2026\n"), 1)
	tampered[40] ^= 0x01
	os.WriteFile(lic+".bad", tampered, 0o644)
	out, _, code = lg(t, "inspect", "-pub", pubLine, lic+".bad")
	if code != 1 || !strings.Contains(out, "does not match the payload") {
		t.Fatalf("inspect tampered: %d\n%s", code, out)
	}
}

func TestIssueToStdoutWithTestKey(t *testing.T) {
	key := filepath.Join("..", "..", "internal", "license", "testdata", "test.key")
	out, errOut, code := lg(t, "issue", "-key", key, "-customer", "Demo", "-systems", "jira,nosuchkind", "-max-users", "5",
		"-days", "30", "-grace", "0", "-o", "-")
	if code != 0 {
		t.Fatalf("issue: %d %s", code, errOut)
	}
	if !strings.Contains(errOut, `"nosuchkind" is not a system kind`) {
		t.Fatalf("no warning for an unknown kind: %s", errOut)
	}
	l, err := license.Verify([]byte(out), licensetest.Keys())
	if err != nil {
		t.Fatal(err)
	}
	if !l.ExpiresAt.Equal(fixed.AddDate(0, 0, 30)) || l.GraceDays != 0 || !strings.HasPrefix(l.LicenseID, "LIC-") {
		t.Fatalf("payload = %+v", l.Payload)
	}
}

// TestTestKeyFilesMatch: testdata/test.key and test.pub are the key
// licensetest signs with.
func TestTestKeyFilesMatch(t *testing.T) {
	dir := filepath.Join("..", "..", "internal", "license", "testdata")
	kid, priv, err := readPrivateKey(filepath.Join(dir, "test.key"))
	if err != nil {
		t.Fatal(err)
	}
	if kid != licensetest.KeyID || !priv.Equal(licensetest.PrivateKey()) {
		t.Fatal("testdata/test.key is not licensetest's key")
	}
	pub, err := os.ReadFile(filepath.Join(dir, "test.pub"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.TrimSpace(string(pub)) != license.FormatKey(licensetest.KeyID, licensetest.PublicKey()) {
		t.Fatalf("testdata/test.pub = %q", pub)
	}
}

func TestUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{},
		{"frobnicate"},
		{"keygen", "-out", t.TempDir()},
		{"keygen", "-out", t.TempDir(), "-kid", "bad id"},
		{"issue", "-customer", "X"},
		{"issue", "-key", "k", "-customer", "X", "-systems", "jira", "-max-users", "1", "-o", "x", "-days", "0"},
		{"inspect"},
	} {
		if _, _, code := lg(t, args...); code != 2 {
			t.Errorf("%v: exit %d, want 2", args, code)
		}
	}
	if _, errOut, code := lg(t, "issue", "-key", "/nonexistent", "-customer", "X", "-systems", "jira", "-max-users", "1", "-o", "-"); code != 1 || !strings.Contains(errOut, "read private key") {
		t.Errorf("missing key: %d %s", code, errOut)
	}
	if _, _, err := parsePrivateKey([]byte("garbage")); err == nil {
		t.Error("parsed a garbage key")
	}
}
