package bridge

import "testing"

func TestAppInfo(t *testing.T) {
	got := NewApp("Lockstep", "1.2.3").AppInfo()
	want := Info{Name: "Lockstep", Version: "1.2.3"}
	if got != want {
		t.Fatalf("AppInfo() = %+v, want %+v", got, want)
	}
}
