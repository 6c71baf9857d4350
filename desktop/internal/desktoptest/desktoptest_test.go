package desktoptest

import (
	"encoding/json"
	"testing"
)

// The recorder keeps events as the UI receives them, by name and in
// order, and a wait ends on the event that makes its condition true.
func TestRecorderKeepsEventsAsTheUIGetsThem(t *testing.T) {
	var r Recorder
	go func() {
		r.Emit("conn:state", map[string]string{"state": "connecting"})
		r.Emit("log", "a line")
		r.Emit("conn:state", map[string]string{"state": "connected"})
	}()
	r.WaitFor(t, "two states", func() bool { return len(r.Named("conn:state")) == 2 })
	states := r.Named("conn:state")
	var last struct{ State string }
	if err := json.Unmarshal(states[1], &last); err != nil || last.State != "connected" {
		t.Fatalf("second state %s (%v)", states[1], err)
	}
	Eventually(t, "all three events", func() bool { return len(r.All()) == 3 })
	if all := r.All(); all[1].Name != "log" || string(all[1].Payload) != `"a line"` {
		t.Fatalf("events %+v", all)
	}
}
