package auth

import (
	"slices"
	"sync"
	"time"

	"github.com/lockstep-sync/lockstep/agent/internal/audit"
)

// Failed logins for usernames that have no account are not audited one
// record each: anyone who reaches the port could otherwise write gigabytes
// of audit a day. They are counted per address and time window, and one
// record per address and window says how many there were, when, a sample
// of the usernames tried, how many of those names got locked and how many
// attempts were refused unchecked (ErrBusy). The record is written when the
// window ends (Serve) and when the agent stops. Failures against real
// accounts are still audited one record each, as is every lockout of a
// real account: those are what an administrator investigates.
//
// The same table remembers which addresses failed recently, so the hashing
// gate can put their attempts behind everyone else's.

const (
	// maxTrackedAddrs bounds the table; past it, failures are counted under
	// otherAddrs, so an attacker spreading over many addresses still costs
	// one record per window, not one per address.
	maxTrackedAddrs = 4096
	otherAddrs      = "(other addresses)"
	// sampleNames is how many distinct usernames a record lists.
	sampleNames = 10
	// UnknownActor is the actor of aggregate records: the attempts name no
	// account.
	UnknownActor = "(unknown users)"
	// unknownTarget is their target.
	unknownTarget = "accounts that do not exist"
)

// tally is one address's failures within the current window.
type tally struct {
	first, last time.Time
	attempts    int // failed attempts for unknown usernames
	lockouts    int // of unknown usernames
	refused     int // attempts refused unchecked (ErrBusy), any username
	names       []string
	moreNames   bool
}

type failures struct {
	mu      sync.Mutex
	window  time.Duration
	tallies map[string]*tally
	recent  map[string]time.Time // last failure of any kind, per address
}

func newFailures(window time.Duration) *failures {
	return &failures{window: window, tallies: map[string]*tally{}, recent: map[string]time.Time{}}
}

// tallyLocked returns the address's tally, starting one at now.
func (f *failures) tallyLocked(addr string, now time.Time) *tally {
	t := f.tallies[addr]
	if t == nil {
		if len(f.tallies) >= maxTrackedAddrs {
			addr = otherAddrs
			if t = f.tallies[addr]; t != nil {
				t.last = now
				return t
			}
		}
		t = &tally{first: now}
		f.tallies[addr] = t
	}
	t.last = now
	return t
}

func (t *tally) name(username string) {
	n := auditName(username)
	if slices.Contains(t.names, n) {
		return
	}
	if len(t.names) < sampleNames {
		t.names = append(t.names, n)
	} else {
		t.moreNames = true
	}
}

// unknown counts a failed attempt for a username without an account.
func (f *failures) unknown(addr, username string, now time.Time, lockedNow bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	t := f.tallyLocked(addr, now)
	t.attempts++
	if lockedNow {
		t.lockouts++
	}
	t.name(username)
	f.markLocked(addr, now)
}

// refusedBusy counts an attempt refused before its password was checked.
func (f *failures) refusedBusy(addr, username string, now time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	t := f.tallyLocked(addr, now)
	t.refused++
	t.name(username)
	f.markLocked(addr, now)
}

// mark remembers a failure of any kind from addr.
func (f *failures) mark(addr string, now time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.markLocked(addr, now)
}

func (f *failures) markLocked(addr string, now time.Time) {
	if _, ok := f.recent[addr]; !ok && len(f.recent) >= maxTrackedAddrs {
		f.pruneLocked(now)
		if len(f.recent) >= maxTrackedAddrs {
			return // still full of fresh failures: this one is not remembered
		}
	}
	f.recent[addr] = now
}

func (f *failures) pruneLocked(now time.Time) {
	for a, at := range f.recent {
		if now.Sub(at) >= f.window {
			delete(f.recent, a)
		}
	}
}

// suspect reports whether addr failed within the window.
func (f *failures) suspect(addr string, now time.Time) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	at, ok := f.recent[addr]
	return ok && now.Sub(at) < f.window
}

// due takes the tallies whose window has ended at now (all of them when
// all is set), for writing.
func (f *failures) due(now time.Time, all bool) map[string]*tally {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.pruneLocked(now)
	out := map[string]*tally{}
	for addr, t := range f.tallies {
		if all || now.Sub(t.first) >= f.window {
			out[addr] = t
			delete(f.tallies, addr)
		}
	}
	return out
}

// entry is the audit record of one tally.
func (t *tally) entry(addr string) audit.Entry {
	diff := []audit.Change{
		{Field: "attempts", After: t.attempts},
		{Field: "from", After: t.first},
		{Field: "until", After: t.last},
		{Field: "usernames", After: t.names},
	}
	if t.moreNames {
		diff = append(diff, audit.Change{Field: "moreUsernames", After: true})
	}
	if t.lockouts > 0 {
		diff = append(diff, audit.Change{Field: "lockouts", After: t.lockouts})
	}
	if t.refused > 0 {
		diff = append(diff, audit.Change{Field: "refusedUnchecked", After: t.refused})
	}
	return audit.Entry{Actor: UnknownActor, Action: "session.login", Target: unknownTarget, Result: audit.Failure, Remote: addr, Diff: diff}
}

// FlushFailures writes the aggregate records of windows that have ended,
// or of all windows when all is set (at shutdown). Serve calls it.
func (s *Service) FlushFailures(all bool) {
	due := s.fails.due(s.o.Now().UTC(), all)
	addrs := make([]string, 0, len(due))
	for a := range due {
		addrs = append(addrs, a)
	}
	slices.Sort(addrs)
	for _, a := range addrs {
		_ = s.record(due[a].entry(a)) // a failure is logged by record
	}
}
