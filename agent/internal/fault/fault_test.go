package fault

import (
	"errors"
	"fmt"
	"testing"
)

func TestNewKeepsItsTextAndMatchesItsKinds(t *testing.T) {
	general := New(ErrConflict, "conflict")
	specific := New(general, "username is already taken")
	err := fmt.Errorf("create account: %w", specific)
	if !errors.Is(err, specific) || !errors.Is(err, general) || !errors.Is(err, ErrConflict) {
		t.Fatal("a wrapped sentinel lost one of its kinds")
	}
	if errors.Is(err, ErrNotFound) {
		t.Fatal("a conflict matched not found")
	}
	if specific.Error() != "username is already taken" {
		t.Fatalf("text %q", specific.Error())
	}
}

func TestInvalidNamesItsInput(t *testing.T) {
	err := fmt.Errorf("save settings: %w", Invalid("origins[2]", "must be an origin like %s", "https://a.example"))
	var in Input
	if !errors.As(err, &in) || in.InvalidField() != "origins[2]" {
		t.Fatalf("Input not found in %v", err)
	}
	if in.Error() != "origins[2]: must be an origin like https://a.example" {
		t.Fatalf("text %q", in.Error())
	}
	if !errors.Is(err, ErrInvalid) {
		t.Fatal("an InvalidError is not ErrInvalid")
	}
}
