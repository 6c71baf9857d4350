package alert

import (
	"slices"
	"time"
)

// A batch holds bounded memory whatever arrives: groups past maxGroups and
// keys past maxKeys are only counted.
const (
	maxGroups = 50
	maxKeys   = 5
)

// Group is the notices of one kind about one thing, counted.
type Group struct {
	Notice  Notice // the first one; Key is unset when keys differ
	Count   int
	Keys    []string // up to maxKeys distinct keys (parked pairs)
	FirstAt time.Time
	LastAt  time.Time
}

// batch collects notices until a channel sends them.
type batch struct {
	groups  map[string]*Group
	order   []string
	omitted int // notices in groups beyond maxGroups
	total   int
	oldest  time.Time
}

func newBatch() *batch { return &batch{groups: map[string]*Group{}} }

func (b *batch) empty() bool { return b.total == 0 }

func (b *batch) add(n Notice) {
	b.addCounted(n, 1, nil)
}

func (b *batch) addCounted(n Notice, count int, keys []string) {
	if b.total == 0 || n.At.Before(b.oldest) {
		b.oldest = n.At
	}
	b.total += count
	k := n.group()
	g, ok := b.groups[k]
	if !ok {
		if len(b.groups) >= maxGroups {
			b.omitted += count
			return
		}
		g = &Group{Notice: n, FirstAt: n.At, LastAt: n.At}
		g.Notice.Key = ""
		b.groups[k] = g
		b.order = append(b.order, k)
	}
	g.Count += count
	if n.At.Before(g.FirstAt) {
		g.FirstAt = n.At
	}
	if n.At.After(g.LastAt) {
		g.LastAt = n.At
	}
	if keys == nil && n.Key != "" {
		keys = []string{n.Key}
	}
	for _, key := range keys {
		if len(g.Keys) < maxKeys && !slices.Contains(g.Keys, key) {
			g.Keys = append(g.Keys, key)
		}
	}
}

// merge adds o's notices to b (a send failed: they go out with the next).
func (b *batch) merge(o *batch) {
	for _, k := range o.order {
		g := o.groups[k]
		n := g.Notice
		n.At = g.FirstAt
		b.addCounted(n, g.Count, g.Keys)
		if last := b.groups[k]; last != nil && g.LastAt.After(last.LastAt) {
			last.LastAt = g.LastAt
		}
	}
	if o.omitted > 0 {
		if b.total == 0 || o.oldest.Before(b.oldest) {
			b.oldest = o.oldest
		}
		b.omitted += o.omitted
		b.total += o.omitted
	}
}

// sorted lists the groups in message order: by kind, then by first time.
func (b *batch) sorted() []Group {
	out := make([]Group, 0, len(b.order))
	for _, k := range b.order {
		out = append(out, *b.groups[k])
	}
	slices.SortStableFunc(out, func(x, y Group) int {
		if d := kindOrder[x.Notice.Kind] - kindOrder[y.Notice.Kind]; d != 0 {
			return d
		}
		return x.FirstAt.Compare(y.FirstAt)
	})
	return out
}

// Pacing is how a channel spaces its messages.
type Pacing struct {
	// GroupWait is how long the first notice after a quiet spell waits for
	// others (a run parks many pairs at once; an outage fails a system and
	// then its processes).
	GroupWait time.Duration
	// MinInterval is the least time between two messages.
	MinInterval time.Duration
}

// Retry backoff after a failed send: 30 s, doubling up to 30 min.
const (
	retryFirst = 30 * time.Second
	retryMax   = 30 * time.Minute
)

func backoff(failures int) time.Duration {
	d := retryFirst
	for i := 1; i < failures && d < retryMax; i++ {
		d *= 2
	}
	return min(d, retryMax)
}

// due says whether a channel should send its pending batch at now.
func due(now time.Time, pending *batch, lastSent, retryAt time.Time, p Pacing) bool {
	switch {
	case pending.empty():
		return false
	case now.Sub(pending.oldest) < p.GroupWait:
		return false
	case !lastSent.IsZero() && now.Sub(lastSent) < p.MinInterval:
		return false
	case !retryAt.IsZero() && now.Before(retryAt):
		return false
	}
	return true
}
