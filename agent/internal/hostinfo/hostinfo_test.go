package hostinfo

import (
	"context"
	"encoding/json"
	"errors"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestSnapshotSaneValues(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	info, err := Snapshot(ctx, t.TempDir(), time.Now().Add(-time.Hour))
	if err != nil {
		t.Errorf("Snapshot: %v", err)
	}
	t.Logf("%+v", info)
	checks := []struct {
		name string
		ok   bool
	}{
		{"os is GOOS", info.OS == runtime.GOOS},
		{"platform set", info.Platform != ""},
		{"kernel set", info.Kernel != ""},
		{"arch set", info.Arch != ""},
		{"hostname set", info.Hostname != ""},
		{"cores > 0", info.CPUCores > 0},
		{"cpu percent in [0,100]", info.CPUPercent >= 0 && info.CPUPercent <= 100},
		{"memTotal > memAvailable > 0", info.MemTotal > info.MemAvailable && info.MemAvailable > 0},
		{"threads > 0", info.Threads > 0},
		{"goroutines > 0", info.Goroutines > 0},
		{"rss > 0", info.RSS > 0},
		{"rss < memTotal", info.RSS < info.MemTotal},
		{"diskFree > 0", info.DiskFree > 0},
		{"uptime about an hour", info.UptimeSeconds >= 3600 && info.UptimeSeconds < 3700},
	}
	for _, c := range checks {
		if !c.ok {
			t.Errorf("%s: no", c.name)
		}
	}
}

func TestSnapshotPartial(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	info, err := Snapshot(ctx, "/no/such/dir/for/lockstep", time.Time{})
	if err == nil || !strings.Contains(err.Error(), "collect disk free") {
		t.Fatalf("err = %v, want a disk free error", err)
	}
	if info.DiskFree != 0 || info.UptimeSeconds != 0 {
		t.Errorf("diskFree %d, uptime %d; want zero", info.DiskFree, info.UptimeSeconds)
	}
	if info.MemTotal == 0 || info.CPUCores == 0 {
		t.Errorf("the other collectors did not fill Info: %+v", info)
	}
}

func TestSnapshotCancelledReturnsPromptly(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	// No time limit here: a busy machine may take any time. A snapshot
	// that went on collecting would return no error; the error shows it
	// stopped at the cancellation.
	info, err := Snapshot(ctx, t.TempDir(), time.Now())
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
	if info.OS != runtime.GOOS {
		t.Errorf("cheap facts missing: %+v", info)
	}
}

// TestCollectAbandonsHungCollectors stands in for a statfs on a dead network
// mount: the snapshot ends at the deadline and names what it gave up on.
func TestCollectAbandonsHungCollectors(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	hung := func(context.Context) (func(*Info), error) {
		<-release // ignores its context, as a blocked system call would
		return func(i *Info) { i.DiskFree = 1 }, nil
	}
	quick := func(context.Context) (func(*Info), error) {
		return func(i *Info) { i.CPUCores = 7 }, nil
	}
	failing := func(context.Context) (func(*Info), error) { return nil, errors.New("boom") }

	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	var info Info
	// The hung collector returns only when the test ends: collect
	// returning at all shows it gave up on it at the deadline.
	err := collect(ctx, &info, []collector{{"hung", hung}, {"quick", quick}, {"failing", failing}})
	if info.CPUCores != 7 || info.DiskFree != 0 {
		t.Errorf("info = %+v", info)
	}
	if !errors.Is(err, context.DeadlineExceeded) ||
		!strings.Contains(err.Error(), "collect hung:") ||
		!strings.Contains(err.Error(), "collect failing: boom") {
		t.Errorf("err = %v", err)
	}
}

func TestInfoJSONNames(t *testing.T) {
	data, err := json.Marshal(Info{})
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	var got []string
	for k := range m {
		got = append(got, k)
	}
	slices.Sort(got)
	// PROTOCOL.md, host.info.
	want := []string{"os", "platform", "platformVersion", "kernel", "arch", "hostname", "cpuModel", "cpuCores",
		"cpuPercent", "memTotal", "memAvailable", "threads", "goroutines", "rss", "diskFree", "uptimeSeconds"}
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("JSON names = %v\nwant %v", got, want)
	}
}

func TestCPUPercentCachedWithinWindow(t *testing.T) {
	ctx := context.Background()
	set1, err := collectCPUPercent(ctx)
	if err != nil {
		t.Fatal(err)
	}
	set2, err := collectCPUPercent(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var a, b Info
	set1(&a)
	set2(&b)
	if a.CPUPercent != b.CPUPercent {
		t.Errorf("second call within the window measured again: %v then %v", a.CPUPercent, b.CPUPercent)
	}
}
