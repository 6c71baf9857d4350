package events

import (
	"testing"
	"time"
)

func drain(s *Sub) []uint64 {
	var out []uint64
	for {
		select {
		case ev, ok := <-s.C():
			if !ok {
				return out
			}
			out = append(out, ev.Seq)
		default:
			return out
		}
	}
}

func TestPublishSubscribeFilter(t *testing.T) {
	b := New(8, func() time.Time { return time.Unix(0, 0) })
	all, seq, resync := b.Subscribe(nil, nil, 10)
	if seq != 0 || resync {
		t.Fatalf("seq %d resync %v", seq, resync)
	}
	only, _, _ := b.Subscribe([]string{"B"}, nil, 10)
	b.Publish("A", map[string]int{"x": 1})
	b.Publish("B", nil)
	if got := drain(all); len(got) != 2 || got[0] != 1 || got[1] != 2 {
		t.Fatalf("all = %v", got)
	}
	if got := drain(only); len(got) != 1 || got[0] != 2 {
		t.Fatalf("filtered = %v", got)
	}
	all.Close()
	all.Close()
	b.Publish("A", nil) // must not panic on a closed subscriber
}

var epoch = func() time.Time { return time.Unix(0, 0) }

func TestResumeAndResync(t *testing.T) {
	b := New(4, epoch)
	for i := 0; i < 6; i++ {
		b.Publish("A", i)
	}
	// Ring holds 3..6.
	since := uint64(3)
	s, seq, resync := b.Subscribe(nil, &since, 1)
	if resync || seq != 6 {
		t.Fatalf("resume from 3: resync %v seq %d", resync, seq)
	}
	if got := drain(s); len(got) != 3 || got[0] != 4 || got[2] != 6 {
		t.Fatalf("replay = %v", got)
	}
	since = 2 // event 3 is the oldest kept: 2 is still resumable
	if _, _, resync := b.Subscribe(nil, &since, 1); resync {
		t.Fatal("since=2 should replay 3..6")
	}
	since = 1
	if _, _, resync := b.Subscribe(nil, &since, 1); !resync {
		t.Fatal("since=1 is older than the ring: want resync")
	}
	since = 99
	if _, _, resync := b.Subscribe(nil, &since, 1); !resync {
		t.Fatal("since from the future (agent restarted): want resync")
	}
}

func TestSlowSubscriberIsClosedNotBlocking(t *testing.T) {
	b := New(1000, nil)
	slow, _, _ := b.Subscribe(nil, nil, 1)
	fast, _, _ := b.Subscribe(nil, nil, 1000)
	done := make(chan struct{})
	go func() {
		for i := 0; i < 500; i++ {
			b.Publish("A", i)
		}
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(time.Minute): // bounds a broken test only: a blocked Publish never ends
		t.Fatal("Publish blocked on a slow subscriber")
	}
	if !slow.Overflowed() {
		t.Fatal("slow subscriber not marked overflowed")
	}
	if got := drain(fast); len(got) != 500 {
		t.Fatalf("fast subscriber got %d of 500", len(got))
	}
}

// TestRestartMeansResync: a client that saw events before an agent restart
// must be told to resync, even after the new agent published many events.
func TestRestartMeansResync(t *testing.T) {
	before := New(100, func() time.Time { return time.Unix(1000, 0) })
	var last uint64
	for i := 0; i < 50; i++ {
		last = before.Publish("A", i)
	}
	after := New(100, func() time.Time { return time.Unix(1001, 0) })
	for i := 0; i < 80; i++ {
		after.Publish("A", i)
	}
	if _, _, resync := after.Subscribe(nil, &last, 10); !resync {
		t.Fatal("a sequence number from before the restart was replayed")
	}
}
