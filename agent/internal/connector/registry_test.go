package connector

import (
	"strings"
	"testing"
)

func TestRegisterRefusesADuplicateKind(t *testing.T) {
	first := Spec{Kind: "registry-test", Title: "First"}
	if err := Register(first); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		mu.Lock()
		delete(specs, first.Kind)
		mu.Unlock()
	})
	err := Register(Spec{Kind: "registry-test", Title: "Second"})
	if err == nil || !strings.Contains(err.Error(), "already registered") {
		t.Fatalf("second Register: %v, want already registered", err)
	}
	if s, _ := Lookup("registry-test"); s.Title != "First" {
		t.Fatalf("the first registration was replaced: %+v", s)
	}
	func() {
		defer func() {
			if p := recover(); p == nil {
				t.Error("MustRegister of a duplicate did not panic")
			}
		}()
		MustRegister(Spec{Kind: "registry-test", Title: "Third"})
	}()
	if err := Register(Spec{Kind: "", Title: "Nameless"}); err == nil {
		t.Error("a kind without a name was registered")
	}
}

func TestOverrideRestores(t *testing.T) {
	MustRegister(Spec{Kind: "override-test", Title: "Original"})
	t.Cleanup(func() {
		mu.Lock()
		delete(specs, "override-test")
		mu.Unlock()
	})
	restore := Override(Spec{Kind: "override-test", Title: "Stand-in"})
	if s, _ := Lookup("override-test"); s.Title != "Stand-in" {
		t.Fatalf("Override did not take: %+v", s)
	}
	restore()
	if s, _ := Lookup("override-test"); s.Title != "Original" {
		t.Fatalf("restore did not put the original back: %+v", s)
	}
	restore = Override(Spec{Kind: "override-new", Title: "New"})
	if _, ok := Lookup("override-new"); !ok {
		t.Fatal("Override of a new kind did not register it")
	}
	restore()
	if _, ok := Lookup("override-new"); ok {
		t.Fatal("restore left a kind Override added")
	}
}
