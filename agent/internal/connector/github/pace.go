package github

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/lockstep-sync/lockstep/agent/internal/connector"
	"github.com/lockstep-sync/lockstep/agent/internal/connector/httpx"
)

// maxPaceWait bounds how long one write waits for its turn; beyond it the
// write fails as rate limited and the engine tries the item again later,
// instead of holding a worker for up to an hour.
const maxPaceWait = 2 * time.Minute

// pacer keeps GitHub's mutative requests within its secondary limits
// ("Best practices for using the REST API": make requests serially and
// wait at least a second between POST, PATCH, PUT and DELETE requests;
// "Rate limits for the REST API": no more than 80 content-generating
// requests a minute and 500 an hour). Each write reserves the first
// moment that keeps every limit, in the order writes ask, so concurrent
// writers queue instead of bursting; content creations (new issues and
// comments) are also counted in sliding windows of a minute and an hour,
// each at the moment its answer came back (GitHub counted it somewhere
// between the send and the answer), so network delays cannot squeeze more
// into a window than it takes.
type pacer struct {
	mu        sync.Mutex
	gap       time.Duration // between two writes
	perMinute int           // creations in any window of one minute
	perHour   int           // creations in any window of sixty minutes
	minute    time.Duration // a minute; tests shorten it to run fast
	last      time.Time     // the last write's reserved moment
	created   []stamp       // creations within the last hour, ascending
	seq       uint64
	now       func() time.Time
	sleep     func(ctx context.Context, d time.Duration) error
}

// stamp is one creation: when it was reserved, then answered.
type stamp struct {
	id uint64
	at time.Time
}

func newPacer(gap time.Duration, perMinute, perHour int, minute time.Duration, now func() time.Time) *pacer {
	return &pacer{gap: gap, perMinute: max(1, perMinute), perHour: max(1, perHour), minute: minute, now: now, sleep: httpx.Sleep}
}

// wait holds a write until its turn; create says it makes content. The
// returned function records when the write's answer came.
func (p *pacer) wait(ctx context.Context, create bool) (func(), error) {
	at, id, err := p.reserve(create)
	if err != nil {
		return func() {}, err
	}
	done := func() { p.answered(id) }
	return done, p.sleep(ctx, at.Sub(p.now()))
}

// answered moves a creation's stamp to now.
func (p *pacer) answered(id uint64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.now()
	for i := range p.created {
		if p.created[i].id == id && now.After(p.created[i].at) {
			p.created[i].at = now
		}
	}
	slices.SortStableFunc(p.created, func(a, b stamp) int { return a.at.Compare(b.at) })
}

// reserve picks a write's moment and records it.
func (p *pacer) reserve(create bool) (time.Time, uint64, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.now()
	hour := 60 * p.minute
	for len(p.created) > 0 && !p.created[0].at.After(now.Add(-hour)) {
		p.created = p.created[1:]
	}
	at := now
	if !p.last.IsZero() && p.last.Add(p.gap).After(at) {
		at = p.last.Add(p.gap)
	}
	if create {
		// The window (at-minute, at] may hold perMinute-1 creations at
		// most: the perMinute-th latest one must have left it.
		if n := len(p.created); n >= p.perMinute {
			if t := p.created[n-p.perMinute].at.Add(p.minute); t.After(at) {
				at = t
			}
		}
		if n := len(p.created); n >= p.perHour {
			if t := p.created[n-p.perHour].at.Add(hour); t.After(at) {
				at = t
			}
		}
	}
	if wait := at.Sub(now); wait > maxPaceWait {
		return time.Time{}, 0, fmt.Errorf("GitHub's content creation limit is spent until %s (%d an hour): %w",
			at.UTC().Format(time.RFC3339), p.perHour, connector.ErrRateLimited)
	}
	p.last = at
	p.seq++
	if create {
		p.created = append(p.created, stamp{id: p.seq, at: at})
	}
	return at, p.seq, nil
}
