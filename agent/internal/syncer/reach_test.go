package syncer

import (
	"context"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/lockstep-sync/lockstep/agent/internal/connector"
)

// A worker reading a side's markers (allMarks pages through its changes,
// requests that can take long) does not stop the run's other workers from
// asking how far the run has read: only those about to create into that
// side wait for it.
func TestMarkerPassBlocksOnlyCreates(t *testing.T) {
	w := newWorld(t, ConflictAWins)
	inPass, release := make(chan struct{}), make(chan struct{})
	defer func() {
		select {
		case <-release:
		default:
			close(release)
		}
	}()
	held := false
	w.b.fail = func(op string) error {
		if op == "changes" && !held {
			held = true
			close(inPass)
			<-release
		}
		return nil
	}
	c := &cycle{e: w.eng, p: &w.proc, con: map[Side]connector.Connector{SideA: w.a, SideB: w.b},
		q: storeQueue{e: w.eng, proc: w.proc.ID}, reach: newReach(), log: zerolog.Nop()}
	c.reach.polled(SideB, true) // B's poll stopped after a round
	passed := make(chan error, 1)
	go func() { passed <- c.allMarks(context.Background(), SideB) }()

	bound := time.After(time.Minute) // catches a hang only
	select {
	case <-inPass:
	case <-bound:
		t.Fatal("the marker pass never read B's changes")
	}
	asked := make(chan bool, 1)
	go func() { asked <- c.unread(SideB) }()
	select {
	case unread := <-asked:
		if !unread {
			t.Error("B reads as all read while its poll stopped after a round")
		}
	case <-bound:
		t.Fatal("asking how far the run has read blocked behind the marker pass")
	}
	close(release)
	if err := <-passed; err != nil {
		t.Fatal(err)
	}
}
