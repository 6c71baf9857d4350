package markup

import (
	"errors"
	"strings"
	"testing"
)

func TestPanicText(t *testing.T) {
	var runtimeErr error
	func() {
		defer func() { runtimeErr, _ = recover().(error) }()
		var s []int
		_ = s[3]
	}()
	if got := PanicText(runtimeErr); !strings.Contains(got, "index out of range") {
		t.Fatalf("runtime error: %q", got)
	}
	if got := PanicText("bad input: the customer's secret"); strings.Contains(got, "secret") {
		t.Fatalf("a panic's value was quoted: %q", got)
	}
	if got := PanicText(errors.New("secret")); strings.Contains(got, "secret") {
		t.Fatalf("a panic's error was quoted: %q", got)
	}
}
