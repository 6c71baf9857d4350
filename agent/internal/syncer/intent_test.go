package syncer

import (
	"fmt"
	"testing"
	"time"

	"github.com/lockstep-sync/lockstep/agent/internal/connector"
)

// A create the other system refuses for good (its answer says nothing was
// made) is parked once and waits for the administrator: it is not sent
// again by every run as if its answer had been lost. A create whose answer
// was lost (the system unavailable) is still recovered.
func TestRefusedCreateIsNotSentAgainEachRun(t *testing.T) {
	for _, tc := range []struct {
		name  string
		err   error
		again bool // the create is sent again by the next runs
	}{
		{"refused as invalid", connector.ErrInvalid, false},
		{"refused as forbidden", connector.ErrForbidden, false},
		{"answer lost", connector.ErrUnavailable, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t, ConflictAWins)
			sent := 0
			w.b.fail = func(op string) error {
				if op == "create" {
					sent++
					return fmt.Errorf("create bug: %w", tc.err)
				}
				return nil
			}
			w.a.userCreate("incident", connector.Fields{"title": "Badge reader", "status": "new"})
			for i := 0; i < 12 && (sent < 6 || !tc.again); i++ {
				w.run()
				w.clock.advance(10 * time.Minute) // any backoff is over (at most 512 s)
			}
			if tc.again && sent < 2 {
				t.Fatalf("a create whose answer was lost was sent %d times, want it sent again", sent)
			}
			if !tc.again && sent != 1 {
				t.Fatalf("a create refused for good was sent %d times over 12 runs, want once (then parked)", sent)
			}
		})
	}
}

// An update refused for good is parked once, not sent again by every run
// whose poll reads the same change again; a newer change of the entity is
// worked again (it may be the fix).
func TestRefusedUpdateIsNotSentAgainUntilTheEntityChanges(t *testing.T) {
	w := newWorld(t, ConflictAWins)
	id := w.a.userCreate("incident", connector.Fields{"title": "Badge reader", "status": "new"})
	w.quiesce()
	sent := 0
	w.b.fail = func(op string) error {
		if op == "update" {
			sent++
			return fmt.Errorf("update bug: %w", connector.ErrInvalid)
		}
		return nil
	}
	w.a.userSet(id, "title", "Badge reader at door 4")
	for i := 0; i < 6; i++ {
		w.run()
		w.clock.advance(10 * time.Minute)
	}
	if sent != 1 {
		t.Fatalf("an update refused for good was sent %d times over 6 runs, want once (then parked)", sent)
	}
	w.a.userSet(id, "title", "Badge reader at door 5")
	w.run()
	if sent != 2 {
		t.Fatalf("after the entity changed again its update was sent %d times in all, want a second attempt", sent)
	}
	w.b.fail = nil
	w.a.userSet(id, "title", "Badge reader at door 6")
	w.quiesce()
	w.agree()
}
