package demo

import (
	"context"
	"fmt"
	mrand "math/rand/v2"
	"strings"
	"time"

	"github.com/lockstep-sync/lockstep/agent/internal/sandbox"
)

// Generate edits both sandboxes as their users would, once every every,
// until ctx ends: it creates items, changes statuses and priorities, and
// adds comments and attachments, more often on the Helpdesk side.
func Generate(ctx context.Context, help, eng *Sandbox, every time.Duration) {
	r := mrand.New(mrand.NewPCG(uint64(time.Now().UnixNano()), 1))
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		side, typ := help, "incident"
		if r.IntN(3) == 0 {
			side, typ = eng, "bug"
		}
		edit(r, side.Server.Store(), side.Project, typ)
	}
}

var (
	titles = []string{"Printer on fire", "VPN drops every hour", "Login page times out", "Invoice totals off by one cent",
		"Search ignores accents", "Export to CSV hangs", "Mobile app crashes on start", "Password reset mail never arrives"}
	users      = []string{"alice", "bob", "carol", "dave"}
	priorities = []string{"low", "medium", "high", "critical"}
	findings   = []string{"cannot reproduce yet", "found the cause", "fix is on the way", "customer confirmed"}
)

// edit makes one change in project: a new item (always when there is
// none), or a change to one of its items. A refused change is left out:
// the next tick makes another.
func edit(r *mrand.Rand, store *sandbox.Store, p sandbox.Project, typ string) {
	page, err := store.ListItems(sandbox.Query{Project: p.Key, Limit: 100})
	if err != nil {
		return
	}
	if len(page.Items) == 0 || r.IntN(4) == 0 {
		store.CreateItem(sandbox.NewItem{Project: p.Key, Type: typ, Title: titles[r.IntN(len(titles))],
			Description: "Reported by **" + users[r.IntN(len(users))] + "**.\n\n- seen today\n- affects several people",
			Status:      p.Statuses[0], Priority: priorities[r.IntN(len(priorities))], Labels: []string{"demo"}})
		return
	}
	it := page.Items[r.IntN(len(page.Items))]
	switch r.IntN(4) {
	case 0:
		st := p.Statuses[r.IntN(len(p.Statuses))]
		store.UpdateItem(it.Key, sandbox.Patch{Status: &st}, 0)
	case 1:
		pr := priorities[r.IntN(len(priorities))]
		store.UpdateItem(it.Key, sandbox.Patch{Priority: &pr}, 0)
	case 2:
		store.AddComment(it.Key, users[r.IntN(len(users))], "Looked into this: "+findings[r.IntN(len(findings))]+".")
	default:
		store.AddAttachment(it.Key, fmt.Sprintf("log-%d.txt", r.IntN(1000)), "text/plain", users[r.IntN(len(users))],
			strings.NewReader(strings.Repeat("2026-11-27 12:00:00 ERROR something happened\n", 1+r.IntN(50))))
	}
}
