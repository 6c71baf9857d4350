package logging

import (
	"fmt"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"
)

// logMix writes one line per level/process/system combination the filter
// tests choose from; message names the combination.
func logMix(l *Logging) {
	log := l.Logger("sync")
	for _, level := range []zerolog.Level{zerolog.DebugLevel, zerolog.InfoLevel, zerolog.ErrorLevel} {
		for _, process := range []string{"p1", "p2", ""} {
			for _, system := range []string{"jira", "help desk \"A\"", ""} {
				e := log.WithLevel(level)
				if process != "" {
					e = e.Str(FieldProcess, process)
				}
				if system != "" {
					e = e.Str(FieldSystem, system)
				}
				e.Msg(fmt.Sprintf("%s/%s/%s", level, process, system))
			}
		}
	}
}

func messages(lines []Line) []string {
	out := make([]string, len(lines))
	for i, line := range lines {
		out[i] = line.Message
	}
	return out
}

func TestTapFilter(t *testing.T) {
	tests := []struct {
		name   string
		filter Filter
		want   int
		check  func(msg string) bool
	}{
		{"everything", Filter{MinLevel: zerolog.TraceLevel}, 27, func(string) bool { return true }},
		{"min level error", Filter{MinLevel: zerolog.ErrorLevel}, 9, func(m string) bool { return strings.HasPrefix(m, "error/") }},
		{"process p1", Filter{Process: "p1"}, 9, func(m string) bool { return strings.Contains(m, "/p1/") }},
		{"system jira", Filter{System: "jira"}, 9, func(m string) bool { return strings.HasSuffix(m, "/jira") }},
		{"escaped system value", Filter{System: "help desk \"A\""}, 9, func(m string) bool { return strings.HasSuffix(m, "/help desk \"A\"") }},
		{"all three", Filter{MinLevel: zerolog.InfoLevel, Process: "p2", System: "jira"}, 2, func(m string) bool {
			return strings.HasSuffix(m, "/p2/jira") && !strings.HasPrefix(m, "debug/")
		}},
		{"no such process", Filter{Process: "p"}, 0, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := newTestLogging(t, Options{Level: zerolog.TraceLevel})
			sub := l.Tap().Subscribe(tt.filter, 100, 0)
			logMix(l)
			lines, dropped := sub.Next()
			if dropped != 0 {
				t.Errorf("dropped = %d", dropped)
			}
			if len(lines) != tt.want {
				t.Fatalf("got %d lines, want %d: %q", len(lines), tt.want, messages(lines))
			}
			for _, m := range messages(lines) {
				if !tt.check(m) {
					t.Errorf("line %q does not match the filter", m)
				}
			}
		})
	}
}

func TestStalledSubscriberDoesNotSlowOthers(t *testing.T) {
	const (
		total     = 5000
		stalledQ  = 8
		writers   = 4
		perWriter = total / writers
	)
	l := newTestLogging(t, Options{})
	stalled := l.Tap().Subscribe(Filter{}, stalledQ, 0)
	// The active subscriber's queue could hold everything, so no line may
	// be lost to scheduling; what is tested is that it gets every line
	// while the stalled one sits full.
	active := l.Tap().Subscribe(Filter{}, MaxQueueLen, 0)

	got := make(chan []string)
	go func() {
		var msgs []string
		var dropped uint64
		collect := func() {
			lines, d := active.Next()
			dropped += d
			msgs = append(msgs, messages(lines)...)
		}
		for range active.Ready() {
			collect()
		}
		collect() // lines queued before Close can still be drained
		if dropped != 0 {
			msgs = append(msgs, fmt.Sprintf("DROPPED %d", dropped))
		}
		got <- msgs
	}()

	// The stalled subscriber is not read until the writers are done: a tap
	// that waited for it would never let them finish.
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			log := l.Logger("w")
			for i := range perWriter {
				log.Info().Msgf("%d-%d", w, i)
			}
		})
	}
	wg.Wait()
	active.Close() // ends the reader's loop
	msgs := <-got

	seen := map[string]bool{}
	for _, m := range msgs {
		seen[m] = true
	}
	if len(msgs) != total || len(seen) != total {
		t.Errorf("active subscriber got %d lines (%d distinct), want %d", len(msgs), len(seen), total)
	}

	if d := stalled.Dropped(); d != total-stalledQ {
		t.Errorf("stalled Dropped() = %d, want %d", d, total-stalledQ)
	}
	lines, dropped := stalled.Drain()
	if len(lines) != stalledQ || dropped != total-stalledQ {
		t.Errorf("stalled Drain = %d lines, %d dropped; want %d, %d", len(lines), dropped, stalledQ, total-stalledQ)
	}
	if d := stalled.Dropped(); d != 0 {
		t.Errorf("Dropped() after Drain = %d, want 0", d)
	}
	// Once drained, it receives again.
	lg := l.Logger("w")
	lg.Info().Msg("again")
	if lines, dropped := stalled.Next(); len(lines) != 1 || lines[0].Message != "again" || dropped != 0 {
		t.Errorf("after drain: %+v, dropped %d", lines, dropped)
	}
}

func TestDrainReusesStorageAndSignalsOncePerBatch(t *testing.T) {
	l := newTestLogging(t, Options{})
	sub := l.Tap().Subscribe(Filter{}, 4, 0)
	log := l.Logger("c")
	for i := range 3 {
		log.Info().Int("i", i).Msg("x")
	}
	select {
	case <-sub.Ready():
	default:
		t.Fatal("Ready not signalled")
	}
	select {
	case <-sub.Ready():
		t.Fatal("Ready signalled twice for one batch")
	default:
	}
	lines, _ := sub.Drain()
	if len(lines) != 3 {
		t.Fatalf("Drain = %d lines", len(lines))
	}
	first := string(lines[0])
	log.Info().Int("i", 9).Msg("y")
	// The previous batch is untouched until the next Drain.
	if string(lines[0]) != first {
		t.Errorf("drained line changed before the next Drain")
	}
	if _, ok := <-sub.Ready(); !ok {
		t.Fatal("Ready closed")
	}
	next, _ := sub.Drain()
	if len(next) != 1 || !strings.Contains(string(next[0]), `"i":9`) {
		t.Errorf("second Drain = %q", next)
	}
}

func TestOversizeLineIsCountedAsDropped(t *testing.T) {
	l := newTestLogging(t, Options{})
	sub := l.Tap().Subscribe(Filter{}, 4, 0)
	lg := l.Logger("c")
	lg.Info().Str("blob", strings.Repeat("b", MaxLineBytes)).Msg("huge")
	<-sub.Ready()
	lines, dropped := sub.Drain()
	if len(lines) != 0 || dropped != 1 {
		t.Errorf("got %d lines, %d dropped; want 0, 1", len(lines), dropped)
	}
	if n := l.Ring().Len(); n != 0 {
		t.Errorf("ring kept the oversize line")
	}
}

func TestBacklog(t *testing.T) {
	tests := []struct {
		name     string
		filter   Filter
		queueLen int
		backlog  int
		want     []string
	}{
		{"last three", Filter{}, 10, 3, []string{"p2-3", "p1-4", "p2-4"}},
		{"matching only", Filter{Process: "p1"}, 10, 2, []string{"p1-3", "p1-4"}},
		{"more than the ring holds", Filter{}, 100, 50, []string{"p1-1", "p2-1", "p1-2", "p2-2", "p1-3", "p2-3", "p1-4", "p2-4"}},
		{"capped at the queue", Filter{}, 2, 10, []string{"p1-4", "p2-4"}},
		{"none", Filter{}, 10, 0, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := newTestLogging(t, Options{RingSize: 8})
			log := l.Logger("c")
			for i := range 5 {
				for _, p := range []string{"p1", "p2"} {
					log.Info().Str(FieldProcess, p).Msg(fmt.Sprintf("%s-%d", p, i))
				}
			}
			sub := l.Tap().Subscribe(tt.filter, tt.queueLen, tt.backlog)
			lines, dropped := sub.Next()
			if got := strings.Join(messages(lines), ","); got != strings.Join(tt.want, ",") || dropped != 0 {
				t.Errorf("backlog = %s (dropped %d), want %s", got, dropped, strings.Join(tt.want, ","))
			}
			// Live lines follow the backlog.
			log.Info().Str(FieldProcess, "p1").Msg("live")
			lines, _ = sub.Next()
			if len(lines) != 1 || lines[0].Message != "live" {
				t.Errorf("live = %q", messages(lines))
			}
		})
	}
}

// TestBacklogThenLiveHasNoGapOrRepeat subscribes while a writer is busy:
// backlog plus live lines must be a contiguous run of the sequence.
func TestBacklogThenLiveHasNoGapOrRepeat(t *testing.T) {
	const after = 1000 // lines written once the subscription exists
	l := newTestLogging(t, Options{RingSize: 64})
	log := l.Logger("c")
	var subscribed atomic.Bool
	var wg sync.WaitGroup
	wg.Go(func() {
		left := after
		for i := 0; left > 0; i++ {
			// Read the flag before writing: a line counted as live must be
			// written after Subscribe, not merely seen the flag after it.
			live := subscribed.Load()
			log.Info().Int("seq", i).Msg("")
			if live {
				left--
			}
		}
	})
	for l.Ring().Len() < 64 {
		runtime.Gosched()
	}
	sub := l.Tap().Subscribe(Filter{}, MaxQueueLen, 32)
	subscribed.Store(true)
	wg.Wait()
	lines, dropped := sub.Next()
	if dropped != 0 {
		// Only if this goroutine stalled for thousands of lines between
		// Subscribe and the flag.
		t.Skipf("queue overflowed: %d dropped", dropped)
	}
	if len(lines) < 32+after {
		t.Fatalf("got %d lines, want at least %d", len(lines), 32+after)
	}
	prev := -1
	for _, line := range lines {
		var seq int
		fmt.Sscan(fmt.Sprint(line.Fields["seq"]), &seq)
		if prev >= 0 && seq != prev+1 {
			t.Fatalf("seq %d follows %d", seq, prev)
		}
		prev = seq
	}
}

func TestSubscriptionClose(t *testing.T) {
	l, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	a := l.Tap().Subscribe(Filter{}, 4, 0)
	b := l.Tap().Subscribe(Filter{}, 4, 0)
	if n := l.Tap().Subscribers(); n != 2 {
		t.Fatalf("Subscribers() = %d", n)
	}
	a.Close()
	a.Close()
	if _, ok := <-a.Ready(); ok {
		t.Error("Ready still open after Close")
	}
	lg := l.Logger("c")
	lg.Info().Msg("x")
	if lines, _ := a.Drain(); len(lines) != 0 {
		t.Errorf("closed subscription received %d lines", len(lines))
	}
	if n := l.Tap().Subscribers(); n != 1 {
		t.Errorf("Subscribers() = %d after Close", n)
	}

	// Closing the Logging ends the others; later ones start closed.
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if _, ok := <-b.Ready(); ok {
		// b had a line queued: one signal, then closed.
		if _, ok := <-b.Ready(); ok {
			t.Error("Ready still open after Logging.Close")
		}
	}
	b.Close()
	c := l.Tap().Subscribe(Filter{}, 4, 10)
	if _, ok := <-c.Ready(); ok {
		t.Error("subscription after Logging.Close is open")
	}
	c.Close()
	lg.Info().Msg("after close")
}

// TestTapConcurrency exercises subscribe, drain, close and logging together
// for the race detector.
func TestTapConcurrency(t *testing.T) {
	l := newTestLogging(t, Options{RingSize: 16})
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for range 3 {
		wg.Go(func() {
			log := l.Logger("w")
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
					log.Info().Str(FieldProcess, "p1").Int("i", i).Msg("m")
				}
			}
		})
	}
	for range 3 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				sub := l.Tap().Subscribe(Filter{Process: "p1"}, 8, 4)
				for range 3 {
					select {
					case <-sub.Ready():
						sub.Next()
					case <-stop:
					}
				}
				go sub.Close()
				sub.Close()
				_ = l.Ring().Snapshot(4)
			}
		})
	}
	time.Sleep(200 * time.Millisecond)
	close(stop)
	wg.Wait()
}

func TestFindString(t *testing.T) {
	tests := []struct {
		line string
		want string
	}{
		{`{"process":"p1"}`, `"p1"`},
		{`{"message":"\"process\":\"fake\"","process":"real"}`, `"real"`},
		{`{"subprocess":"x","process":"y"}`, `"y"`},
		{`{"process":12}`, ``},
		{`{"process":"a\"b"}`, `"a\"b"`},
		{`{"process":"unterminated`, ``},
		{`{"process":"ends in backslash\`, ``},
		{``, ``},
	}
	for _, tt := range tests {
		if got := findString([]byte(tt.line), keyProcess); string(got.raw) != tt.want {
			t.Errorf("findString(%s) = %s, want %s", tt.line, got.raw, tt.want)
		}
	}
}
