package logging

import (
	"fmt"
	"strings"
	"testing"

	"github.com/rs/zerolog"
)

func TestRing(t *testing.T) {
	tests := []struct {
		name    string
		size    int
		written int
		n       int
		want    []int // the i of the lines returned, oldest first
	}{
		{"not yet full", 4, 2, 0, []int{0, 1}},
		{"exactly full", 4, 4, 0, []int{0, 1, 2, 3}},
		{"wrapped", 4, 10, 0, []int{6, 7, 8, 9}},
		{"newest two of wrapped", 4, 10, 2, []int{8, 9}},
		{"more than held", 4, 3, 10, []int{0, 1, 2}},
		{"empty", 4, 0, 0, nil},
		{"size one", 1, 5, 0, []int{4}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := newTestLogging(t, Options{RingSize: tt.size})
			log := l.Logger("c")
			for i := range tt.written {
				log.Info().Int("i", i).Msg("")
			}
			if got, want := l.Ring().Len(), min(tt.written, tt.size); got != want {
				t.Errorf("Len() = %d, want %d", got, want)
			}
			lines := l.Ring().Lines(tt.n)
			var got []int
			for _, line := range lines {
				var i int
				fmt.Sscan(fmt.Sprint(line.Fields["i"]), &i)
				got = append(got, i)
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("lines = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestRingSnapshotIsACopy(t *testing.T) {
	l := newTestLogging(t, Options{RingSize: 2})
	log := l.Logger("c")
	log.Info().Msg("first")
	snap := l.Ring().Snapshot(0)
	if len(snap) != 1 || !strings.HasSuffix(string(snap[0]), "\n") {
		t.Fatalf("snapshot = %q", snap)
	}
	before := string(snap[0])
	log.Info().Msg("second")
	log.Info().Msg("third") // overwrites the slot "first" was in
	if string(snap[0]) != before {
		t.Errorf("snapshot changed: %q", snap[0])
	}
}

func TestRingLongLines(t *testing.T) {
	l := newTestLogging(t, Options{RingSize: 2})
	log := l.Logger("c")
	long := strings.Repeat("l", 3*slotSize)
	log.Info().Str("v", long).Msg("long")
	log.Info().Msg("short")
	log.Info().Msg("short again") // reuses the slot the long line borrowed
	log.Info().Str("v", long).Msg("long again")
	lines := l.Ring().Lines(0)
	if got := strings.Join(messages(lines), ","); got != "short again,long again" {
		t.Fatalf("messages = %s", got)
	}
	if lines[1].Fields["v"] != long {
		t.Error("long line corrupted")
	}
}

func TestRingSkipsOversizeLines(t *testing.T) {
	r := newRing(2)
	r.mu.Lock()
	r.addLocked(zerolog.InfoLevel, []byte(`{"message":"a"}`+"\n"))
	r.addLocked(zerolog.InfoLevel, make([]byte, MaxLineBytes+1))
	r.mu.Unlock()
	if got := r.Snapshot(0); len(got) != 1 {
		t.Errorf("ring holds %d lines, want 1", len(got))
	}
}
