package connector

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
)

type quoting struct{ body string }

func (q *quoting) Error() string { return "server said: " + q.body }

func TestScrubSecret(t *testing.T) {
	const canary = `c4n4ry "s3cr3t"/<x>&y`
	for _, quoted := range []string{canary, `c4n4ry \"s3cr3t\"/\u003cx\u003e\u0026y`, "c4n4ry+%22s3cr3t%22%2F%3Cx%3E%26y"} {
		inner := &quoting{body: `{"secret":"` + quoted + `"}`}
		err := ScrubSecret(fmt.Errorf("register hook: %w: %w", inner, ErrInvalid), canary)
		if strings.Contains(err.Error(), "s3cr3t") || !strings.Contains(err.Error(), "[redacted]") {
			t.Errorf("scrubbed %q", err)
		}
		if !errors.Is(err, ErrInvalid) || errors.Is(err, ErrNotFound) {
			t.Errorf("%v lost its kind", err)
		}
		var q *quoting
		if errors.As(err, &q) {
			t.Errorf("the unscrubbed detail is still reachable: %q", q.body)
		}
	}
	plain := fmt.Errorf("timed out: %w: %w", &quoting{body: "details"}, context.DeadlineExceeded)
	got := ScrubSecret(plain, canary)
	var q *quoting
	if got.Error() != plain.Error() || !errors.Is(got, context.DeadlineExceeded) || errors.As(got, &q) {
		t.Errorf("an error whose text lacks the secret: %v (details reachable: %v)", got, q != nil)
	}
	if ScrubSecret(nil, canary) != nil || ScrubSecret(plain, "") != plain {
		t.Error("nil error or empty secret")
	}
}
