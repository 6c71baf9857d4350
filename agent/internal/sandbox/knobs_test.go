package sandbox

import (
	"flag"
	"slices"
	"strconv"
	"testing"
	"time"
)

func TestRateLimitBucket(t *testing.T) {
	clock := newClock()
	s, hs := newTest(t, Options{Now: clock.Now, Knobs: Knobs{RatePerSecond: 2, Burst: 2}})
	want := []struct {
		status    int
		remaining string
	}{{200, "1"}, {200, "0"}, {429, "0"}}
	for i, w := range want {
		r := call(t, hs, testToken, "GET", "/api/projects", nil)
		if r.status != w.status || r.header.Get("X-RateLimit-Remaining") != w.remaining || r.header.Get("X-RateLimit-Limit") != "2" ||
			r.header.Get("RateLimit-Policy") != "2;w=1;burst=2" {
			t.Fatalf("request %d: %d remaining %q", i, r.status, r.header.Get("X-RateLimit-Remaining"))
		}
		if r.status == 429 {
			if r.header.Get("Retry-After") != "1" || r.errorBody(t).Code != CodeRateLimited {
				t.Fatalf("429 without Retry-After: %v %s", r.header, r.body)
			}
			// The next token arrives 0.5 s later; Reset rounds up to a second.
			if reset, _ := strconv.ParseInt(r.header.Get("X-RateLimit-Reset"), 10, 64); reset != clock.Now().Add(time.Second).Unix() {
				t.Fatalf("reset %d, now %d", reset, clock.Now().Unix())
			}
		}
	}
	clock.Add(500 * time.Millisecond)
	if r := call(t, hs, testToken, "GET", "/api/projects", nil); r.status != 200 {
		t.Fatalf("after refill: %d", r.status)
	}
	if st := s.Stats(); st.RateLimited != 1 || st.Requests != 4 {
		t.Fatalf("stats %+v", st)
	}
}

func TestRateLimitMinuteBudget(t *testing.T) {
	clock := newClock()
	clock.Add(10 * time.Second)
	_, hs := newTest(t, Options{Now: clock.Now, Knobs: Knobs{PerMinute: 3}})
	for i := range 3 {
		if r := call(t, hs, testToken, "GET", "/api/users", nil); r.status != 200 || r.header.Get("X-RateLimit-Remaining") != strconv.Itoa(2-i) {
			t.Fatalf("request %d: %d %v", i, r.status, r.header)
		}
	}
	r := call(t, hs, testToken, "GET", "/api/users", nil)
	minuteEnd := clock.Now().Truncate(time.Minute).Add(time.Minute)
	if r.status != 429 || r.header.Get("Retry-After") != "50" || r.header.Get("X-RateLimit-Reset") != strconv.FormatInt(minuteEnd.Unix(), 10) ||
		r.header.Get("RateLimit-Policy") != "3;w=60" {
		t.Fatalf("over budget: %d %v", r.status, r.header)
	}
	clock.Add(50 * time.Second)
	if r := call(t, hs, testToken, "GET", "/api/users", nil); r.status != 200 {
		t.Fatalf("next minute: %d", r.status)
	}
}

// TestFaultsAreSeeded: the same seed fails the same requests.
func TestFaultsAreSeeded(t *testing.T) {
	run := func() []int {
		s, hs := newTest(t, Options{Seed: 42, Knobs: Knobs{ErrorRate: 0.3}})
		var statuses []int
		for range 40 {
			r := call(t, hs, testToken, "GET", "/api/projects", nil)
			if r.status == 503 && r.errorBody(t).Code != CodeUnavailable {
				t.Fatalf("fault body %s", r.body)
			}
			statuses = append(statuses, r.status)
		}
		if st := s.Stats(); st.InjectedFaults == 0 || st.InjectedFaults != st.ServerErrors {
			t.Fatalf("stats %+v", st)
		}
		return statuses
	}
	a, b := run(), run()
	if !slices.Equal(a, b) {
		t.Fatalf("same seed, different faults:\n%v\n%v", a, b)
	}
	if n := len(slices.DeleteFunc(slices.Clone(a), func(s int) bool { return s == 200 })); n < 4 || n > 24 {
		t.Fatalf("%d faults in 40 at 30%%", n)
	}
}

func TestKnobsAdmin(t *testing.T) {
	s, hs := newTest(t, Options{})
	if r := call(t, hs, testToken, "PATCH", "/admin/knobs", `{"errorRate":1,"errorStatus":500}`); r.status != 200 {
		t.Fatalf("set: %d %s", r.status, r.body)
	}
	if r := call(t, hs, testToken, "GET", "/api/projects", nil); r.status != 500 {
		t.Fatalf("with errorRate 1: %d", r.status)
	}
	if r := call(t, hs, testToken, "GET", "/admin/stats", nil); r.status != 200 {
		t.Fatalf("admin must stay reachable: %d", r.status)
	}
	call(t, hs, testToken, "PATCH", "/admin/knobs", `{"errorRate":0,"latencyMs":30}`)
	start := time.Now()
	if r := call(t, hs, testToken, "GET", "/api/projects", nil); r.status != 200 || time.Since(start) < 30*time.Millisecond {
		t.Fatalf("latency: %d after %v", r.status, time.Since(start))
	}
	if k := s.Knobs(); k.ErrorStatus != 500 || k.Latency != 30*time.Millisecond {
		t.Fatalf("knobs %+v", k)
	}
	for _, bad := range []string{`{"errorRate":2}`, `{"errorStatus":404}`, `{"colour":1}`, `{"ratePerSecond":-1}`} {
		if r := call(t, hs, testToken, "PATCH", "/admin/knobs", bad); r.status != 400 {
			t.Errorf("%s: %d %s", bad, r.status, r.body)
		}
	}
	var st Stats
	call(t, hs, testToken, "GET", "/admin/stats", nil).decode(t, &st)
	if st.ByRoute["GET /api/projects"] != 2 || st.ByStatus["500"] != 1 {
		t.Fatalf("stats %+v", st)
	}
	call(t, hs, testToken, "DELETE", "/admin/stats", nil)
	if s.Stats().Requests != 0 {
		t.Fatal("reset")
	}
}

func TestKnobFlags(t *testing.T) {
	var k Knobs
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	k.BindFlags(fs)
	if err := fs.Parse([]string{"--latency=20ms", "--error-rate=0.1", "--rate=5", "--per-minute=100"}); err != nil {
		t.Fatal(err)
	}
	k, err := k.Validate()
	if err != nil || k.Latency != 20*time.Millisecond || k.ErrorRate != 0.1 || k.ErrorStatus != 503 || k.Burst != 5 || k.PerMinute != 100 {
		t.Fatalf("knobs %+v %v", k, err)
	}
}

func TestRateLimitPolicy(t *testing.T) {
	for _, tc := range []struct {
		k    Knobs
		want string
	}{
		{Knobs{RatePerSecond: 20, Burst: 5}, "20;w=1;burst=5"},
		{Knobs{RatePerSecond: 2.5, Burst: 3}, "150;w=60;burst=3"},
		{Knobs{RatePerSecond: 0.001, Burst: 1}, "1;w=60;burst=1"},
		{Knobs{RatePerSecond: 10, Burst: 10, PerMinute: 300}, "10;w=1;burst=10, 300;w=60"},
		{Knobs{PerMinute: 300}, "300;w=60"},
		{Knobs{}, ""},
	} {
		if got := tc.k.policy(); got != tc.want {
			t.Errorf("%+v: %q, want %q", tc.k, got, tc.want)
		}
	}
}
