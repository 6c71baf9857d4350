package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestValidateListen(t *testing.T) {
	for addr, ok := range map[string]bool{
		"0.0.0.0:7443": true, "127.0.0.1:0": true, "[::1]:7443": true, ":7443": true, "localhost:1": true,
		"7443": false, "example.com:7443": false, "127.0.0.1:": false, "": false,
	} {
		if err := ValidateListen(addr); (err == nil) != ok {
			t.Errorf("ValidateListen(%q) = %v, want ok=%v", addr, err, ok)
		}
	}
}

func TestCreateRead(t *testing.T) {
	p := filepath.Join(t.TempDir(), "agent.json")
	b := Bootstrap{Version: Version, Listen: "127.0.0.1:7443", CreatedAt: time.Now().UTC().Truncate(time.Second)}
	if err := Create(p, b); err != nil {
		t.Fatal(err)
	}
	if err := Create(p, b); err == nil {
		t.Fatal("Create overwrote agent.json")
	}
	got, err := Read(p)
	if err != nil || got != b {
		t.Fatalf("Read = %+v, %v", got, err)
	}
	os.WriteFile(p, []byte(`{"version":1,"listen":"nope"}`), 0o600)
	if _, err := Read(p); err == nil || !strings.Contains(err.Error(), "listen") {
		t.Fatalf("bad listen: %v", err)
	}
	os.WriteFile(p, []byte(`{`), 0o600)
	if _, err := Read(p); err == nil {
		t.Fatal("garbage accepted")
	}
}
