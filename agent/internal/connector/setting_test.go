package connector

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/lockstep-sync/lockstep/shared/apitype"
)

func TestSettings(t *testing.T) {
	cfg := Config{Settings: map[string]any{
		"validated": int64(42), "default": 7, "json": float64(12.9), "text": " 60 ", "words": "many",
		"name": "  HELP \n", "on": true, "off": false, "boolText": "true",
	}}
	for _, tc := range []struct {
		name string
		want int
	}{
		{"validated", 42}, {"default", 7}, {"json", 12}, {"text", 60}, {"words", 0}, {"on", 0}, {"missing", 0},
	} {
		if got := cfg.SettingInt(tc.name); got != tc.want {
			t.Errorf("SettingInt(%q) = %d, want %d", tc.name, got, tc.want)
		}
	}
	for _, tc := range []struct{ name, want string }{{"name", "HELP"}, {"validated", ""}, {"missing", ""}} {
		if got := cfg.SettingString(tc.name); got != tc.want {
			t.Errorf("SettingString(%q) = %q, want %q", tc.name, got, tc.want)
		}
	}
	for _, tc := range []struct {
		name string
		want bool
	}{{"on", true}, {"off", false}, {"boolText", false}, {"missing", false}} {
		if got := cfg.SettingBool(tc.name); got != tc.want {
			t.Errorf("SettingBool(%q) = %v, want %v", tc.name, got, tc.want)
		}
	}
	if (Config{}).SettingInt("x") != 0 || (Config{}).SettingString("x") != "" || (Config{}).SettingBool("x") {
		t.Error("a config without settings must read as zero values")
	}
}

func TestScope(t *testing.T) {
	for _, tc := range []struct{ arg, fallback, want string }{
		{"HELP", "ENG", "HELP"}, {" HELP ", "", "HELP"}, {"", "ENG", "ENG"}, {"  ", " ENG ", "ENG"},
	} {
		if got, err := Scope("project", tc.arg, tc.fallback); err != nil || got != tc.want {
			t.Errorf("Scope(%q, %q) = %q, %v, want %q", tc.arg, tc.fallback, got, err, tc.want)
		}
	}
	_, err := Scope("queue", " ", "")
	if !errors.Is(err, ErrInvalid) || err.Error() != "no queue given and the system has none set: "+ErrInvalid.Error() {
		t.Errorf("Scope with neither = %v", err)
	}
}

// conn is a Connector that answers Validate only; the other methods come
// from the nil embedded interface and are never called here.
type conn struct {
	Connector
	msg string
}

func (c *conn) Validate(context.Context) (string, error) { return c.msg, nil }

func TestOpenerAndValidateTest(t *testing.T) {
	refused := errors.New("refused")
	open := OpenerOf(func(cfg Config, _ Env) (*conn, error) {
		if cfg.URL == "" {
			return nil, refused
		}
		return &conn{msg: "reached " + cfg.URL}, nil
	})
	c, err := open(Config{}, Env{})
	if !errors.Is(err, refused) || c != nil {
		t.Fatalf("failed open = %#v, %v; want a nil Connector and the error", c, err)
	}
	test := ValidateTest(open)
	if msg, err := test(context.Background(), Config{URL: "https://x.example"}); err != nil || msg != "reached https://x.example" {
		t.Fatalf("test = %q, %v", msg, err)
	}
	if _, err := test(context.Background(), Config{}); !errors.Is(err, refused) {
		t.Fatalf("test of a system that does not open = %v", err)
	}
}

func TestConnectionFields(t *testing.T) {
	f := ConnectionFields()
	if len(f) != 2 || f[0].Name != "allowSelfSigned" || f[0].Type != apitype.FieldBool || f[1].Name != "requestsPerMinute" || f[1].Type != apitype.FieldInt {
		t.Fatalf("fields %+v", f)
	}
	f[0].Name = "changed"
	if ConnectionFields()[0].Name != "allowSelfSigned" {
		t.Fatal("each call must return a list of its own")
	}
}

func TestClock(t *testing.T) {
	fixed := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	if got := (Env{Now: func() time.Time { return fixed }}).Clock()(); !got.Equal(fixed) {
		t.Fatalf("lent clock: %v", got)
	}
	before := time.Now()
	if got := (Env{}).Clock()(); got.Before(before) {
		t.Fatalf("default clock %v is before %v", got, before)
	}
}
