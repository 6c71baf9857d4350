package agentclient

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/lockstep-sync/lockstep/desktop/internal/agentclient/fakeagent"
	"github.com/lockstep-sync/lockstep/shared/protocol"
)

func TestNormalizeURL(t *testing.T) {
	tests := []struct {
		in, want string
		wantErr  bool
	}{
		{in: "wss://agent.example:7443/v1/ws", want: "wss://agent.example:7443/v1/ws"},
		{in: "https://agent.example:9000", want: "wss://agent.example:9000/v1/ws"},
		{in: "https://agent.example/", want: "wss://agent.example:7443/v1/ws"},
		{in: "agent.example:7443", want: "wss://agent.example:7443/v1/ws"},
		{in: "  10.0.0.5  ", want: "wss://10.0.0.5:7443/v1/ws"},
		{in: "https://[::1]:7443", want: "wss://[::1]:7443/v1/ws"},
		{in: "ws://agent.example:7443/v1/ws", wantErr: true},
		{in: "http://agent.example", wantErr: true},
		{in: "https://user:pw@agent.example", wantErr: true},
		{in: "", wantErr: true},
	}
	for _, tt := range tests {
		got, err := normalizeURL(tt.in)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("normalizeURL(%q) = %q, %v; want %q, error %v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestNormalizeFingerprint(t *testing.T) {
	hex := strings.Repeat("ab", 32)
	tests := []struct {
		in      string
		wantErr bool
	}{
		{in: hex},
		{in: strings.ToUpper(hex)},
		{in: strings.TrimSuffix(strings.Repeat("AB:", 32), ":")},
		{in: hex[:62], wantErr: true},
		{in: strings.Repeat("zz", 32), wantErr: true},
	}
	for _, tt := range tests {
		got, err := NormalizeFingerprint(tt.in)
		if (err != nil) != tt.wantErr || (!tt.wantErr && got != hex) {
			t.Errorf("NormalizeFingerprint(%q) = %q, %v", tt.in, got, err)
		}
	}
}

func TestDialPinnedSaysHelloFirstWithoutOrigin(t *testing.T) {
	a := fakeagent.New(t)
	c := dial(t, a)

	if got := c.State(); got != StateConnected {
		t.Fatalf("State = %v, want connected", got)
	}
	if h := c.Hello(); h.InstanceID != a.InstanceID() || h.Protocol != protocol.Version {
		t.Errorf("Hello = %+v, want instance %s", h, a.InstanceID())
	}
	calls := a.Calls()
	if len(calls) == 0 || calls[0].Method != protocol.SessionHello.Name {
		t.Fatalf("first call = %+v, want session.hello", calls)
	}
	if !strings.Contains(string(calls[0].Params), `"client":"lockstep-desktop/test"`) {
		t.Errorf("hello params = %s", calls[0].Params)
	}
	for _, h := range a.UpgradeHeaders() {
		if _, ok := h["Origin"]; ok {
			t.Errorf("upgrade carried Origin %q", h.Get("Origin"))
		}
		if h.Get("Authorization") != "" {
			t.Error("upgrade carried an Authorization header")
		}
	}
}

func TestDialRefusesOtherKeyShowingBothFingerprints(t *testing.T) {
	a := fakeagent.New(t)
	o := testOptions(a)
	o.Fingerprint = strings.Repeat("0f", 32)

	_, err := Dial(context.Background(), o)
	var mm *FingerprintMismatchError
	if !errors.As(err, &mm) {
		t.Fatalf("Dial error = %v, want *FingerprintMismatchError", err)
	}
	if mm.Expected != o.Fingerprint || mm.Got != a.Fingerprint() {
		t.Errorf("mismatch = %+v, want expected %s got %s", mm, o.Fingerprint, a.Fingerprint())
	}
	msg := err.Error()
	for _, want := range []string{o.Fingerprint, a.Fingerprint(), "reinstalled", "intercept", "lockstep-agent fingerprint"} {
		if !strings.Contains(msg, want) {
			t.Errorf("message %q lacks %q", msg, want)
		}
	}
	if n := a.Connections(); n != 0 {
		t.Errorf("agent saw %d WebSocket connections; the pin must refuse before any request", n)
	}
	if KindOf(err) != protocol.KindUnavailable {
		t.Errorf("KindOf = %v", KindOf(err))
	}
}

func TestDialWithoutPinReportsPresentedFingerprint(t *testing.T) {
	a := fakeagent.New(t)
	o := testOptions(a)
	o.Fingerprint = ""

	_, err := Dial(context.Background(), o)
	var mm *FingerprintMismatchError
	if !errors.As(err, &mm) || !mm.Unpinned() || mm.Got != a.Fingerprint() {
		t.Fatalf("Dial error = %v, want an unpinned refusal naming %s", err, a.Fingerprint())
	}
	if !strings.Contains(err.Error(), "no fingerprint pinned") {
		t.Errorf("message %q should say nothing is pinned", err)
	}
	if a.Connections() != 0 {
		t.Error("an unpinned Dial must not talk to the agent")
	}
}

func TestProbe(t *testing.T) {
	a := fakeagent.New(t)
	for _, u := range []string{a.URL(), "https://" + a.Addr()} {
		fp, err := Probe(testCtx(t), u)
		if err != nil || fp != a.Fingerprint() {
			t.Errorf("Probe(%s) = %q, %v; want %s", u, fp, err, a.Fingerprint())
		}
	}
	if a.Connections() != 0 {
		t.Error("Probe must not open a WebSocket")
	}
	if _, err := Probe(testCtx(t), "https://127.0.0.1:1"); err == nil {
		t.Error("Probe of a closed port succeeded")
	}
}

func TestDialVersionMismatch(t *testing.T) {
	a := fakeagent.New(t)
	a.SetSupported(2)
	_, err := Dial(testCtx(t), testOptions(a))
	var pe *protocol.Error
	if !errors.As(err, &pe) || pe.ErrorKind() != protocol.KindVersionMismatch {
		t.Fatalf("Dial error = %v, want version_mismatch", err)
	}
	if len(pe.Data.Supported) != 1 || pe.Data.Supported[0] != 2 {
		t.Errorf("supported = %v", pe.Data.Supported)
	}
	if KindOf(err) != protocol.KindVersionMismatch {
		t.Errorf("KindOf = %v", KindOf(err))
	}
}

func TestDialRefusesPlaintext(t *testing.T) {
	if _, err := Dial(context.Background(), Options{URL: "ws://127.0.0.1:7443/v1/ws"}); err == nil {
		t.Fatal("Dial accepted ws://")
	}
}
