package connector

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/lockstep-sync/lockstep/shared/apitype"
)

// ConnectionFields are the settings every connector that speaks HTTP
// offers, at the end of its form: they are read by httpx.SystemOptions.
func ConnectionFields() []apitype.KindField {
	return []apitype.KindField{
		{Name: "allowSelfSigned", Label: "Allow a self-signed certificate", Type: apitype.FieldBool,
			Help: "Only for servers with a private CA you cannot install; the connection is then not verified.", Default: false},
		{Name: "requestsPerMinute", Label: "Requests per minute", Type: apitype.FieldInt,
			Help: "Upper bound on this system's request rate; 0 means the connector's default.", Default: 0},
	}
}

// Clock is the Env's clock, time.Now when none was lent.
func (e Env) Clock() func() time.Time {
	if e.Now == nil {
		return time.Now
	}
	return e.Now
}

// Settings reach a connector in more than one shape: validated settings
// hold int64 for whole numbers, spec defaults hold whatever Go constant
// the kind declared (int), and a configuration built from raw JSON holds
// float64. The readers below accept all of them, so every connector
// reads its settings the same way.

// SettingString returns a text setting without surrounding spaces; "" when
// it is unset or not text.
func (c Config) SettingString(name string) string {
	s, _ := c.Settings[name].(string)
	return strings.TrimSpace(s)
}

// SettingBool returns a true/false setting; false when it is unset or not
// a bool.
func (c Config) SettingBool(name string) bool {
	b, _ := c.Settings[name].(bool)
	return b
}

// SettingInt returns a whole-number setting (fractions are dropped); 0 when
// it is unset or not a number. A number written as text counts.
func (c Config) SettingInt(name string) int {
	switch v := c.Settings[name].(type) {
	case int64:
		return int(v)
	case int:
		return v
	case float64:
		return int(v)
	case string:
		n, _ := strconv.Atoi(strings.TrimSpace(v))
		return n
	}
	return 0
}

// OpenerOf adapts a connector package's Open, which returns its own type,
// to an Opener. A failed open gives a nil Connector, not an interface
// holding a nil pointer.
func OpenerOf[C Connector](open func(Config, Env) (C, error)) Opener {
	return func(cfg Config, env Env) (Connector, error) {
		c, err := open(cfg, env)
		if err != nil {
			return nil, err
		}
		return c, nil
	}
}

// ValidateTest is the Spec.Test of a kind whose connector can check its
// own credentials: open the system with a default Env and Validate it.
func ValidateTest(open Opener) func(ctx context.Context, cfg Config) (string, error) {
	return func(ctx context.Context, cfg Config) (string, error) {
		c, err := open(cfg, Env{})
		if err != nil {
			return "", err
		}
		return c.Validate(ctx)
	}
}

// Scope picks the project (or queue: noun names it) a call works in: the
// argument, else the system's default from its settings.
func Scope(noun, arg, fallback string) (string, error) {
	if arg = strings.TrimSpace(arg); arg != "" {
		return arg, nil
	}
	if fallback = strings.TrimSpace(fallback); fallback != "" {
		return fallback, nil
	}
	return "", fmt.Errorf("no %s given and the system has none set: %w", noun, ErrInvalid)
}
