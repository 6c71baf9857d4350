package secret

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/rs/zerolog"
)

const canary = "CANARY-hunter2-0b9e"

func TestSecretNeverPrints(t *testing.T) {
	s := New(canary)
	type holder struct {
		Token Secret
		Ptr   *Secret
	}
	h := holder{Token: s, Ptr: &s}
	outputs := []string{
		fmt.Sprint(s), fmt.Sprintf("%v %+v %#v %s %q", s, s, s, s, s), fmt.Sprintf("%v %+v", h, h),
		fmt.Errorf("connect: %v", s).Error(),
	}
	b, _ := json.Marshal(h)
	outputs = append(outputs, string(b))
	var buf bytes.Buffer
	log := zerolog.New(&buf)
	log.Info().Interface("secret", s).Stringer("s", s).Any("h", h).Msg("test")
	outputs = append(outputs, buf.String())
	for _, out := range outputs {
		if strings.Contains(out, canary) {
			t.Fatalf("secret leaked: %s", out)
		}
		if !strings.Contains(out, Redacted) {
			t.Fatalf("no redaction marker in %s", out)
		}
	}
	if s.Reveal() != canary || !s.IsSet() || New("").IsSet() {
		t.Fatal("Reveal/IsSet")
	}
	var in struct{ Token Secret }
	if err := json.Unmarshal([]byte(`{"Token":"`+canary+`"}`), &in); err != nil || in.Token.Reveal() != canary {
		t.Fatalf("unmarshal: %v", err)
	}
}

type memKeys map[string][]byte

func (m memKeys) GetDataKey(s string) ([]byte, error) {
	if v, ok := m[s]; ok {
		return v, nil
	}
	return nil, ErrNoDataKey
}
func (m memKeys) PutDataKey(s string, r []byte) error { m[s] = r; return nil }
func (m memKeys) DeleteDataKey(s string) error        { delete(m, s); return nil }
func (m memKeys) ListDataKeys(fn func(string, []byte) error) error {
	for k, v := range m {
		if err := fn(k, v); err != nil {
			return err
		}
	}
	return nil
}

func TestSealBindsContext(t *testing.T) {
	master := bytes.Repeat([]byte{1}, 32)
	keys := memKeys{}
	s, err := NewSealer(master, keys)
	if err != nil {
		t.Fatal(err)
	}
	sealed, err := s.Seal("sys:a", "system", "a", "token", []byte(canary))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(sealed, []byte(canary)) {
		t.Fatal("sealed value contains the plaintext")
	}
	for _, tc := range []struct{ scope, kind, id, field string }{
		{"sys:a", "system", "a", "password"}, {"sys:a", "system", "b", "token"}, {"sys:a", "account", "a", "token"},
	} {
		if _, err := s.Open(tc.scope, tc.kind, tc.id, tc.field, sealed); err == nil {
			t.Fatalf("opened under %+v", tc)
		}
	}
	flipped := append([]byte(nil), sealed...)
	flipped[len(flipped)-1] ^= 1
	if _, err := s.Open("sys:a", "system", "a", "token", flipped); err == nil {
		t.Fatal("a modified value opened")
	}
	other, _ := NewSealer(bytes.Repeat([]byte{2}, 32), keys)
	if _, err := other.Open("sys:a", "system", "a", "token", sealed); err == nil {
		t.Fatal("another master key opened the value")
	}
	if _, err := NewSealer(master[:16], keys); err == nil {
		t.Fatal("a 16-byte master key was accepted")
	}
	if _, err := s.Open("sys:none", "system", "a", "token", sealed); !errors.Is(err, ErrNoDataKey) {
		t.Fatalf("unknown scope: %v", err)
	}
}
