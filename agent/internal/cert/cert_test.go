package cert

import (
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"path/filepath"
	"regexp"
	"testing"
	"time"
)

func TestWriteLoadFingerprint(t *testing.T) {
	dir := t.TempDir()
	cf, kf := filepath.Join(dir, "tls", "a.crt"), filepath.Join(dir, "tls", "a.key")
	if err := Write(cf, kf, "agent-host", time.Now()); err != nil {
		t.Fatal(err)
	}
	if err := Write(cf, kf, "agent-host", time.Now()); err == nil {
		t.Fatal("second Write overwrote the identity")
	}
	c, err := Load(cf, kf)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(c.Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"localhost", "agent-host"} {
		if err := leaf.VerifyHostname(name); err != nil {
			t.Errorf("SAN %s: %v", name, err)
		}
	}
	if err := leaf.VerifyHostname("127.0.0.1"); err != nil {
		t.Errorf("SAN 127.0.0.1: %v", err)
	}
	fp, err := FileFingerprint(cf)
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^[0-9a-f]{64}$`).MatchString(fp) {
		t.Fatalf("fingerprint %q is not 64 lowercase hex", fp)
	}
	sum := sha256.Sum256(leaf.RawSubjectPublicKeyInfo)
	if fp != hex.EncodeToString(sum[:]) {
		t.Fatal("fingerprint is not the SPKI SHA-256")
	}
	var _ tls.Certificate = c
}
