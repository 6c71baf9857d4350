package rig

import (
	"context"
	"sync"
	"time"

	"github.com/lockstep-sync/lockstep/agent/internal/connector"
	"github.com/lockstep-sync/lockstep/agent/internal/syncer"
)

// Bare is what the engine's benchmarks measure it against: a client that
// makes only the API calls the changes need, with the engine's
// parallelism. It reads each page of HELP's changes since a time and hands
// the page's items to as many workers as the engine uses, which create
// each new item as a bug in ENG (and copy its comments) or write the
// changed title to the peer it created before.
type Bare struct {
	from, to connector.Connector
	comments bool

	mu    sync.Mutex
	peers map[string]connector.Ref // source key -> peer
}

// NewBare copies from's HELP items to to's ENG project, with their
// comments when comments is set.
func NewBare(from, to connector.Connector, comments bool) *Bare {
	return &Bare{from: from, to: to, comments: comments, peers: map[string]connector.Ref{}}
}

func (br *Bare) one(ctx context.Context, e connector.Entity) error {
	br.mu.Lock()
	peer, ok := br.peers[e.Key]
	br.mu.Unlock()
	if ok {
		_, err := br.to.Update(ctx, peer, connector.Fields{"title": e.Title}, "")
		return err
	}
	created, err := br.to.Create(ctx, "ENG", "bug", connector.Fields{"title": e.Title, "status": e.Fields["status"], "priority": e.Fields["priority"]},
		connector.Marker{System: "bare", Key: e.Key})
	if err != nil {
		return err
	}
	br.mu.Lock()
	br.peers[e.Key] = created.Ref
	br.mu.Unlock()
	if !br.comments {
		return nil
	}
	cs, err := br.from.Comments(ctx, e.Ref)
	if err != nil {
		return err
	}
	for _, cm := range cs {
		if _, err := br.to.AddComment(ctx, created.Ref, connector.NewComment{Body: cm.Body, Author: cm.Author}); err != nil {
			return err
		}
	}
	return nil
}

// Sync copies the changes since a time (all of them from the zero time).
func (br *Bare) Sync(ctx context.Context, since time.Time) error {
	work := make(chan connector.Entity)
	errs := make(chan error, syncer.Parallelism)
	var wg sync.WaitGroup
	for range syncer.Parallelism {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for e := range work {
				if err := br.one(ctx, e); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	cursor := ""
	var err error
	for err == nil {
		var page connector.Page
		if page, err = br.from.Changes(ctx, "HELP", since, cursor); err != nil {
			break
		}
		for _, e := range page.Entities {
			select {
			case work <- e:
			case err = <-errs:
			}
			if err != nil {
				break
			}
		}
		if page.Cursor == "" {
			break
		}
		cursor = page.Cursor
	}
	close(work)
	wg.Wait()
	if err == nil {
		select {
		case err = <-errs:
		default:
		}
	}
	return err
}
